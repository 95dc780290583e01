/* Unit picker (accounts.forms.UnitPicker): a unit <select> becomes a text box that searches as you
   type, with a list of matches — the ARIA 1.2 combobox pattern (list autocomplete, manual selection):
   Down/Up move through the matches, Enter chooses, Escape closes the list (a second Escape clears
   text that chose nothing). The <select> stays in the form, hidden, and carries the chosen id: without
   this script, or when the search does not answer, it is the plain list it always was. The server
   checks the chosen id against the reader's scope either way. Served by the portal (no CDN), loaded
   with `defer` by every picker on a page: the second run finds the pickers already enhanced. */
(function () {
  "use strict";

  var DELAY_MS = 150;
  var serial = 0;

  function optionLabel(option) {
    // The <select> indents by depth ("— — UBND phường …"); the text box shows the plain name.
    return option ? option.text.replace(/^(—\s)+/, "") : "";
  }

  function enhance(root) {
    var select = root.querySelector("select");
    if (!select || root.hasAttribute("data-enhanced")) {
      return;
    }
    root.setAttribute("data-enhanced", "");
    serial += 1;
    var baseId = (select.id || "unit-picker") + "-" + serial;

    var input = document.createElement("input");
    input.type = "text";
    input.id = baseId + "-search";
    input.className = "unit-picker-input";
    input.autocomplete = "off";
    input.spellcheck = false;
    input.placeholder = root.getAttribute("data-placeholder") || "";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.maxLength = 100;

    var listbox = document.createElement("ul");
    listbox.id = baseId + "-listbox";
    listbox.className = "unit-picker-listbox";
    listbox.setAttribute("role", "listbox");
    listbox.hidden = true;
    input.setAttribute("aria-controls", listbox.id);

    var status = document.createElement("span");
    status.id = baseId + "-status";
    status.className = "unit-picker-status";
    status.setAttribute("role", "status");
    // The text box takes over what described the <select> (its error and help text, the ids Django
    // names in aria-describedby), then the status line: an error stays tied to the field one types in.
    var described = select.getAttribute("aria-describedby");
    input.setAttribute("aria-describedby", (described ? described + " " : "") + status.id);

    // The field's <label for=…> now names the text box; a wrapping <label> names its first control,
    // which the text box becomes by going before the <select>.
    var label = select.id ? document.querySelector('label[for="' + select.id + '"]') : null;
    if (label) {
      label.htmlFor = input.id;
      label.id = label.id || baseId + "-label";
      listbox.setAttribute("aria-labelledby", label.id);
    }
    if (select.required) {
      input.setAttribute("aria-required", "true");
    }
    if (root.closest(".has-error")) {
      input.setAttribute("aria-invalid", "true");
    }
    input.value = select.value ? optionLabel(select.options[select.selectedIndex]) : "";

    // The list opens right under the text box; the status line (matches found, nothing found) under both.
    var box = document.createElement("span");
    box.className = "unit-picker-box";
    box.appendChild(input);
    box.appendChild(listbox);
    root.insertBefore(box, select);
    root.appendChild(status);
    select.hidden = true;
    select.tabIndex = -1;

    var results = [];
    var active = -1;
    var timer = null;
    var asked = 0;

    function say(text) {
      status.textContent = text || "";
    }

    function close() {
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var options = listbox.children;
      if (active >= 0 && options[active]) {
        options[active].setAttribute("aria-selected", "false");
      }
      active = index;
      if (index >= 0 && options[index]) {
        options[index].setAttribute("aria-selected", "true");
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({block: "nearest"});
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(index) {
      var unit = results[index];
      if (!unit) {
        return;
      }
      var value = String(unit.id);
      var found = false;
      for (var i = 0; i < select.options.length; i += 1) {
        if (select.options[i].value === value) {
          found = true;
          break;
        }
      }
      if (!found) {
        select.add(new Option(unit.label, value));
      }
      select.value = value;
      input.value = unit.label;
      close();
      say("");
      select.dispatchEvent(new Event("change", {bubbles: true}));
    }

    function show(units) {
      results = units;
      listbox.textContent = "";
      units.forEach(function (unit, index) {
        var option = document.createElement("li");
        option.id = baseId + "-option-" + index;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.textContent = unit.label;
        if (unit.parent) {
          var parent = document.createElement("small");
          parent.textContent = unit.parent;
          option.appendChild(parent);
        }
        // mousedown, not click: the text box keeps the focus, so the list is not closed by a blur first.
        option.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(index);
        });
        listbox.appendChild(option);
      });
      active = -1;
      if (units.length) {
        listbox.hidden = false;
        input.setAttribute("aria-expanded", "true");
        say((root.getAttribute("data-found") || "").replace("{count}", String(units.length)));
      } else {
        close();
        say(root.getAttribute("data-empty"));
      }
    }

    function fallBack() {
      // The search does not answer: the plain <select> again, so the form still works.
      close();
      box.remove();
      if (label) {
        label.htmlFor = select.id;
      }
      select.hidden = false;
      select.tabIndex = 0;
      say(root.getAttribute("data-failed"));
    }

    function search() {
      asked += 1;
      var mine = asked;
      var url = root.getAttribute("data-search-url");
      url += (url.indexOf("?") === -1 ? "?" : "&") + "q=" + encodeURIComponent(input.value.trim());
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) {
          return response.json().then(function (body) {
            return {ok: response.ok, body: body};
          });
        })
        .then(function (answer) {
          if (mine !== asked) {
            return;  // a later keystroke asked again; its answer counts
          }
          if (!answer.ok) {
            show([]);
            say(answer.body.error || root.getAttribute("data-empty"));
            return;
          }
          show(answer.body.results || []);
        })
        .catch(function () {
          if (mine === asked) {
            fallBack();
          }
        });
    }

    input.addEventListener("input", function () {
      // What is typed no longer names the chosen unit: the field is empty until one is chosen.
      select.value = "";
      clearTimeout(timer);
      timer = setTimeout(search, DELAY_MS);
    });

    input.addEventListener("keydown", function (event) {
      var open = !listbox.hidden;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!open) {
          search();
        } else {
          highlight(active + 1 < results.length ? active + 1 : 0);
        }
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        if (open) {
          highlight(active > 0 ? active - 1 : results.length - 1);
        }
      } else if (event.key === "Enter") {
        if (open && active >= 0) {
          event.preventDefault();  // choosing a unit does not submit the form
          choose(active);
        }
      } else if (event.key === "Escape") {
        if (open) {
          event.preventDefault();
          close();
        } else if (select.value === "" && input.value !== "") {
          input.value = "";
        }
      } else if (event.key === "Tab") {
        close();
      }
    });

    input.addEventListener("blur", function () {
      close();
    });
  }

  function enhanceAll() {
    var roots = document.querySelectorAll("[data-unit-picker]");
    for (var i = 0; i < roots.length; i += 1) {
      enhance(roots[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhanceAll);
  } else {
    enhanceAll();
  }
}());
