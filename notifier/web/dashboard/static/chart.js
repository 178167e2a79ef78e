// Records per phase per day, drawn with the vendored uPlot from JSON the server embedded.
(function () {
  "use strict";
  function draw() {
    var holder = document.getElementById("records-chart");
    var source = document.getElementById("records-data");
    if (!holder || !source || typeof uPlot === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    if (data.empty) { return; }
    var colors = { ingestion: "#1f77b4", transformation: "#2ca02c", training: "#ff7f0e", evaluation: "#9467bd" };
    var xs = data.days.map(function (day) { return Date.parse(day + "T00:00:00Z") / 1000; });
    var series = [{}];
    var columns = [xs];
    Object.keys(data.series).forEach(function (phase) {
      series.push({ label: phase, stroke: colors[phase] || "#333", width: 2, points: { show: true } });
      columns.push(data.series[phase]);
    });
    var options = {
      width: Math.max(holder.clientWidth, 320),
      height: 280,
      series: series,
      axes: [{}, { label: "records", size: 70 }],
      scales: { x: { time: true } },
    };
    new uPlot(options, columns, holder);
  }
  document.addEventListener("DOMContentLoaded", draw);
})();
