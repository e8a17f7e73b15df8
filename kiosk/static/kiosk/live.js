// What the citizen's live phone pages share (the ticket page /t/, the booking page /b/):
// the house's formats and "read again whenever the hall changes", over the public /display
// namespace: any call, queue or counter change of the unit, every (re)connect, a slow poll
// as a safety net (a socket blocked by a proxy, a phone asleep), and the page coming back.
window.OnestopLive = (function () {
  "use strict";
  const fill = (template, values) =>
    String(template || "").replace(/\{(\w+)\}/g, (m, key) => (key in values ? String(values[key]) : m));
  const number = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ".");

  function clock(tz) {
    try {
      return new Intl.DateTimeFormat("en-GB", { timeZone: tz, hour: "2-digit", minute: "2-digit",
        second: "2-digit", hourCycle: "h23" }).format(new Date());
    } catch (err) { return new Date().toTimeString().slice(0, 8); }
  }

  // Calls ``read()`` (async) at most once every 2 s while changes come; ``stop()`` ends it all.
  function follow(unit, read) {
    let socket = null;
    let busy = false;
    let again = false;
    let last = 0;
    let stopped = false;
    async function refresh() {
      if (stopped) return;
      if (busy) { again = true; return; }
      const wait = 2000 - (Date.now() - last);
      if (wait > 0) { busy = true; setTimeout(() => { busy = false; refresh(); }, wait); return; }
      busy = true;
      last = Date.now();
      try { await read(); } catch (err) { /* offline for a moment: the next event or poll tries again */ }
      busy = false;
      if (again && !stopped) { again = false; refresh(); }
    }
    function stop() {
      stopped = true;
      if (socket) socket.disconnect();
      socket = null;
    }
    if (typeof io === "function") {
      socket = io("/display", { auth: { unit }, reconnectionDelay: 1000, reconnectionDelayMax: 10000 });
      socket.on("state", refresh); // every (re)connect: catch up
      socket.on("ticket.called", refresh);
      socket.on("queue.changed", refresh);
      socket.on("counter.changed", refresh);
      socket.on("connect_error", () => { if (socket && !socket.active) setTimeout(() => socket && socket.connect(), 5000); });
    }
    setInterval(() => { if (!document.hidden) refresh(); }, 30000);
    document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
    return { refresh, stop };
  }

  return { fill, number, clock, follow };
})();
