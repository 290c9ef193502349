/* Live preview of a template in the admin form: charset, length, parts, rules, price.
   Vanilla JS; asks messaging:template-preview (JSON) as the content changes. */
(function () {
  "use strict";
  function field(name) { return document.getElementById("id_" + name); }
  function value(name) {
    var el = field(name);
    if (!el) { return ""; }
    if (el.type === "checkbox") { return el.checked ? "1" : ""; }
    return el.value;
  }
  function esc(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }
  function highlight(content, chars) {
    var set = {};
    chars.forEach(function (c) { set[c] = true; });
    return Array.from(content).map(function (c) {
      return set[c] ? '<mark title="forces Unicode">' + esc(c) + "</mark>" : esc(c);
    }).join("");
  }
  function render(box, content, data) {
    var a = data.analysis;
    var html = "<p><strong>" + a.charset + "</strong> · " + a.characters + " characters · " +
      a.units + " units · <strong>" + a.parts + " part" + (a.parts === 1 ? "" : "s") + "</strong>" +
      " (" + a.per_part + " per part)";
    if (a.extension_chars.length) {
      html += " · counting double: " + esc(a.extension_chars.join(" "));
    }
    if (data.price_per_recipient) {
      html += " · price per recipient: <strong>" + esc(data.price_per_recipient) + " " + esc(data.currency || "") + "</strong>";
    }
    if (data.variables.length) {
      html += " · <small>{{variables}} counted as typed: the values sent change the length</small>";
    }
    html += "</p>";
    if (a.unicode_chars.length) {
      html += '<p class="preview-text">' + highlight(content, a.unicode_chars) + "</p>";
    }
    if (data.rules.length) {
      html += "<ul>" + data.rules.map(function (r) {
        return '<li class="rule-' + r.level + '">' + r.level + " [" + esc(r.code) + "] " + esc(r.message) + "</li>";
      }).join("") + "</ul>";
    } else {
      html += '<p class="rule-ok">All template rules pass.</p>';
    }
    box.innerHTML = html;
  }
  document.addEventListener("DOMContentLoaded", function () {
    var content = field("content");
    if (!content || !content.dataset.previewUrl) { return; }
    var box = document.createElement("div");
    box.className = "template-preview";
    box.setAttribute("aria-live", "polite");
    content.parentNode.appendChild(box);
    var timer = null;
    function refresh() {
      var body = new URLSearchParams();
      ["channel", "content", "name", "template_type", "message_type", "sender", "consent_template",
       "channel_payload"].forEach(function (n) { body.append(n, value(n)); });
      var csrf = document.querySelector("[name=csrfmiddlewaretoken]");
      fetch(content.dataset.previewUrl, {
        method: "POST", body: body, credentials: "same-origin",
        headers: {"X-CSRFToken": csrf ? csrf.value : ""}
      }).then(function (r) { return r.json(); })
        .then(function (data) { render(box, content.value, data); })
        .catch(function () { box.textContent = "Preview unavailable."; });
    }
    function later() { clearTimeout(timer); timer = setTimeout(refresh, 250); }
    ["content", "channel", "template_type", "message_type", "sender", "consent_template", "channel_payload", "name"]
      .forEach(function (n) {
        var el = field(n);
        if (el) { el.addEventListener("input", later); el.addEventListener("change", later); }
      });
    refresh();
  });
})();
