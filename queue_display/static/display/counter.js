// Counter display: the number being served at one counter, "Tạm dừng" while paused,
// "Mời số tiếp theo" while idle. Same /display feed as the hall, filtered to this counter.
// Test hook: data-view on #counter-screen is serving | paused | idle | closed.
(function () {
  "use strict";
  const D = window.OnestopDisplay;
  const root = document.getElementById("counter-screen");
  const ds = root.dataset;
  const t = { paused: ds.tPaused, idle: ds.tIdle, closed: ds.tClosed };
  const counterId = Number(ds.counterId);
  const $ = (id) => document.getElementById(id);
  const FLASH_MS = 6000;
  let counter = { id: counterId, number: Number(ds.counterNumber), state: ds.state, serving: null };

  function render() {
    let view = "idle";
    if (counter.state === "closed") view = "closed";
    else if (counter.state === "paused") view = "paused";
    else if (counter.serving) view = "serving";
    root.dataset.view = view;
    root.dataset.state = counter.state;
    $("cs-label").textContent = view === "serving" ? counter.serving.label : "";
    const detail = { serving: counter.serving && counter.serving.service, paused: counter.pause_reason }[view];
    $("cs-field").textContent = detail || "";
    $("cs-status").textContent = { closed: t.closed, paused: t.paused, idle: t.idle, serving: "" }[view];
    if (counter.name) $("cs-name").textContent = counter.name;
  }

  function flash() {
    root.classList.add("flash");
    clearTimeout(flash.timer);
    flash.timer = setTimeout(() => root.classList.remove("flash"), FLASH_MS);
  }

  const socket = D.connect({ unit: D.params.get("unit") || ds.unit }, $("offline"), root);
  socket.on("state", (state) => {
    const found = state.counters.find((c) => c.id === counterId);
    if (found) counter = found;
    root.dataset.snapshots = String(Number(root.dataset.snapshots || 0) + 1);
    render();
  });
  socket.on("counter.changed", (ev) => {
    if (ev.counter.id !== counterId) return;
    counter = Object.assign(counter, ev.counter);
    render();
  });
  socket.on("ticket.called", (ev) => {
    if (ev.counter.id !== counterId) return;
    counter.state = "open";
    counter.serving = { id: ev.ticket.id, label: ev.ticket.label, service: ev.ticket.service, state: "called" };
    render();
    flash();
  });
  render();
})();
