// Leadloop's small behaviours. Everything works without this file; it only adds comfort.
(function () {
  "use strict";

  // "/" focuses the search box of the page, as in most web apps; not while typing elsewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var tag = target && target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable)) return;
    var box = document.querySelector("[data-hotkey-search]");
    if (!box) return;
    event.preventDefault();
    box.focus();
    box.select();
  });

  // Dropdowns built on <details>: close when clicking elsewhere or pressing Escape.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.dropdown[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.dropdown[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      var summary = menu.querySelector("summary");
      if (summary && menu.contains(document.activeElement)) summary.focus();
    });
  });

  // Ticking rows in the lead list: a count for the bulk bar and "select all on this page".
  document.addEventListener("alpine:init", function () {
    window.Alpine.data("bulkSelect", function () {
      return {
        count: 0,
        total: 0,
        init: function () { this.recount(); },
        boxes: function () { return Array.from(this.$root.querySelectorAll('input[name="ids"]')); },
        recount: function () {
          var boxes = this.boxes();
          this.total = boxes.length;
          this.count = boxes.filter(function (b) { return b.checked; }).length;
        },
        toggleAll: function (checked) {
          this.boxes().forEach(function (b) { b.checked = checked; });
          this.recount();
        },
      };
    });
  });

  // After HTMX swaps in new content, move focus to its first error so keyboard users land there.
  document.addEventListener("htmx:afterSwap", function (event) {
    var invalid = event.detail.target && event.detail.target.querySelector
      ? document.querySelector('[aria-invalid="true"]')
      : null;
    if (invalid) invalid.focus();
  });
})();
