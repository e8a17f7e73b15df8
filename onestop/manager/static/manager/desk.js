/* The manager acts from the dashboard (issue 22): pause, resume or close a counter, move a
   field's waiting tickets, post a timed message on the hall displays; each counter's current
   ticket and how long it has been served; the fields waiting too long; the reception desk
   offered when a kiosk's printer is in alarm. GET /api/v1/dashboard/desk, reloaded on the
   /counter namespace's events (debounced) and every 15 s; actions are POST /api/v1/dashboard/... */
(function () {
  "use strict";
  var box = document.getElementById("desk");
  if (!box) return;
  var D = box.dataset;
  var S = JSON.parse(D.tStates || "{}");
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var timer = null;

  function $(id) { return document.getElementById(id); }
  function fill(text, values) {
    return String(text).replace(/%\((\w+)\)s/g, function (m, k) { return k in values ? values[k] : m; });
  }
  function say(text, bad) {
    var p = $("desk-message");
    p.textContent = text || "";
    p.hidden = !text;
    p.className = "desk-message" + (bad ? " is-bad" : "");
  }

  function call(url, body) {
    return fetch(url, {
      method: body ? "POST" : "GET", credentials: "same-origin", cache: "no-store",
      headers: body ? { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" }
        : { Accept: "application/json" },
      body: body ? JSON.stringify(body) : undefined
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (json) {
        if (!res.ok) { throw new Error((json.error && json.error.message) || res.statusText); }
        return json;
      });
    });
  }

  function minutes(seconds) { return (Math.floor(seconds / 6) / 10).toFixed(1).replace(".", ","); }

  function button(text, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "button";
    b.textContent = text;
    b.addEventListener("click", onClick);
    return b;
  }

  function td(tr, text, cls) {
    var cell = document.createElement("td");
    if (cls) cell.className = cls;
    cell.textContent = text;
    tr.appendChild(cell);
    return cell;
  }

  function act(counter, action, body) {
    call("/api/v1/dashboard/counters/" + counter.id + "/" + action, body || {}).then(load).catch(function (err) {
      say(err.message, true);
    });
  }

  function renderCounters(list) {
    var body = $("desk-counters");
    body.replaceChildren();
    list.forEach(function (c) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-counter", c.id);
      td(tr, c.name || String(c.number));
      td(tr, (S[c.state] || c.state) + (c.state === "paused" && c.pause_reason ? ": " + c.pause_reason : ""),
        "desk-state");
      td(tr, c.clerk || "—");
      td(tr, c.current ? c.current.label + " · " + (S[c.current.state] || c.current.state) : "—");
      td(tr, c.current ? minutes(c.current.seconds) : "—", "num");
      var tools = td(tr, "");
      if (c.state === "open") {
        tools.appendChild(button(D.tPause, function () { act(c, "pause", { reason: D.tPauseReason }); }));
      }
      if (c.state === "paused") { tools.appendChild(button(D.tResume, function () { act(c, "resume"); })); }
      if (c.state !== "closed") {
        tools.appendChild(button(D.tClose, function () {
          if (window.confirm(fill(D.tConfirmClose, { n: c.number }))) { close(c); }
        }));
      }
      body.appendChild(tr);
    });
  }

  function close(c) {
    call("/api/v1/dashboard/counters/" + c.id + "/close", {}).then(load).catch(function (err) {
      // tickets parked there: the manager's choice is to put them back in their queue
      if (/tạm giữ|parked/i.test(err.message) && window.confirm(D.tCloseParked)) {
        act(c, "close", { parked: "requeue" });
      } else { say(err.message, true); }
    });
  }

  function options(select, items) {
    var keep = select.value;
    select.replaceChildren();
    items.forEach(function (item) { select.add(new Option(item[1], item[0])); });
    if (keep) { select.value = keep; }
  }

  function renderClerks(rows) {
    var body = $("desk-clerks");
    body.replaceChildren();
    rows.forEach(function (r) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-clerk", r.clerk_id);
      td(tr, r.clerk);
      [r.open_seconds, r.serving_seconds, r.paused_seconds, r.idle_seconds].forEach(function (s) {
        td(tr, minutes(s), "num");
      });
      td(tr, r.walk_mean_seconds === null ? "—" : String(r.walk_mean_seconds), "num");
      td(tr, String(r.served), "num");
      td(tr, r.per_hour === null ? "—" : String(r.per_hour).replace(".", ","), "num");
      body.appendChild(tr);
    });
  }

  function render(json) {
    renderCounters(json.counters);
    renderClerks(json.clerks || []);
    options($("move-from"), json.services.map(function (s) { return [String(s.id), s.name]; }));
    options($("move-to"), json.services.map(function (s) { return ["s:" + s.id, s.name]; }).concat(
      json.counters.filter(function (c) { return c.state !== "closed"; }).map(function (c) {
        return ["c:" + c.id, c.name || String(c.number)];
      })));
    $("desk-reception").hidden = !json.kiosk_printer_alarm;
    $("desk-alerts").hidden = !json.alerts.length;
    $("desk-alert-list").replaceChildren.apply($("desk-alert-list"), json.alerts.map(function (a) {
      var li = document.createElement("li");
      li.textContent = fill(D.tAlert, { field: a.service, label: a.label, minutes: a.waited_minutes });
      return li;
    }));
    var m = json.message;
    $("notice-current").textContent = m ? "« " + m.text + " » " + fill(D.tUntil, {
      time: new Date(m.until).toLocaleTimeString("vi-VN", { hour: "2-digit", minute: "2-digit" }) }) : "";
  }

  function load() { return call("/api/v1/dashboard/desk").then(render).catch(function (err) { say(err.message, true); }); }
  function soon() { clearTimeout(timer); timer = setTimeout(load, 400); }

  $("desk-move").addEventListener("submit", function (event) {
    event.preventDefault();
    var to = $("move-to").value.split(":");
    var body = { service_id: Number($("move-from").value) };
    body[to[0] === "s" ? "to_service_id" : "to_counter_id"] = Number(to[1]);
    call("/api/v1/dashboard/move", body).then(function (res) {
      say(fill(D.tMoved, { n: res.moved }));
      load();
    }).catch(function (err) { say(err.message, true); });
  });
  $("desk-notice").addEventListener("submit", function (event) {
    event.preventDefault();
    call("/api/v1/dashboard/message", { text: $("notice-text-input").value.trim(),
      minutes: Number($("notice-minutes").value) || 30 }).then(function () {
      say(D.tPosted);
      load();
    }).catch(function (err) { say(err.message, true); });
  });
  $("notice-remove").addEventListener("click", function () {
    call("/api/v1/dashboard/message", { text: "" }).then(function () { say(D.tRemoved); load(); })
      .catch(function (err) { say(err.message, true); });
  });

  if (typeof io === "function") {
    var socket = io("/counter", { reconnectionDelay: 500, reconnectionDelayMax: 5000 });
    socket.on("connect", load);
    ["counter.changed", "ticket.called", "ticket.changed", "queue.changed", "printer.alarm",
     "queue.wait_alert"].forEach(function (name) { socket.on(name, soon); });
  } else { load(); }
  setInterval(function () { if (document.visibilityState !== "hidden") { load(); } }, 15000);
})();
