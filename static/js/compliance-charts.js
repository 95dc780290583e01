// The dashboard's two charts, drawn with Chart.js (served by the portal: static/vendor/chartjs-4.6.1).
// The data comes from the unit's chart.json (the same figures as the tables under each chart, which
// stay the accessible form of the chart); no inline script, so the page works under a strict CSP.
(function () {
  var trendCanvas = document.getElementById("trend-chart");
  if (!trendCanvas || typeof window.Chart === "undefined") {
    return;
  }
  var dailyCanvas = document.getElementById("daily-chart");
  var labels = trendCanvas.dataset;

  function dayLabel(iso) {
    var parts = iso.split("-");
    return parts[2] + "/" + parts[1] + "/" + parts[0];
  }

  function draw(data) {
    new window.Chart(trendCanvas, {
      type: "line",
      data: {
        labels: data.trend.map(function (point) { return dayLabel(point.day); }),
        datasets: [{label: labels.labelScore, data: data.trend.map(function (point) { return point.score; }),
                    borderColor: "#1f5fa8", backgroundColor: "rgba(31,95,168,0.12)", fill: true, pointRadius: 0,
                    tension: 0.2}]
      },
      options: {animation: false, maintainAspectRatio: false,
                scales: {x: {ticks: {maxTicksLimit: 12}}, y: {min: 0, max: 100}},
                plugins: {legend: {display: false}}}
    });
    if (dailyCanvas) {
      new window.Chart(dailyCanvas, {
        type: "bar",
        data: {
          labels: data.daily.map(function (row) { return dayLabel(row.day); }),
          datasets: [
            {label: labels.labelAllowed, data: data.daily.map(function (row) { return row.lookups_allowed; }),
             backgroundColor: "#2e8b57", stack: "lookups", yAxisID: "y"},
            {label: labels.labelRefused, data: data.daily.map(function (row) { return row.lookups_refused; }),
             backgroundColor: "#c0392b", stack: "lookups", yAxisID: "y"},
            {label: labels.labelLockouts, data: data.daily.map(function (row) { return row.lockouts; }),
             type: "line", borderColor: "#e67e22", backgroundColor: "#e67e22", yAxisID: "lockouts"}
          ]
        },
        options: {animation: false, maintainAspectRatio: false,
                  scales: {x: {stacked: true, ticks: {maxTicksLimit: 15}},
                           y: {stacked: true, beginAtZero: true, position: "left"},
                           lockouts: {position: "right", beginAtZero: true, grid: {drawOnChartArea: false},
                                      ticks: {precision: 0}}}}
      });
    }
  }

  fetch(trendCanvas.dataset.chartUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
    .then(function (response) {
      if (!response.ok) {
        throw new Error(response.status);
      }
      return response.json();
    })
    .then(draw)
    .catch(function () {
      trendCanvas.closest(".chart-box").hidden = true;
      if (dailyCanvas) {
        dailyCanvas.closest(".chart-box").hidden = true;
      }
    });
}());
