/* Campaign wizard, audience step: the number of contacts in the chosen segments and tags,
   updated as the choice changes (the preview later counts opt-outs and missing variables). */
(function () {
  "use strict";
  function start() {
    var out = document.getElementById("audience-count");
    var form = out && out.closest("form");
    if (!form) { return; }
    var timer = null;
    function refresh() {
      var params = new URLSearchParams();
      ["segments", "tags"].forEach(function (name) {
        var select = form.elements[name];
        if (!select) { return; }
        Array.prototype.forEach.call(select.selectedOptions, function (o) { params.append(name, o.value); });
      });
      if (!params.toString()) { out.textContent = "Choose segments or tags to see how many contacts they hold."; return; }
      fetch(out.dataset.url + "?" + params.toString(), {credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (d) {
          out.textContent = d.total + " contact" + (d.total === 1 ? "" : "s") + " in this audience, " +
            d.valid + " with a valid number.";
        })
        .catch(function () { out.textContent = "The count is not available right now."; });
    }
    function changed(e) {
      if (e.target.name === "segments" || e.target.name === "tags") { clearTimeout(timer); timer = setTimeout(refresh, 250); }
    }
    form.addEventListener("change", changed);
    // The searchable multi-selects (the admin's select2) announce changes through jQuery only.
    if (window.django && window.django.jQuery) { window.django.jQuery(form).on("change", "select", changed); }
    refresh();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
