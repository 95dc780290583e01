// The idle warning (policy.middleware.SessionIdleTimeoutMiddleware ends a session after the policy's
// idle minutes): a minute before, a banner offers to stay signed in; at the deadline the page goes to
// the sign-in page, which says why. The server decides; this only tells the person in time.
(function () {
  "use strict";
  var body = document.body;
  var left = parseInt(body.getAttribute("data-idle-seconds"), 10);
  var warnBefore = parseInt(body.getAttribute("data-idle-warning"), 10) || 60;
  var loginUrl = body.getAttribute("data-login-url");
  var banner = document.querySelector("[data-testid=idle-warning]");
  if (isNaN(left) || !banner) {
    return;
  }
  var deadline = Date.now() + left * 1000;
  var timer = null;

  function schedule() {
    if (timer) {
      window.clearTimeout(timer);
    }
    var untilWarning = deadline - Date.now() - warnBefore * 1000;
    if (untilWarning > 0) {
      banner.hidden = true;
      timer = window.setTimeout(schedule, Math.min(untilWarning, 2147483000));
      return;
    }
    var untilEnd = deadline - Date.now();
    if (untilEnd > 0) {
      banner.hidden = false;
      timer = window.setTimeout(schedule, Math.min(untilEnd + 1000, 2147483000));
      return;
    }
    // Past the deadline: the server has ended the session; show the sign-in page that says so.
    window.location.assign(loginUrl + "&next=" + encodeURIComponent(window.location.pathname + window.location.search));
  }

  var form = banner.querySelector("form");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                        headers: {"Accept": "application/json"}, redirect: "manual"})
      .then(function (response) {
        if (!response.ok) {
          throw new Error("session ended");
        }
        return response.json();
      })
      .then(function (answer) {
        deadline = Date.now() + answer.idle_seconds_left * 1000;
        schedule();
      })
      .catch(function () {
        deadline = Date.now();
        schedule();
      });
  });
  schedule();
})();
