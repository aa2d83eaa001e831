// Guide page: reading progress, the current section in the contents, and a view count.
(function () {
  "use strict";
  var article = document.querySelector("article.guide");
  if (!article) return;

  var bar = document.querySelector(".reading-progress-bar");
  var links = Array.prototype.slice.call(document.querySelectorAll(".toc-list a"));
  var headings = links
    .map(function (link) { return document.getElementById(link.getAttribute("href").slice(1)); })
    .filter(Boolean);

  function onScroll() {
    var body = article.querySelector(".guide-body");
    var rect = body.getBoundingClientRect();
    var total = rect.height - window.innerHeight;
    var done = total > 0 ? Math.min(1, Math.max(0, -rect.top / total)) : 1;
    if (bar) bar.style.transform = "scaleX(" + done.toFixed(3) + ")";
    var current = null;
    // Current once a heading is near where a jump puts it (the page's scroll padding).
    var line = (parseFloat(getComputedStyle(document.documentElement).scrollPaddingTop) || 80) + 40;
    for (var i = 0; i < headings.length; i++) {
      if (headings[i].getBoundingClientRect().top <= line) current = headings[i].id;
      else break;
    }
    links.forEach(function (link) {
      if (link.getAttribute("href") === "#" + current) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    });
  }
  var ticking = false;
  window.addEventListener("scroll", function () {
    if (ticking) return;
    ticking = true;
    window.requestAnimationFrame(function () { onScroll(); ticking = false; });
  }, { passive: true });
  onScroll();

  // On a phone the contents start folded; they close again after a jump.
  var details = document.querySelector(".toc-details");
  if (details && window.matchMedia("(max-width: 1099px)").matches) {
    details.open = false;
    links.forEach(function (link) {
      link.addEventListener("click", function () { details.open = false; });
    });
  }

  // Counted once per page load, after a few seconds of reading: no cookies, no third party.
  var url = article.getAttribute("data-view-url");
  if (url && navigator.sendBeacon) {
    window.setTimeout(function () { navigator.sendBeacon(url); }, 3000);
  }
})();
