// The booking page on its day: the field's queue now (people waiting, the number being
// called), kept current over the public /display namespace like the ticket page: any call,
// queue or counter change of the unit re-reads GET /api/v1/display/state (at most every 2 s).
(function () {
  "use strict";
  const box = document.getElementById("ph-live");
  if (!box) return;
  const cfg = box.dataset;
  const $ = (id) => document.getElementById(id);
  const serviceId = Number(cfg.serviceId);
  const fill = (template, values) =>
    String(template || "").replace(/\{(\w+)\}/g, (m, key) => (key in values ? String(values[key]) : m));
  const number = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ".");

  function hhmmss() {
    try {
      return new Intl.DateTimeFormat("en-GB", { timeZone: cfg.tz, hour: "2-digit", minute: "2-digit",
        second: "2-digit", hourCycle: "h23" }).format(new Date());
    } catch (err) { return new Date().toTimeString().slice(0, 8); }
  }

  function show(state) {
    const line = (state.waiting || []).find((w) => w.service_id === serviceId);
    if (line) $("ph-waiting").textContent = number(line.waiting);
    const name = line ? line.name : null;
    const call = (state.recent_calls || []).find((c) => c.ticket && c.ticket.service === name);
    $("ph-called").textContent = call ? call.ticket.label : "—";
    $("ph-called-counter").textContent = call && call.counter ? fill(cfg.tCounter, { n: number(call.counter.number) }) : "";
    $("ph-updated").textContent = fill(cfg.tUpdated, { t: hhmmss() });
  }

  let busy = false;
  let again = false;
  let last = 0;
  async function refresh() {
    if (busy) { again = true; return; }
    const wait = 2000 - (Date.now() - last);
    if (wait > 0) { busy = true; setTimeout(() => { busy = false; refresh(); }, wait); return; }
    busy = true;
    last = Date.now();
    try {
      const res = await fetch(cfg.apiUrl, { cache: "no-store", credentials: "omit" });
      if (res.ok) show(await res.json());
    } catch (err) { /* offline for a moment: the next event or poll tries again */ }
    busy = false;
    if (again) { again = false; refresh(); }
  }

  if (typeof io === "function") {
    const socket = io("/display", { auth: { unit: cfg.unit }, reconnectionDelay: 1000, reconnectionDelayMax: 10000 });
    socket.on("state", show); // every (re)connect: the snapshot itself
    socket.on("ticket.called", refresh);
    socket.on("queue.changed", refresh);
    socket.on("counter.changed", refresh);
  }
  setInterval(() => { if (!document.hidden) refresh(); }, 30000);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
})();
