/* On a phone the main menu and the account links fold behind one "Menu" button (a static file: the
   Content-Security-Policy forbids inline scripts). Without this script everything stays shown, as on a
   desktop; with it, print.css-free pages get the button only below 640 px (portal.css). */
(function () {
  "use strict";

  // The skip link moves the focus into <main> without adding #main-content to the address: a form
  // without an action posts to the page's address, and the browser would carry the fragment through the
  // redirect, taking the focus from the next page's first field (autofocus). Without this script the
  // link still works as a plain link.
  function skipLink() {
    var link = document.querySelector("a.skip-link");
    var main = document.getElementById("main-content");
    if (!link || !main) {
      return;
    }
    link.addEventListener("click", function (event) {
      event.preventDefault();
      main.focus();
      main.scrollIntoView();
    });
  }

  // Below 800 px a table that is not stacked scrolls sideways inside its own box (portal.css). A box
  // that scrolls must be reachable with the keyboard, so that the arrow keys can scroll it (WCAG 2.1.1;
  // axe-core's scrollable-region-focusable): such a table joins the Tab order while, and only while, it
  // is wider than its box.
  function scrollingTables() {
    var tables = document.querySelectorAll("table.table:not(.stack)");
    Array.prototype.forEach.call(tables, function (table) {
      if (table.scrollWidth > table.clientWidth + 1) {
        table.setAttribute("tabindex", "0");
      } else if (table.getAttribute("tabindex") === "0") {
        table.removeAttribute("tabindex");
      }
    });
  }

  function enhance() {
    skipLink();
    scrollingTables();
    window.addEventListener("resize", scrollingTables);
    var bar = document.querySelector(".topbar");
    var button = bar && bar.querySelector(".menu-toggle");
    if (!button) {
      return;
    }
    document.documentElement.classList.add("js-menu");
    button.addEventListener("click", function () {
      var open = bar.classList.toggle("menu-open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && bar.classList.contains("menu-open")) {
        bar.classList.remove("menu-open");
        button.setAttribute("aria-expanded", "false");
        button.focus();
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhance);
  } else {
    enhance();
  }
}());
