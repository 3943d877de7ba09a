/* The forecast chart of the campaign page: messages per hour over the next 7 days (Chart.js,
   vendored under channels/static/channels/vendor/chartjs). Data: the #forecast-data JSON. */
(function () {
  "use strict";
  var canvas = document.getElementById("forecast-chart");
  var source = document.getElementById("forecast-data");
  if (!canvas || !source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var chart = new Chart(canvas, {
    type: "bar",
    data: data,
    options: {
      animation: false,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { stacked: true, ticks: { autoSkip: true, maxTicksLimit: 14, maxRotation: 0 } },
        y: { stacked: true, beginAtZero: true, title: { display: true, text: "messages per hour" } }
      },
      plugins: { legend: { position: "bottom" } }
    }
  });
  canvas.dataset.ready = "1";
  window.campaignForecastChart = chart;
})();
