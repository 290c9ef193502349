/* The dashboard: the daily chart (Chart.js, vendored under static/vendor/chartjs), and live
   progress without a reload for campaigns sending and syncs queued or running. */
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

  function getJSON(url) {
    return fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); });
  }

  function pollCampaign(cell) {
    getJSON(cell.dataset.url).then(function (d) {
      cell.querySelector("progress").value = d.progress;
      cell.querySelector(".pct").textContent = d.progress + " %";
      var row = cell.closest("tr");
      var state = row && row.querySelector(".state");
      if (state) { state.textContent = d.state_display; }
      if (d.state === "sampling" || d.state === "sending") { setTimeout(function () { pollCampaign(cell); }, 4000); }
    }).catch(function () { setTimeout(function () { pollCampaign(cell); }, 15000); });
  }

  function cell(text) { var td = document.createElement("td"); td.textContent = text; return td; }

  function pollSyncs(table) {
    getJSON(table.dataset.url).then(function (d) {
      var body = table.tBodies[0];
      body.innerHTML = "";
      d.runs.forEach(function (r) {
        var tr = document.createElement("tr");
        tr.dataset.state = r.state;
        [r.id, r.direction + " " + r.resource, r.by, r.created_at, r.state_display, r.summary].forEach(function (v) {
          tr.appendChild(cell(v));
        });
        body.appendChild(tr);
      });
      if (d.runs.some(function (r) { return r.state === "queued" || r.state === "running"; })) {
        setTimeout(function () { pollSyncs(table); }, 3000);
      }
    }).catch(function () { setTimeout(function () { pollSyncs(table); }, 15000); });
  }

  function start() {
    draw();
    Array.prototype.forEach.call(document.querySelectorAll(".live-progress[data-url]"), function (c) {
      setTimeout(function () { pollCampaign(c); }, 4000);
    });
    var syncs = document.getElementById("sync-runs");
    if (syncs && syncs.querySelector('tr[data-state="queued"], tr[data-state="running"]')) {
      setTimeout(function () { pollSyncs(syncs); }, 3000);
    }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
