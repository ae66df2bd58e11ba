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

  // Alpine components. Alpine's CSP build (no eval, so no 'unsafe-eval' in the policy) reads
  // only simple expressions in the templates: names, calls, comparisons. Everything else lives
  // here, registered by name and used as x-data="name".
  document.addEventListener("alpine:init", function () {
    var Alpine = window.Alpine;

    // The page shell: on narrow screens the side navigation slides in and out.
    Alpine.data("shell", function () {
      return {
        navOpen: false,
        toggleNav: function () { this.navOpen = !this.navOpen; },
        closeNav: function () { this.navOpen = false; },
        navExpanded: function () { return this.navOpen ? "true" : "false"; },
        navClass: function () { return { "is-open": this.navOpen }; },
      };
    });

    // Ticking rows in the lead list: a count for the bulk bar and "select all on this page".
    Alpine.data("bulkSelect", function () {
      return {
        count: 0,
        total: 0,
        init: function () { this.recount(); },
        boxes: function () { return Array.from(this.$root.querySelectorAll('input[name="ids"]')); },
        allChecked: function () { return this.count > 0 && this.count === this.total; },
        recount: function () {
          var boxes = this.boxes();
          this.total = boxes.length;
          this.count = boxes.filter(function (b) { return b.checked; }).length;
        },
        toggleAll: function (event) {
          var checked = event.target.checked;
          this.boxes().forEach(function (b) { b.checked = checked; });
          this.recount();
        },
      };
    });

    // The bulk bar's status change: a lost reason only for "lost".
    Alpine.data("bulkStatus", function () {
      return {
        to: "",
        isLost: function () { return this.to === "lost"; },
      };
    });

    // A filter form that applies itself on every change.
    // A part a phone keeps behind one button (the lead list's filters, its save and export
    // tools); CSS shows it on wider screens, where the button is not shown.
    Alpine.data("disclosure", function () {
      return {
        open: false,
        toggle: function () { this.open = !this.open; },
        expanded: function () { return this.open ? "true" : "false"; },
        panelClass: function () { return { "is-open": this.open }; },
      };
    });

    Alpine.data("autoSubmit", function () {
      return {
        submit: function () { this.$root.submit(); },
      };
    });

    // "Copy" beside a block of text (x-ref="text"); says "Copied" for two seconds.
    Alpine.data("copyText", function () {
      return {
        copied: false,
        copy: function () {
          var self = this;
          navigator.clipboard.writeText(this.$refs.text.textContent).then(function () {
            self.copied = true;
            window.setTimeout(function () { self.copied = false; }, 2000);
          });
        },
      };
    });

    // A grading rule's fields: the extra field's name only when the field is "Extra field".
    Alpine.data("gradingFields", function () {
      return {
        kind: "",
        init: function () { this.read(); },
        read: function () {
          var select = this.$root.querySelector("select[name$='-field']");
          this.kind = select ? select.value : "";
        },
        showsExtraKey: function () {
          return this.kind === "extra" || this.$el.hasAttribute("data-has-errors");
        },
      };
    });

    // Fix and reprocess a submission: label/value rows, read from the page's JSON (json_script).
    Alpine.data("fixRows", function () {
      return {
        next: 0,
        rows: [],
        init: function () {
          var self = this;
          var data = document.getElementById(this.$root.getAttribute("data-rows"));
          this.rows = JSON.parse(data.textContent).map(function (row) {
            return { label: row.label, value: row.value, id: self.next++ };
          });
        },
        remove: function (index) { this.rows.splice(index, 1); },
        add: function () {
          var root = this.$root;
          this.rows.push({ label: "", value: "", id: this.next++ });
          this.$nextTick(function () {
            var inputs = root.querySelectorAll(".row-edit input[name='label']");
            if (inputs.length) inputs[inputs.length - 1].focus();
          });
        },
      };
    });

    // A lead's extra fields as name/value rows: add a blank row, remove one.
    Alpine.data("keyValueRows", function () {
      return {
        add: function () { this.append(this.$refs.list, this.$refs.blank); },
        append: function (list, blank) {
          var row = blank.content.firstElementChild.cloneNode(true);
          list.append(row);
          row.querySelector("input").focus();
        },
        remove: function () {
          // Find the refs first: once the row is gone, the button can no longer find them.
          var list = this.$refs.list;
          var blank = this.$refs.blank;
          this.$el.closest(".kv-row").remove();
          if (!list.querySelector(".kv-row")) this.append(list, blank);
        },
      };
    });

    // A source's field mapping: add and remove rows; every change refreshes the preview.
    Alpine.data("mappingEditor", function () {
      return {
        add: function (section, key, value) {
          var template = document.getElementById("blank-" + section);
          var row = template.content.firstElementChild.cloneNode(true);
          var inputs = row.querySelectorAll("input, select, textarea");
          if (key) inputs[0].value = key;
          if (value) inputs[1].value = value;
          document.getElementById("rows-" + section).append(row);
          (key ? inputs[1] : inputs[0]).focus();
          if (key) this.changed();
        },
        addRow: function () { this.add(this.$el.getAttribute("data-section")); },
        addSeen: function () {
          this.add("fields", this.$el.getAttribute("data-label"), this.$el.getAttribute("data-target"));
        },
        remove: function () {
          // Find the form first: once the row is gone, the button can no longer find its refs.
          var form = this.$refs.form;
          this.$el.closest(".row-edit").remove();
          this.changed(form);
        },
        changed: function (form) {
          (form || this.$refs.form).dispatchEvent(new Event("change", { bubbles: true }));
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
