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

// Condition rows: field, operator, value (and key for "attribute"), written to the JSON field.
(function () {
  "use strict";
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) { node.textContent = text; }
    return node;
  }
  function options(select, values, labels, current) {
    select.innerHTML = "";
    values.forEach(function (v) {
      var o = el("option", {value: v}, labels ? labels[v] || v : v);
      if (v === current) { o.selected = true; }
      select.appendChild(o);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var area = document.getElementById("id_conditions");
    if (!area || !area.getAttribute("data-fields")) { return; }
    var fields = JSON.parse(area.getAttribute("data-fields"));
    var ops = JSON.parse(area.getAttribute("data-ops"));
    var box = el("div", {"class": "segment-conditions", id: "segment-conditions"});
    var list = el("div", {"class": "segment-condition-rows"});
    var add = el("button", {type: "button", "class": "button segment-condition-add"}, "Add condition");
    box.appendChild(list);
    box.appendChild(add);
    area.parentNode.insertBefore(box, area);

    function write() {
      var rows = Array.prototype.map.call(list.children, function (row) {
        var item = {field: row.querySelector(".c-field").value, op: row.querySelector(".c-op").value};
        if (item.field === "attribute") { item.key = row.querySelector(".c-key").value.trim(); }
        var raw = row.querySelector(".c-value").value;
        if (item.op === "in" || item.op === "between") {
          item.value = raw.split(",").map(function (v) { return v.trim(); }).filter(Boolean);
        } else if (item.op !== "set" && item.op !== "unset") {
          item.value = raw.trim();
        }
        return item;
      });
      area.value = JSON.stringify(rows);
      area.dispatchEvent(new Event("input", {bubbles: true}));
    }
    function addRow(item) {
      item = item || {field: "country", op: "eq", value: ""};
      var row = el("div", {"class": "segment-condition"});
      var field = el("select", {"class": "c-field", "aria-label": "Field"});
      var key = el("input", {"class": "c-key", type: "text", placeholder: "attribute", size: "12", "aria-label": "Attribute"});
      var op = el("select", {"class": "c-op", "aria-label": "Operator"});
      var value = el("input", {"class": "c-value", type: "text", size: "30", "aria-label": "Value",
        placeholder: "value (comma-separated for 'is one of' and 'between')"});
      var remove = el("button", {type: "button", "class": "button c-remove"}, "Remove");
      options(field, Object.keys(fields), null, item.field);
      function refreshOps(current) {
        options(op, fields[field.value], ops, current);
        key.hidden = field.value !== "attribute";
      }
      refreshOps(item.op);
      key.value = item.key || "";
      value.value = Array.isArray(item.value) ? item.value.join(", ") : (item.value || "");
      field.addEventListener("change", function () { refreshOps(); write(); });
      [op, key, value].forEach(function (n) { n.addEventListener("change", write); n.addEventListener("input", write); });
      remove.addEventListener("click", function () { row.remove(); write(); });
      [field, key, op, value, remove].forEach(function (n) { row.appendChild(n); });
      list.appendChild(row);
    }
    var initial = [];
    try { initial = JSON.parse(area.value || "[]") || []; } catch (e) { initial = null; }
    if (Array.isArray(initial)) { initial.forEach(addRow); }
    add.addEventListener("click", function () { addRow(); write(); });
  });
})();
