// The turnover request form: each line shows only the fields its action needs (progressive
// enhancement — without this script every field stays visible and the server still validates).
(function () {
  "use strict";
  var FIELDS = {
    "": [],
    "disable": ["account", "departure_reason"],
    "change_role": ["account", "new_role"],
    "change_lookup": ["account", "new_can_lookup"],
    "move": ["account", "new_unit"],
    "create": ["full_name", "username", "email", "phone", "new_role", "new_can_lookup", "new_unit"]
  };

  function fieldName(input) {
    var parts = input.name.split("-");
    return parts[parts.length - 1];
  }

  function update(line, action) {
    var wanted = FIELDS[action] || [];
    line.querySelectorAll(".field").forEach(function (wrapper) {
      // The named control: a picker's search box (no name) goes before the <select> it fills.
      var input = wrapper.querySelector("input[name], select[name], textarea[name]");
      if (!input) { return; }
      var name = fieldName(input);
      var keep = name === "action" || wanted.indexOf(name) !== -1 || wrapper.classList.contains("has-error");
      wrapper.hidden = !keep;
    });
  }

  document.querySelectorAll("fieldset.turnover-line").forEach(function (line) {
    var action = line.querySelector("select[name$='-action']");
    if (!action) { return; }
    update(line, action.value);
    action.addEventListener("change", function () { update(line, action.value); });
  });
})();
