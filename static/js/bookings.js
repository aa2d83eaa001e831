// Booking pages: show times in the visitor's own time zone from the first view.
// Without this script the page still works: the server shows the coach's zone and
// the zone field (a text input with a list of zones to search, and a button, so
// typing never reloads the page) changes it.
(function () {
  "use strict";
  var input = document.querySelector("[data-bk-zone-select]");
  if (!input) return;
  var list = input.list;
  var options = list ? list.options : [];
  var detected = "";
  try { detected = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { detected = ""; }
  var match = Array.prototype.filter.call(options, function (o) { return o.value === detected; })[0];
  var params = new URLSearchParams(window.location.search);
  if (match && input.hasAttribute("data-bk-autodetect") && !params.has("tz") && detected !== input.value) {
    params.set("tz", detected);
    window.location.replace(window.location.pathname + "?" + params.toString());
    return;
  }
  // The visitor's own zone comes right after the zone in use, even when they picked another.
  if (match && list.firstElementChild !== match) {
    list.insertBefore(match, list.firstElementChild.nextSibling);
  }
  // The field holds a full zone name, which filters the list down to itself:
  // selecting it on focus lets the first key typed start a new search.
  input.addEventListener("focus", function () { input.select(); });
})();
