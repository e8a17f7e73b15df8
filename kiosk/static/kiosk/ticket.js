// The public ticket page on a citizen's phone: live over the public /display namespace.
// Any call, queue or counter change of the unit makes the page re-read its ticket (at most
// once every 2 s); it stops listening once the ticket is finished.
(function () {
  "use strict";
  const box = document.getElementById("tp");
  if (!box) return;
  const cfg = box.dataset;
  const $ = (id) => document.getElementById(id);
  const FINAL = ["done", "cancelled", "expired"]; // a missed or transferred ticket can wait again
  let states = {};
  try { states = JSON.parse(cfg.states || "{}"); } catch (err) { states = {}; }
  const fill = (template, values) =>
    String(template || "").replace(/\{(\w+)\}/g, (m, key) => (key in values ? String(values[key]) : m));
  const number = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ".");

  function hhmmss() {
    try {
      return new Intl.DateTimeFormat("en-GB", { timeZone: cfg.tz, hour: "2-digit", minute: "2-digit",
        second: "2-digit", hourCycle: "h23" }).format(new Date());
    } catch (err) { return new Date().toTimeString().slice(0, 8); }
  }

  function show(t) {
    const counter = t.counter ? number(t.counter.number) : "?";
    const state = $("tp-state");
    state.textContent = fill(states[t.state] || t.state, { counter });
    state.className = "tp-state tp-state-" + t.state;
    $("tp-facts").hidden = t.state !== "waiting";
    $("tp-ahead").textContent = number(t.waiting_ahead);
    // no counter of the field open: no time to promise, and never "soon"
    $("tp-wait").textContent = t.counters_open === 0 ? cfg.tNoCounter : t.estimated_wait_minutes
      ? fill(cfg.tMinutes, { m: number(t.estimated_wait_minutes) }) : cfg.tSoon;
    $("tp-updated").textContent = fill(cfg.tUpdated, { t: hhmmss() });
    if (t.state === "called" && cfg.state !== "called" && navigator.vibrate) {
      try { navigator.vibrate([400, 150, 400]); } catch (err) { /* not allowed: fine */ }
    }
    cfg.state = t.state;
  }

  let socket = null;
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
      const url = cfg.apiUrl + "?unit=" + encodeURIComponent(cfg.unit);
      const res = await fetch(url, { cache: "no-store", credentials: "omit" });
      if (res.ok) show(await res.json());
    } catch (err) { /* offline for a moment: the next event or poll tries again */ }
    busy = false;
    if (FINAL.includes(cfg.state)) { stop(); return; }
    if (again) { again = false; refresh(); }
  }

  function stop() {
    if (socket) socket.disconnect();
    socket = null;
    $("tp-live").hidden = true;
  }

  if (FINAL.includes(cfg.state)) return;
  if (typeof io === "function") {
    socket = io("/display", { auth: { unit: cfg.unit }, reconnectionDelay: 1000, reconnectionDelayMax: 10000 });
    socket.on("state", refresh); // every (re)connect: catch up
    socket.on("ticket.called", refresh);
    socket.on("queue.changed", refresh);
    socket.on("counter.changed", refresh);
    socket.on("connect_error", () => { if (socket && !socket.active) setTimeout(() => socket && socket.connect(), 5000); });
  }
  // a safety net (socket blocked by a proxy, phone asleep): a slow poll
  setInterval(() => { if (!document.hidden) refresh(); }, 30000);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
})();
