// The analytics charts: each <canvas data-chart="id"> is drawn from the JSON the page carries in
// <script type="application/json" id="id"> (Django's json_script), in the page's language.
// The table beside each chart holds the same figures, for screen readers and for export.
(function () {
  "use strict";
  var palette = ["#4f46e5", "#f79009", "#12b76a", "#f04438", "#0ba5ec", "#7a5af8"];
  var locale = document.documentElement.lang || "en";

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof Chart === "undefined") return;
    var spec = JSON.parse(source.textContent);
    spec.datasets.forEach(function (set, index) {
      set.backgroundColor = set.backgroundColor || palette[index % palette.length];
      set.borderColor = set.borderColor || set.backgroundColor;
    });
    var format = new Intl.NumberFormat(locale, spec.percent ? { style: "percent", maximumFractionDigits: 1 } : { maximumFractionDigits: 0 });
    new Chart(canvas, {
      type: spec.type || "bar",
      data: { labels: spec.labels, datasets: spec.datasets },
      options: {
        locale: locale,
        indexAxis: spec.horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (item) {
                return item.dataset.label + ": " + format.format(item.raw);
              },
            },
          },
        },
        scales: {
          [spec.horizontal ? "x" : "y"]: {
            beginAtZero: true,
            ticks: { callback: function (value) { return format.format(value); } },
          },
        },
      },
    });
    canvas.dataset.drawn = "true";
  }

  function drawAll(root) {
    (root || document).querySelectorAll("canvas[data-chart]:not([data-drawn])").forEach(draw);
  }
  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSwap", function (event) { drawAll(event.target); });
})();
