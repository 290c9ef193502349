/* The campaign page: statuses over time as a stacked chart (Chart.js, vendored under
   static/vendor/chartjs), and live progress without a reload while the campaign is moving. */
(function () {
  "use strict";
  var COLOURS = {delivered: "#2e7d32", read: "#1b5e20", failed: "#ba2121", rejected: "#8e1b1b",
                 expired: "#b35c00", unknown: "#6a3fa0", submitted: "#7aa6c2", queued: "#c8c8c8"};
  var chart = null;

  function datasets(timeline) {
    return timeline.series.map(function (s) {
      return {label: s.label, data: s.data, fill: true, pointRadius: 0, borderWidth: 1,
              borderColor: COLOURS[s.status] || "#666", backgroundColor: COLOURS[s.status] || "#666"};
    });
  }

  function draw(timeline) {
    var canvas = document.getElementById("status-chart");
    if (!canvas || typeof window.Chart === "undefined" || !timeline.labels.length) { return; }
    if (chart) {
      chart.data.labels = timeline.labels;
      chart.data.datasets = datasets(timeline);
      chart.update("none");
      return;
    }
    chart = new window.Chart(canvas, {
      type: "line",
      data: {labels: timeline.labels, datasets: datasets(timeline)},
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: {mode: "index", intersect: false},
        scales: {x: {ticks: {maxTicksLimit: 12}}, y: {stacked: true, beginAtZero: true, ticks: {precision: 0}}},
        plugins: {legend: {position: "bottom"}}
      }
    });
    canvas.dataset.ready = "1";
  }

  function text(id, value) { var el = document.getElementById(id); if (el) { el.textContent = value; } }

  function refresh(url) {
    fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (d) {
        document.getElementById("bar").value = d.progress;
        text("state", d.state_display); text("total", d.total); text("parts", d.parts); text("cost", d.cost);
        text("rate", d.delivery_rate === null ? "—" : d.delivery_rate + " %");
        Object.keys(d.counts).forEach(function (s) {
          var cell = document.querySelector('#counts td[data-status="' + s + '"]');
          if (cell) { cell.textContent = d.counts[s]; }
        });
        draw(d.timeline);
        var busy = ["scheduled", "sampling", "sending"].indexOf(d.state) >= 0 || d.counts.submitted > 0 || d.counts.queued > 0;
        if (busy) { setTimeout(function () { refresh(url); }, 3000); }
      })
      .catch(function () { setTimeout(function () { refresh(url); }, 10000); });
  }

  function start() {
    var root = document.getElementById("campaign");
    var source = document.getElementById("timeline-data");
    if (!root) { return; }
    if (source) { draw(JSON.parse(source.textContent)); }
    setTimeout(function () { refresh(root.dataset.progressUrl); }, 3000);
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
