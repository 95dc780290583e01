// The print button of printed records (no inline scripts: the pages' CSP-ready markup).
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});
