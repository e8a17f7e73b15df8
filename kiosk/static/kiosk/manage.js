// The booking page on its day: the field's queue now (people waiting, the number being
// called), kept current like the ticket page (live.js) from GET /api/v1/display/state.
(function () {
  "use strict";
  const box = document.getElementById("ph-live");
  if (!box || !window.OnestopLive) return;
  const { fill, number, clock, follow } = window.OnestopLive;
  const cfg = box.dataset;
  const $ = (id) => document.getElementById(id);
  const serviceId = Number(cfg.serviceId);

  function show(state) {
    const line = (state.waiting || []).find((w) => w.service_id === serviceId);
    if (line) $("ph-waiting").textContent = number(line.waiting);
    const name = line ? line.name : null;
    const call = (state.recent_calls || []).find((c) => c.ticket && c.ticket.service === name);
    // the display's recent calls are the unit's last few: none of the field there, keep ours
    if (call) {
      $("ph-called").textContent = call.ticket.label;
      $("ph-called-counter").textContent = call.counter && !call.outcome
        ? fill(cfg.tCounter, { n: number(call.counter.number) }) : "";
    }
    $("ph-updated").textContent = fill(cfg.tUpdated, { t: clock(cfg.tz) });
  }

  follow(cfg.unit, async () => {
    const res = await fetch(cfg.apiUrl, { cache: "no-store", credentials: "omit" });
    if (res.ok) show(await res.json());
  });
})();
