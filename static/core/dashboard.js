/* The dashboard's daily chart (Chart.js, vendored under static/vendor/chartjs). */
(function () {
  "use strict";
  function draw() {
    var canvas = document.getElementById("daily-chart");
    var source = document.getElementById("daily-data");
    if (!canvas || !source || typeof window.Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var colours = {sms: "#205067", whatsapp: "#2e7d32", viber: "#6a3fa0"};
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.datasets.map(function (ds) {
          return {label: ds.label, data: ds.data, backgroundColor: colours[ds.channel] || "#666"};
        })
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: {x: {stacked: true}, y: {stacked: true, beginAtZero: true, ticks: {precision: 0}}},
        plugins: {legend: {position: "bottom"}}
      }
    });
    canvas.dataset.ready = "1";
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
