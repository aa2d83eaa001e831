// Click-to-load video: the page links to the video on its host and shows the coach's
// poster; only a click replaces the link with the host's player, so no request goes to
// YouTube or Vimeo before the visitor asks for the video. Chapters start it at their time.
(function () {
  "use strict";
  var poster = document.querySelector(".video-poster[data-embed]");
  if (!poster) return;

  function startAt(url, seconds) {
    if (!seconds) return url;
    return url.indexOf("vimeo") !== -1 ? url + "#t=" + seconds + "s" : url + "&start=" + seconds;
  }

  function play(seconds) {
    var frame = document.createElement("iframe");
    frame.src = startAt(poster.getAttribute("data-embed"), seconds);
    frame.title = poster.getAttribute("data-title") || "Video";
    frame.allow = "autoplay; fullscreen; picture-in-picture; encrypted-media";
    frame.allowFullscreen = true;
    frame.className = "video-frame";
    var current = document.querySelector(".video-frame") || poster;
    current.replaceWith(frame);
    frame.focus();
  }

  poster.addEventListener("click", function (event) {
    event.preventDefault();
    play(0);
  });
  document.querySelectorAll(".video-chapters a[data-start]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      play(parseInt(link.getAttribute("data-start"), 10) || 0);
    });
  });
})();
