// Live Markdown preview in the guide editor, rendered by the same code as the site.
(function () {
  "use strict";
  function start() {
    var field = document.getElementById("id_body");
    var target = document.getElementById("guide-live-preview");
    var stats = document.getElementById("guide-preview-stats");
    if (!field || !target) return;
    var token = document.querySelector("input[name=csrfmiddlewaretoken]");
    var timer = null;
    function refresh() {
      var data = new FormData();
      data.append("body", field.value);
      fetch(target.getAttribute("data-url"), {
        method: "POST",
        body: data,
        headers: { "X-CSRFToken": token ? token.value : "" },
        credentials: "same-origin"
      })
        .then(function (response) { return response.json(); })
        .then(function (payload) {
          target.innerHTML = payload.html;  // sanitised on the server by nh3
          if (stats) {
            stats.textContent = payload.words + " words, about " +
              Math.max(1, Math.round(payload.words / 230)) + " min read";
          }
        })
        .catch(function () { target.textContent = "The preview is unavailable right now."; });
    }
    field.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, 400);
    });
    if (field.value) refresh();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
