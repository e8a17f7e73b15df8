// The public ticket page on a citizen's phone: live over the public /display namespace
// (live.js). Any call, queue or counter change of the unit makes the page re-read its
// ticket; it stops listening once the ticket is finished.
(function () {
  "use strict";
  const box = document.getElementById("tp");
  if (!box || !window.OnestopLive) return;
  const { fill, number, clock, follow } = window.OnestopLive;
  const cfg = box.dataset;
  const $ = (id) => document.getElementById(id);
  const FINAL = ["done", "cancelled", "expired"]; // a missed or transferred ticket can wait again
  let states = {};
  try { states = JSON.parse(cfg.states || "{}"); } catch (err) { states = {}; }

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
    $("tp-updated").textContent = fill(cfg.tUpdated, { t: clock(cfg.tz) });
    if (t.state === "called" && cfg.state !== "called" && navigator.vibrate) {
      try { navigator.vibrate([400, 150, 400]); } catch (err) { /* not allowed: fine */ }
    }
    cfg.state = t.state;
  }

  if (FINAL.includes(cfg.state)) return;
  const live = follow(cfg.unit, async () => {
    const url = cfg.apiUrl + "?unit=" + encodeURIComponent(cfg.unit);
    const res = await fetch(url, { cache: "no-store", credentials: "omit" });
    if (res.ok) show(await res.json());
    if (FINAL.includes(cfg.state)) { live.stop(); $("tp-live").hidden = true; }
  });
})();
