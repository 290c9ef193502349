// Polls an import's progress endpoint and updates the bar until the import has finished.
(function () {
  "use strict";
  function start(box) {
    var url = box.getAttribute("data-progress-url");
    var bar = box.querySelector("progress");
    var text = box.querySelector(".import-progress-text");
    var link = box.querySelector(".import-rejections");
    function render(data) {
      bar.value = data.percent;
      text.textContent = data.state_display + " \u2014 " + data.percent + "% \u2014 " + data.rows_read +
        " rows read, " + data.imported + " imported, " + data.updated + " updated, " +
        data.duplicates + " duplicate" + (data.duplicates === 1 ? "" : "s") + ", " +
        data.rejected + " rejected" + (data.error ? " \u2014 " + data.error : "");
      if (link) { link.hidden = !(data.rejected > 0); }
      box.setAttribute("data-state", data.state);
    }
    function poll() {
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.json(); })
        .then(function (data) {
          render(data);
          if (!data.finished) { window.setTimeout(poll, 1000); }
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    }
    poll();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-progress-url]").forEach(start);
  });
})();
