/* The password page's aids (templates/registration/password_change_form.html): a checklist of the
   rules the page lists for this account, updated as the officer types, and show/hide buttons for
   the password fields. An aid only: the server's validators decide. Served by the portal, no inline
   script, so a Content-Security-Policy without 'unsafe-inline' allows it. Without this script the
   fields stay password fields, the buttons stay hidden and the rules read as a plain list. */
(function () {
  "use strict";

  // The same classes as policy.validators.CharacterClassValidator: Unicode letters, so "Đ" and "ă" count.
  var checks = {
    min_length: function (password, value) { return Array.from(password).length >= value; },
    upper: function (password) { return /\p{Lu}/u.test(password); },
    lower: function (password) { return /\p{Ll}/u.test(password); },
    digit: function (password) { return /\p{Nd}/u.test(password); },
    // A combining accent (an NFD keyboard's "e" + "`") is part of its letter, not a special character.
    special: function (password) { return /[^\p{L}\p{M}\p{N}\s]/u.test(password); },
    match: function (password, value, confirmation) { return password !== "" && password === confirmation; }
  };

  function setUpChecklist(list) {
    var password = document.getElementById(list.dataset.password);
    var confirmation = document.getElementById(list.dataset.confirmation);
    var states = list.parentNode.querySelector(".checklist-states");
    if (!password || !states) { return; }
    var items = list.querySelectorAll("li[data-check]");

    function update() {
      items.forEach(function (item) {
        var check = checks[item.dataset.check];
        if (!check) { return; }
        // NFC, the form the portal compares text in (portal/text.py): "Đèn" typed as NFD is 3 letters, not 4.
        var typed = password.value.normalize("NFC");
        var confirmed = confirmation ? confirmation.value.normalize("NFC") : "";
        var met = check(typed, Number(item.dataset.value), confirmed);
        item.classList.toggle("met", met);
        item.classList.toggle("unmet", !met);
        item.querySelector(".rule-state").textContent = "(" + (met ? states.dataset.met : states.dataset.unmet) + ")";
      });
    }

    list.classList.add("live");
    password.addEventListener("input", update);
    if (confirmation) { confirmation.addEventListener("input", update); }
    update();
  }

  function setUpToggle(button) {
    var field = document.getElementById(button.getAttribute("aria-controls"));
    if (!field) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var show = field.type === "password";
      field.type = show ? "text" : "password";
      button.setAttribute("aria-pressed", show ? "true" : "false");
    });
    // The form is never sent with the text showing: the browser would otherwise offer to keep it as
    // ordinary form history instead of a password.
    if (field.form) {
      field.form.addEventListener("submit", function () {
        field.type = "password";
        button.setAttribute("aria-pressed", "false");
      });
    }
  }

  document.querySelectorAll("[data-password-checklist]").forEach(setUpChecklist);
  document.querySelectorAll("button.password-toggle[aria-controls]").forEach(setUpToggle);
})();
