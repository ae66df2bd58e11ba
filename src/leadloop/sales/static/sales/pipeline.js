// The pipeline board: drag a card to another stage to move the lead. Without this file (or
// without scripting) each card's "Move to" form does the same.
//
// A drop posts the move and swaps in the board the server answers with: the lead where the
// lifecycle left it (a refused move snaps back) and the message saying what happened.
(function () {
  "use strict";

  // Answers that carry the board (refusals included); anything else reloads the page.
  var BOARD_ANSWERS = [200, 403, 409, 422];

  function csrfToken(card) {
    var field = card.querySelector("input[name='csrfmiddlewaretoken']");
    return field ? field.value : "";
  }

  function move(card, stage) {
    var board = document.getElementById("pipeline-board");
    var body = new FormData();
    var filters = document.getElementById("pipeline-filters");
    if (filters) {
      new FormData(filters).forEach(function (value, name) { if (value) body.append(name, value); });
    }
    body.append("to", stage);
    if (board) board.setAttribute("aria-busy", "true");
    fetch(card.getAttribute("data-move-url"), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(card), "HX-Request": "true" },
    }).then(function (response) {
      if (BOARD_ANSWERS.indexOf(response.status) === -1) throw new Error(String(response.status));
      return response.text();
    }).then(function (html) {
      window.htmx.swap(document.getElementById("pipeline-board"), html, { swapStyle: "outerHTML" });
    }).catch(function () {
      window.location.reload();
    });
  }

  function wire(root) {
    if (!window.Sortable) return;
    var lists = root.querySelectorAll ? root.querySelectorAll(".pipeline-column__cards[data-stage]") : [];
    lists.forEach(function (list) {
      if (window.Sortable.get(list)) return;
      window.Sortable.create(list, {
        group: "pipeline",
        sort: false,
        draggable: ".pipeline-card",
        // The card's link, menu and button keep working: only the rest of the card drags.
        filter: "a, select, option, button, label",
        preventOnFilter: false,
        // The browser's own drag and drop with a mouse; on a touch screen Sortable follows the
        // finger itself.
        // On a phone a finger that scrolls the page must not pick up a card: hold to drag.
        delay: 200,
        delayOnTouchOnly: true,
        ghostClass: "pipeline-card--ghost",
        chosenClass: "pipeline-card--chosen",
        onEnd: function (event) {
          if (event.from === event.to) return;
          move(event.item, event.to.getAttribute("data-stage"));
        },
      });
    });
  }

  if (window.htmx) window.htmx.onLoad(wire);
  document.addEventListener("DOMContentLoaded", function () { wire(document); });
})();
