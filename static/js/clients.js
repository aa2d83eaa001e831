// Pipeline board: drag a card to a column; the move is POSTed to the admin with the
// CSRF token. Each card also has a plain "Move to" form that works without this file.
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }
  ready(function () {
    var board = document.querySelector("[data-board]");
    if (!board) return;
    var csrf = document.querySelector("#cl-csrf input[name=csrfmiddlewaretoken]");
    var errorBox = document.querySelector("[data-board-error]");
    var dragged = null;

    function count(column, delta) {
      var badge = column.querySelector("[data-count]");
      if (badge) badge.textContent = String(parseInt(badge.textContent, 10) + delta);
    }

    board.addEventListener("dragstart", function (event) {
      var card = event.target.closest ? event.target.closest(".cl-card") : null;
      if (!card) return;
      dragged = card;
      card.classList.add("cl-dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", card.dataset.contact);
    });
    board.addEventListener("dragend", function () {
      if (dragged) dragged.classList.remove("cl-dragging");
      board.querySelectorAll(".cl-over").forEach(function (c) { c.classList.remove("cl-over"); });
    });
    board.querySelectorAll(".cl-column").forEach(function (column) {
      column.addEventListener("dragover", function (event) {
        event.preventDefault();
        event.dataTransfer.dropEffect = "move";
        column.classList.add("cl-over");
      });
      column.addEventListener("dragleave", function () { column.classList.remove("cl-over"); });
      column.addEventListener("drop", function (event) {
        event.preventDefault();
        column.classList.remove("cl-over");
        var card = dragged;
        if (!card) return;
        var from = card.closest(".cl-column");
        if (from === column) return;
        var reason = "";
        if (column.dataset.lost) {
          reason = window.prompt("Why was this contact lost?") || "";
          if (!reason.trim()) return;
        }
        var body = new FormData();
        body.append("stage", column.dataset.stage);
        body.append("reason", reason);
        body.append("csrfmiddlewaretoken", csrf ? csrf.value : "");
        fetch(card.dataset.moveUrl, {
          method: "POST",
          body: body,
          credentials: "same-origin",
          headers: { "X-Requested-With": "fetch" },
        })
          .then(function (response) { return response.json(); })
          .then(function (data) {
            if (!data.ok) { errorBox.textContent = data.error || "The move was refused."; return; }
            errorBox.textContent = "";
            column.querySelector(".cl-cards").prepend(card);
            var select = card.querySelector("select[name=stage]");
            if (select) select.value = column.dataset.stage;
            card.dataset.stage = column.dataset.stage;
            count(from, -1);
            count(column, 1);
          })
          .catch(function () { errorBox.textContent = "The move could not be saved: try again."; });
      });
    });
  });
})();
