// Booking pages: show times in the visitor's own time zone from the first view.
// Without this script the page still works: the server shows the coach's zone and
// the picker (a select and a button, so arrow keys never reload the page) changes it.
(function () {
  "use strict";
  var select = document.querySelector("[data-bk-zone-select]");
  if (!select) return;
  var params = new URLSearchParams(window.location.search);
  if (select.hasAttribute("data-bk-autodetect") && !params.has("tz")) {
    var detected = "";
    try { detected = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { detected = ""; }
    var known = Array.prototype.some.call(select.options, function (o) { return o.value === detected; });
    if (detected && known && detected !== select.value) {
      params.set("tz", detected);
      window.location.replace(window.location.pathname + "?" + params.toString());
      return;
    }
  }
})();
