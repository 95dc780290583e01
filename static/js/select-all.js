/* "Choose all" for a list of checkboxes (a static file: the Content-Security-Policy forbids inline
   scripts). A checkbox with data-select-all="NAME" checks or clears every checkbox named NAME on the
   page, and shows "some chosen" (indeterminate) when only some are. Without this script the boxes are
   chosen one by one, as before. */
(function () {
  "use strict";

  function boxes(name) {
    return Array.prototype.slice.call(document.querySelectorAll('input[type="checkbox"][name="' + name + '"]'));
  }

  function reflect(master, name) {
    var all = boxes(name);
    var chosen = all.filter(function (box) { return box.checked; }).length;
    master.checked = all.length > 0 && chosen === all.length;
    master.indeterminate = chosen > 0 && chosen < all.length;
  }

  function enhance(master) {
    var name = master.getAttribute("data-select-all");
    master.hidden = false;
    if (master.labels) {
      Array.prototype.forEach.call(master.labels, function (label) { label.hidden = false; });
    }
    master.addEventListener("change", function () {
      boxes(name).forEach(function (box) { box.checked = master.checked; });
      master.indeterminate = false;
    });
    boxes(name).forEach(function (box) {
      box.addEventListener("change", function () { reflect(master, name); });
    });
    reflect(master, name);
  }

  function enhanceAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-select-all]"), enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhanceAll);
  } else {
    enhanceAll();
  }
}());
