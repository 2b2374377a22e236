// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Confirmation before acting: a <dialog> that repeats the action and the endorsement text.
  var dialog = document.querySelector("[data-confirm-dialog]");

  function confirmThen(form, submitter) {
    dialog.querySelector("[data-confirm-text]").textContent = submitter.dataset.confirm;
    var comment = form.querySelector("[data-comment]");
    var quote = dialog.querySelector("[data-confirm-comment]");
    quote.hidden = !(comment && comment.value.trim());
    if (!quote.hidden) quote.textContent = comment.value.trim();
    dialog.returnValue = "";
    dialog.onclose = function () {
      if (dialog.returnValue !== "ok") return;
      form.dataset.confirmed = "yes";
      form.requestSubmit(submitter);
    };
    dialog.showModal();
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var wantsConfirm = submitter && submitter.dataset.confirm && dialog && dialog.showModal;
    if (wantsConfirm && form.dataset.confirmed !== "yes") {
      event.preventDefault();
      confirmThen(form, submitter);
      return;
    }
    // One click, one request. Disable after this event, not during it: a button disabled
    // now would drop its own name and value (the action) from what the form sends.
    setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    }, 0);
  }, true);

  // Quick-pick endorsement phrases.
  document.querySelectorAll("[data-phrase]").forEach(function (chip) {
    chip.addEventListener("click", function () {
      var box = chip.closest("form").querySelector("[data-comment]");
      box.value = chip.dataset.phrase;
      box.focus();
      var gap = box.value.indexOf("…");
      if (gap >= 0) box.setSelectionRange(gap, gap + 1);
    });
  });

  // A table wider than the screen scrolls sideways in its own box. A keyboard user reaches
  // such a box with Tab and scrolls it with the arrow keys, so it takes the focus (and a
  // name to announce) only while it is narrower than its table.
  var scrollers = document.querySelectorAll(".table-wrap, .memo-body table");
  function nameOf(box) {
    var section = box.closest("section, article");
    var heading = section && section.querySelector("h1, h2");
    var what = box.tagName === "TABLE" ? "ตารางในบันทึก" : "ตาราง" + (heading ? " " + heading.textContent.trim() : "");
    return what + " (เลื่อนซ้าย–ขวาเพื่อดูทั้งหมด)";
  }
  function markScrollers() {
    scrollers.forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        if (box.tagName !== "TABLE") box.setAttribute("role", "region");
        box.dataset.scrollFocus = box.hasAttribute("aria-label") ? "kept" : "named";
        if (box.dataset.scrollFocus === "named") box.setAttribute("aria-label", nameOf(box));
      } else if (!scrolls && box.dataset.scrollFocus) {
        box.removeAttribute("tabindex");
        if (box.tagName !== "TABLE") box.removeAttribute("role");
        if (box.dataset.scrollFocus === "named") box.removeAttribute("aria-label");
        delete box.dataset.scrollFocus;
      }
    });
  }
  markScrollers();
  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(markScrollers, 150);
  });

  // The body editor: a contenteditable view over the HTML textarea the server reads.
  function syncEditor(form) {
    var editor = form && form.querySelector("[data-editor]");
    if (editor && !editor.hidden) form.querySelector(".body-source").value = editor.innerHTML;
  }
  document.querySelectorAll("[data-memo-form]").forEach(function (form) {
    var editor = form.querySelector("[data-editor]");
    var source = form.querySelector(".body-source");
    var toolbar = form.querySelector("[data-editor-toolbar]");
    if (!editor || !source) return;
    editor.innerHTML = source.value;
    editor.hidden = false;
    toolbar.hidden = false;
    source.hidden = true;
    toolbar.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-cmd]");
      if (!button) return;
      document.execCommand(button.dataset.cmd, false, button.dataset.arg || null);
      editor.focus();
    });
    form.addEventListener("submit", function () { syncEditor(form); });
  });

  // The amount field matters only for a route that decides by amount: say so beside it, and
  // mark it required, when such a route is chosen (the server judges either way).
  document.querySelectorAll("[data-amount-field]").forEach(function (field) {
    var routes = (field.dataset.amountRoutes || "").split(" ");
    var select = document.getElementById("route_id");
    var input = field.querySelector("input");
    var hint = field.querySelector("[data-amount-hint]");
    if (!select || !input) return;
    function sync() {
      var asks = routes.indexOf(select.value) >= 0;
      input.required = asks;
      if (hint) hint.textContent = asks ? "ต้องระบุ: สายการเสนอนี้พิจารณาตามวงเงิน" : "(ถ้ามี)";
    }
    select.addEventListener("change", sync);
    sync();
  });
})();
