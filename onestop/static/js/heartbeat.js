// A paired screen (kiosk, hall or counter display, rating tablet) tells the server once a
// minute that it is alive, so that the manager's dashboard can tell a dead one. Silent on
// failure: the next beat tries again, and the page itself must never suffer from it.
(function () {
  "use strict";
  const script = document.currentScript;
  const url = script.dataset.url;
  const meta = document.querySelector('meta[name="csrf-token"]');
  let every = 60 * 1000;

  async function beat() {
    try {
      const res = await fetch(url, {
        method: "POST", credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRFToken": meta ? meta.content : "" },
      });
      if (res.ok) {
        const body = await res.json();
        window.__heartbeats = (window.__heartbeats || 0) + 1; // read by the browser tests
        if (body.every_seconds > 0) every = body.every_seconds * 1000;
      }
    } catch (err) { /* offline: the next beat */ }
    setTimeout(beat, every);
  }
  beat();
})();
