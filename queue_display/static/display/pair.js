// Pair this screen as a display device (the code from the URL, or typed during setup),
// then open the hall display, or the counter display of a counter-bound device.
(function () {
  "use strict";
  const root = document.getElementById("pair");
  const ds = root.dataset;
  const status = document.getElementById("pair-status");
  const csrf = document.querySelector('meta[name="csrf-token"]');

  async function pair(code) {
    status.textContent = "";
    try {
      const res = await fetch(ds.pairUrl, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.content : "" },
        body: JSON.stringify({ code: code.trim() }),
      });
      const body = await res.json();
      if (!res.ok) throw new Error((body.error && body.error.message) || res.status);
      status.textContent = ds.tDone;
      const next = body.device.kind === "counter-display" ? ds.counterUrl : ds.hallUrl;
      setTimeout(() => location.replace(next), 800);
    } catch (err) {
      status.textContent = `${ds.tFailed} ${err.message}`;
    }
  }

  document.getElementById("pair-form").addEventListener("submit", (event) => {
    event.preventDefault();
    pair(document.getElementById("pair-code").value);
  });
  if (ds.code) pair(ds.code);
})();
