/* Accessibility fixes for the admin's own widgets (axe-core, WCAG 2.1 A/AA), applied as
   they appear (a MutationObserver: the widgets build and rebuild their markup in JS):
   - filter_horizontal (SelectFilter2.js) names its search icons with an aria-label on a bare
     <span>, which ARIA prohibits: role="img" makes the label allowed;
   - the autocomplete widgets (select2) leave their combobox and search box unnamed and put
     a search box inside their list: they get the field's label, and the list's roles go;
   - split date and time inputs get their field's label;
   - a list filter choice whose value is empty gets the text "(empty)". */
(function () {
  "use strict";
  function labelOf(select) {
    var label = select.id && document.querySelector('label[for="' + select.id + '"]');
    return (label ? label.textContent : select.name).replace(/[:*]\s*$/, "").replace(/\s+/g, " ").trim();
  }
  function fixSelect2(select) {
    var box = select.nextElementSibling;
    if (!box || !box.classList.contains("select2")) { return; }
    var name = labelOf(select);
    box.querySelectorAll(".select2-selection").forEach(function (el) {
      var shown = box.querySelector(".select2-selection__rendered");
      var value = shown && shown.getAttribute("title") ? ": " + shown.getAttribute("title") : "";
      if (el.getAttribute("aria-label") !== name + value) {
        el.removeAttribute("aria-labelledby");
        el.setAttribute("aria-label", name + value);
      }
    });
    box.querySelectorAll('.select2-selection__rendered[role="textbox"]').forEach(function (el) {
      el.setAttribute("aria-label", name);
    });
    box.querySelectorAll(".select2-search__field:not([aria-label])").forEach(function (el) {
      el.setAttribute("aria-label", "Search " + name);
    });
    box.querySelectorAll("ul.select2-selection__rendered:not([role]), ul.select2-selection__rendered > li:not([role])")
      .forEach(function (el) { el.setAttribute("role", "none"); });
  }
  function fix() {
    document.querySelectorAll("span.help-tooltip[aria-label]:not([role])").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
    document.querySelectorAll("select.admin-autocomplete").forEach(fixSelect2);
    document.querySelectorAll(".select2-dropdown .select2-search__field:not([aria-label])").forEach(function (el) {
      el.setAttribute("aria-label", "Search");
    });
    // split date and time inputs (AdminSplitDateTime) have no label of their own
    document.querySelectorAll("p.datetime").forEach(function (p) {
      var row = p.closest(".form-row, .fieldBox, div");
      var label = row && row.querySelector("label");
      var name = label ? label.textContent.replace(/[:*]\s*$/, "").trim() : "";
      p.querySelectorAll("input.vDateField:not([aria-label])").forEach(function (el) { el.setAttribute("aria-label", name + " (date)"); });
      p.querySelectorAll("input.vTimeField:not([aria-label])").forEach(function (el) { el.setAttribute("aria-label", name + " (time)"); });
    });
    document.querySelectorAll("#changelist-filter a").forEach(function (a) {
      if (!a.textContent.trim()) { a.textContent = "(empty)"; }
    });
  }
  var queued = false;
  function later() {
    if (queued) { return; }
    queued = true;
    window.requestAnimationFrame(function () { queued = false; fix(); });
  }
  function start() {
    fix();
    new MutationObserver(later).observe(document.body, {childList: true, subtree: true});
    window.addEventListener("load", fix);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
