// Hall display: a snapshot on every (re)connect, then ticket.called events.
(function () {
  "use strict";
  const rows = document.getElementById("rows");
  const called = document.getElementById("called");
  const offline = document.getElementById("offline");
  const params = new URLSearchParams(location.search);
  const socket = io("/display", { auth: { unit: params.get("unit") || undefined, zone: params.get("zone") || undefined } });
  const counters = new Map();

  function render() {
    rows.replaceChildren();
    for (const c of [...counters.values()].sort((a, b) => a.number - b.number)) {
      const tr = document.createElement("tr");
      for (const text of [c.number, c.serving ? c.serving.label : "", c.serving ? c.serving.service : ""]) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.append(td);
      }
      rows.append(tr);
    }
  }

  socket.on("connect", () => { offline.hidden = true; });
  socket.on("disconnect", () => { offline.hidden = false; });
  socket.on("state", (state) => {
    document.getElementById("unit-name").textContent = state.unit.name;
    counters.clear();
    for (const c of state.counters) counters.set(c.id, c);
    render();
  });
  socket.on("ticket.called", (ev) => {
    const c = counters.get(ev.counter.id) || { id: ev.counter.id, number: ev.counter.number };
    c.serving = { label: ev.ticket.label, service: ev.ticket.service };
    counters.set(c.id, c);
    called.textContent = `Xin mời công dân có số thứ tự ${ev.ticket.label} đến quầy số ${ev.counter.number}`;
    render();
  });
})();
