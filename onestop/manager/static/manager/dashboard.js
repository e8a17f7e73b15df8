/* /manager/: the live dashboard. Loads GET /api/v1/dashboard, then reloads it whenever the
   /counter namespace reports a change (debounced), on reconnect, and every 30 s (waits grow). */
(function () {
  "use strict";
  var M = window.Manager, T = M.T;
  var EVENTS = ["counter.changed", "queue.changed", "ticket.called", "ticket.changed",
                "ticket.issued", "printer.alarm", "rating.created", "day.closed"];
  var timer = null;
  var loading = false, again = false;

  function tbody(id) {
    var el = document.getElementById(id);
    while (el.firstChild) { el.removeChild(el.firstChild); }
    return el;
  }

  function counters(list) {
    var body = tbody("counter-list");
    list.forEach(function (c) {
      var tr = document.createElement("tr");
      tr.className = "state-" + c.state;
      tr.setAttribute("data-counter", c.id);
      M.cell(tr, c.name || String(c.number));
      var state = T[c.state] || c.state;
      if (c.state === "paused" && c.pause_reason) { state += ": " + c.pause_reason; }
      M.cell(tr, state, "counter-state");
      M.cell(tr, c.clerk ? (c.clerk.full_name || "—") : "—");
      M.cell(tr, c.serving ? c.serving.label + " · " + (T[c.serving.state] || c.serving.state) : "—");
      body.appendChild(tr);
    });
  }

  function queues(rows) {
    var body = tbody("waiting-list");
    rows.forEach(function (s) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-service", s.id);
      M.cell(tr, s.name);
      M.cell(tr, M.num(s.waiting), "num");
      M.cell(tr, s.longest_wait_minutes === null ? "—" : M.num(s.longest_wait_minutes, 1), "num");
      body.appendChild(tr);
    });
  }

  // the server words every alarm as a sentence that names the device (no driver error text)
  function alarms(a) {
    var ul = tbody("alarms");
    var items = (a.messages || []).slice();
    if (!items.length) { items.push(T.none); }
    ul.classList.toggle("has-alarms", items[0] !== T.none);
    items.forEach(function (text) {
      var li = document.createElement("li");
      li.textContent = text;
      ul.appendChild(li);
    });
  }

  // the last working day with tickets, beside today's figures
  function previous(p) {
    var label = p ? T.previous_day + " (" + M.showDate(p.business_date).slice(0, 5) + "): " : "";
    M.setText("issued-prev", p ? label + M.num(p.issued) : "");
    M.setText("served-prev", p ? label + M.num(p.served) : "");
    M.setText("satisfaction-prev", p && p.satisfaction_rate !== null ? label + M.pct(p.satisfaction_rate) : "");
  }

  function render(d) {
    M.setText("dashboard-date", M.showDate(d.business_date));
    M.setText("dashboard-time", M.clock(d.at));
    M.setText("counters-open", M.num(d.counters.open));
    M.setText("counters-paused", M.num(d.counters.paused));
    M.setText("counters-closed", M.num(d.counters.closed));
    M.setText("waiting-total", M.num(d.waiting.total));
    M.setText("longest-wait", d.longest_wait_minutes === null ? "—" : M.num(d.longest_wait_minutes, 0));
    M.setText("issued-today", M.num(d.today.issued));
    M.setText("served-today", M.num(d.today.served));
    M.setText("satisfaction-today", M.pct(d.satisfaction.rate));
    M.setText("ratings-today", d.satisfaction.rated ? "(" + M.num(d.satisfaction.satisfied) + "/" + M.num(d.satisfaction.rated) + ")" : "");
    previous(d.previous);
    var longest = document.getElementById("longest-wait");
    longest.classList.toggle("over-target", d.longest_wait_minutes !== null && d.longest_wait_minutes > d.target_wait_minutes);
    counters(d.counters.list);
    queues(d.waiting.by_service);
    alarms(d.alarms);
  }

  function load() {
    if (loading) { again = true; return; }
    loading = true;
    M.getJSON("/api/v1/dashboard?lang=" + encodeURIComponent(M.lang)).then(render)
      .catch(function () { M.setText("live-status", T.error); })
      .then(function () { loading = false; if (again) { again = false; load(); } });
  }

  function soon() {
    if (timer) { return; }
    timer = setTimeout(function () { timer = null; load(); }, 200);
  }

  load();
  setInterval(load, 30000);
  if (window.io) {
    var socket = window.io("/counter", { transports: ["websocket", "polling"] });
    var status = document.getElementById("live-status");
    socket.on("connect", function () { status.textContent = T.online; status.className = "live-status ok"; load(); });
    socket.on("disconnect", function () { status.textContent = T.offline; status.className = "live-status bad"; });
    socket.on("connect_error", function () { status.textContent = T.offline; status.className = "live-status bad"; });
    EVENTS.forEach(function (name) { socket.on(name, soon); });
  }
}());
