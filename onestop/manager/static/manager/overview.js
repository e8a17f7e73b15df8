/* /manager/overview: loads GET /api/v1/overview, draws one tile per unit, then listens on the
   /overview namespace: "overview.changed {unit_id}" (at most one per unit per 2 s) reloads
   the tiles of the units named; everything again on reconnect and every 30 s (waits grow). */
(function () {
  "use strict";
  var M = window.Manager, T = M.T;
  var codes = {};          // unit id -> code
  var changed = {};        // unit ids to reload
  var timer = null, loading = false;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function figure(parent, cls, label, value) {
    var div = el("div", cls);
    div.appendChild(el("dt", null, label));
    div.appendChild(el("dd", null, value));
    parent.appendChild(div);
  }

  function drawTile(t) {
    var li = el("li", "unit-tile");
    li.id = "unit-" + t.unit.code;
    li.setAttribute("data-unit", t.unit.code);
    var h = el("h2", null, t.unit.name);
    h.appendChild(el("small", null, t.unit.code));
    li.appendChild(h);
    if (t.unreachable) {
      li.classList.add("unreachable");
      li.appendChild(el("p", "unit-state", T.unreachable));
      return li;
    }
    if (t.late) { li.classList.add("late"); }
    if (t.alarms && t.alarms.length) { li.classList.add("alarm"); }
    var dl = el("dl", "unit-figures");
    figure(dl, "fig-waiting", T.waiting, M.num(t.waiting));
    figure(dl, "fig-longest", T.longest + " (" + T.minutes + ")",
           t.longest_wait_minutes === null ? "—" : M.num(t.longest_wait_minutes, 0));
    figure(dl, "fig-open", T.counters_open, M.num(t.counters.open));
    figure(dl, "fig-served", T.served_today, M.num(t.today.served));
    figure(dl, "fig-satisfaction", T.satisfaction,
           t.satisfaction.rate === null ? "—" : M.num(t.satisfaction.rate * 100, 0) + " %");
    figure(dl, "fig-alarms", T.alarms, M.num((t.alarms || []).length));
    li.appendChild(dl);
    if (t.alarms && t.alarms.length) {
      var ul = el("ul", "unit-alarms");
      t.alarms.forEach(function (a) { ul.appendChild(el("li", null, a)); });
      li.appendChild(ul);
    }
    return li;
  }

  function render(data, partial) {
    var list = document.getElementById("overview-tiles");
    if (!partial) { while (list.firstChild) { list.removeChild(list.firstChild); } }
    data.units.concat(data.remotes || []).forEach(function (t) {
      codes[t.unit.id] = t.unit.code;
      var fresh = drawTile(t), old = document.getElementById(fresh.id);
      if (old) { list.replaceChild(fresh, old); } else { list.appendChild(fresh); }
    });
    document.getElementById("overview-empty").hidden = list.children.length > 0;
    M.setText("overview-time", M.clock ? M.clock(data.at) : data.at);
  }

  function load(units) {
    if (loading) { setTimeout(function () { load(units); }, 200); return; }
    loading = true;
    // more codes than ?units= takes (MAX_UNITS_PARAM, onestop/api/schemas.py): every tile
    if (units && units.join(",").length > 300) { units = null; }
    var url = "/api/v1/overview?lang=" + encodeURIComponent(M.lang);
    if (units) { url += "&units=" + encodeURIComponent(units.join(",")); }
    M.getJSON(url).then(function (data) { render(data, Boolean(units)); })
      .catch(function () { M.setText("live-status", T.error); })
      .then(function () { loading = false; });
  }

  function soon(msg) {
    if (!msg || !codes[msg.unit_id]) { return; }
    changed[msg.unit_id] = true;
    if (timer) { return; }
    timer = setTimeout(function () {
      var units = Object.keys(changed).map(function (id) { return codes[id]; });
      changed = {}; timer = null;
      load(units);
    }, 100);
  }

  load(null);
  setInterval(function () { load(null); }, 30000);
  if (window.io) {
    var socket = window.io("/overview", { transports: ["websocket", "polling"] });
    var status = document.getElementById("live-status");
    socket.on("connect", function () { status.textContent = T.online; status.className = "live-status ok"; load(null); });
    socket.on("disconnect", function () { status.textContent = T.offline; status.className = "live-status bad"; });
    socket.on("connect_error", function () { status.textContent = T.offline; status.className = "live-status bad"; });
    socket.on("overview.changed", soon);
  }
}());
