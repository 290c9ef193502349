// Live count in the segment editor: posts the unsaved rules, shows matching and opted-out.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("segment-live-count");
    var form = document.getElementById("segment_form");
    if (!box || !form) { return; }
    var url = box.getAttribute("data-preview-url");
    var output = box.querySelector(".segment-live-count-text");
    var timer = null;
    function selected(name) {
      // filter_horizontal keeps the chosen tags in a select named after the field
      var select = form.querySelector("select[name='" + name + "']");
      if (!select) { return []; }
      return Array.prototype.filter.call(select.options, function (o) {
        return o.selected || select.id.endsWith("_to");
      }).map(function (o) { return o.value; });
    }
    function refresh() {
      var data = new FormData();
      data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
      ["positive_tags", "negative_tags"].forEach(function (name) {
        selected(name).forEach(function (value) { data.append(name, value); });
      });
      ["positive_tags_operator", "negative_tags_operator", "conditions"].forEach(function (name) {
        var field = form.querySelector("[name=" + name + "]");
        if (field) { data.append(name, field.value); }
      });
      output.textContent = "Counting\u2026";
      fetch(url, {method: "POST", body: data, credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (result) {
          if (!result.ok) { output.textContent = result.error; return; }
          var text = result.total + " contacts match, " + result.unsubscribed +
            " of them unsubscribed (" + result.reachable + " reachable).";
          if (result.local_only_reasons.length) {
            text += " Local only: " + result.local_only_reasons.join(", ") + ".";
          }
          output.textContent = text;
        })
        .catch(function () { output.textContent = "Count unavailable."; });
    }
    function later() { window.clearTimeout(timer); timer = window.setTimeout(refresh, 400); }
    form.addEventListener("change", later);
    form.addEventListener("input", later);
    form.addEventListener("click", function (e) {
      if (e.target.closest(".selector-chooser, .selector-chooseall, .selector-clearall")) { later(); }
    });
    refresh();
  });
})();
