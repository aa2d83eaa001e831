// Interactive guide (templates/guides/_stack.html): a sticky bar naming the current part,
// previous/next buttons, j/k and arrow keys, and #part-N in the address while reading.
// Without this script the page still reads top to bottom with plain links.
(function () {
  "use strict";
  var root = document.querySelector("[data-stack]");
  if (!root) return;
  var parts = Array.prototype.slice.call(root.querySelectorAll("[data-part]"));
  if (!parts.length) return;
  var indicator = root.querySelector(".stack-indicator");
  var number = indicator.querySelector(".stack-current-number");
  var title = indicator.querySelector(".stack-current-title");
  var steps = indicator.querySelectorAll("[data-step]");
  var links = Array.prototype.slice.call(root.querySelectorAll(".stack-overview a[data-goto]"));
  var header = document.querySelector(".site-header");
  var current = -1;
  var stickAt = 0;

  indicator.hidden = false;
  root.querySelector(".stack-keys").hidden = false;

  // The bar sticks under the site header where that header sticks (not on a phone).
    function measure() {
    var top = header && getComputedStyle(header).position === "sticky" ? header.offsetHeight : 0;
    stickAt = top + indicator.offsetHeight;
    var style = document.documentElement.style;
    style.setProperty("--stack-top", top + "px");
    // Jumps (links, keys, #part-N) stop below the header and the bar, not under them.
    style.scrollPaddingTop = stickAt + 12 + "px";
  }

  function partInView() {
    // Near where a jump puts a part (below the bar once stuck): the same line guide.js
    // uses for the contents, so both name the same part.
    var line = stickAt + 12 + 40;
    var found = 0;
    for (var i = 0; i < parts.length; i++) {
      if (parts[i].getBoundingClientRect().top <= line) found = i + 1;
      else break;
    }
    return found;
  }

  function show(n) {
    if (n === current) return;
    current = n;
    if (n === 0) {
      number.textContent = parts.length + " parts";
      title.textContent = "At a glance";
    } else {
      number.textContent = "Part " + n + " of " + parts.length;
      title.textContent = parts[n - 1].getAttribute("data-title");
    }
    indicator.setAttribute("data-current", String(n));
    steps[0].disabled = n <= 1;
    steps[1].disabled = n >= parts.length;
    links.forEach(function (link) {
      if (link.getAttribute("data-goto") === String(n)) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    });
    // The address names the part being read, so copying it shares this part.
    var hash = n ? "#part-" + n : "";
    if (location.hash !== hash && (n || /^#part-\d+$/.test(location.hash))) {
      history.replaceState(null, "", location.pathname + location.search + hash);
    }
  }

  function go(n) {
    n = Math.max(1, Math.min(parts.length, n));
    var part = parts[n - 1];
    part.scrollIntoView({ block: "start" });
    part.focus({ preventScroll: true });
    show(n);
  }

  var ticking = false;
  window.addEventListener("scroll", function () {
    if (ticking) return;
    ticking = true;
    window.requestAnimationFrame(function () { show(partInView()); ticking = false; });
  }, { passive: true });
  window.addEventListener("resize", measure);

  Array.prototype.forEach.call(steps, function (button) {
    button.addEventListener("click", function () {
      go((current || 0) + Number(button.getAttribute("data-step")));
    });
  });
  links.forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      go(Number(link.getAttribute("data-goto")));
    });
  });

  var KEYS = { j: 1, ArrowRight: 1, k: -1, ArrowLeft: -1 };
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    var step = KEYS[event.key];
    if (!step) return;
    var target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable], summary")) return;
    event.preventDefault();
    go((current > 0 ? current : 0) + step);
  });

  measure();
  // A link to #part-N opens at that part, below the bar that has just appeared.
  var wanted = /^#part-(\d+)$/.exec(location.hash);
  if (wanted && Number(wanted[1]) >= 1 && Number(wanted[1]) <= parts.length) go(Number(wanted[1]));
  else show(partInView());
})();
