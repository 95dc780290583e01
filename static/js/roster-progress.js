// A page whose job runs in the background (a roster reconciliation, a large export): poll the job's
// progress (JSON, the box's data-progress-url) every second, move the bar, and reload the page once
// the job has finished.
// Without JavaScript the page's <noscript> refresh does the same, more slowly.
(function () {
  var box = document.querySelector("[data-progress-url]");
  if (!box) {
    return;
  }
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-progress-text]") || document.getElementById("roster-progress-text");
  var template = text.textContent.replace(/\d+/, "{done}").replace(/\d+/, "{total}");

  function poll() {
    fetch(box.getAttribute("data-progress-url"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) {
          throw new Error(response.status);
        }
        return response.json();
      })
      .then(function (progress) {
        if (!progress.running) {
          window.location.reload();
          return;
        }
        bar.max = Math.max(progress.rows_total, 1);
        bar.value = progress.rows_done;
        text.textContent = template.replace("{done}", progress.rows_done).replace("{total}", progress.rows_total);
        window.setTimeout(poll, 1000);
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }

  window.setTimeout(poll, 1000);
}());
