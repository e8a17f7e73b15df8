/* /admin/printers (onestop/backoffice/printers.py): check the printers, print a test slip, reprint a failed ticket, and show
   printer.alarm events live. Texts come from the page (data-msg-*), already translated. */
(function () {
  "use strict";
  var root = document.getElementById("printers");
  if (!root) { return; }
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";
  var status = document.getElementById("printers-message");
  var alarms = document.getElementById("printer-alarms");

  function text(key) { return root.getAttribute("data-msg-" + key) || ""; }

  function say(el, message) { if (el) { el.textContent = message; } }

  function post(url) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      body: "{}"
    }).then(function (res) {
      return res.json().then(function (body) { return { ok: res.ok, body: body }; });
    });
  }

  function printed(body) {
    if (body.print_error) { return text("failed") + ": " + body.print_error.message; }
    // the state in the page's words ("Đã in"), never the API's code ("printed")
    var state = text("state-" + String(body.print_state || "").replace(/_/g, "-"));
    return text("sent") + (state ? " (" + state + ")" : "");
  }

  function failed(body) {
    return (body && body.error && body.error.message) || text("error");
  }

  function act(button) {
    var action = button.getAttribute("data-action");
    var where = button.parentNode.querySelector(".row-message") || status;
    var url;
    if (action === "check") { url = "/api/v1/printers/check"; say(status, text("checking")); }
    else if (action === "test") { url = "/api/v1/printers/" + button.getAttribute("data-device") + "/test"; }
    else if (action === "reprint") { url = "/api/v1/tickets/" + button.getAttribute("data-ticket") + "/reprint"; }
    else { return; }
    button.disabled = true;
    post(url).then(function (res) {
      if (action === "check" && res.ok) { window.location.reload(); return; }
      say(where, res.ok ? printed(res.body) : failed(res.body));
    }).catch(function () { say(where, text("error")); })
      .then(function () { button.disabled = false; });
  }

  root.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (button) { act(button); }
  });

  function showAlarm(alarm) {
    var li = document.createElement("li");
    // the server words the alarm (onestop/printing/alarm_texts.py): no code, no driver text
    li.textContent = text("alarm") + ": " + (alarm.message || (alarm.device && alarm.device.name) || "");
    alarms.insertBefore(li, alarms.firstChild);
    while (alarms.children.length > 20) { alarms.removeChild(alarms.lastChild); }
  }

  if (window.io) {
    var socket = window.io("/counter", { transports: ["websocket", "polling"] });
    socket.on("printer.alarm", showAlarm);
  }
}());
