// Shared by the hall and counter displays: the /display socket with its offline mark,
// the clock in the unit's timezone, and small DOM helpers. No framework, no CDN.
(function () {
  "use strict";
  const params = new URLSearchParams(location.search);

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function fill(template, label, counter) {
    return template.split("{số}").join(label).split("{quầy}").join(String(counter));
  }

  async function getJSON(url, query) {
    const target = new URL(url, location.href);
    for (const [key, value] of Object.entries(query || {})) {
      if (value !== undefined && value !== null && value !== "") target.searchParams.set(key, value);
    }
    const res = await fetch(target, { credentials: "same-origin", cache: "no-store" });
    if (!res.ok) throw new Error(`${res.status} ${target.pathname}`);
    return res.json();
  }

  // Socket.IO reconnects by itself after a network cut or a server restart; the server
  // sends a fresh `state` snapshot on every (re)connect. A refused namespace connection
  // (e.g. unit not found yet) is not retried by the client, so retry it here.
  function connect(auth, offline, status) {
    const socket = io("/display", { auth, reconnectionDelay: 500, reconnectionDelayMax: 3000 });
    const mark = (online) => {
      offline.hidden = online;
      status.dataset.connected = online ? "1" : "0";
    };
    socket.on("connect", () => mark(true));
    socket.on("disconnect", () => mark(false));
    socket.on("connect_error", () => {
      mark(false);
      if (!socket.active) setTimeout(() => socket.connect(), 5000);
    });
    watchdog(socket, mark);
    return socket;
  }

  // A pulled cable is noticed by Socket.IO's heartbeat only after ~45 s; two failed health
  // checks in a row (10 s apart) show the offline mark and restart the connection sooner.
  function watchdog(socket, mark) {
    let failures = 0;
    setInterval(async () => {
      if (!socket.connected) return;
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), 4000);
      try {
        await fetch("/healthz", { cache: "no-store", signal: abort.signal });
        failures = 0;
      } catch (err) {
        failures += 1;
      } finally {
        clearTimeout(timer);
      }
      if (failures >= 2) {
        failures = 0;
        mark(false);
        socket.io.engine.close(); // the manager reconnects, and the server sends a new snapshot
      }
    }, 10000);
  }

  // A clock in the unit's timezone, corrected by the server's time (a TV's own clock
  // is often wrong): dd/mm/yyyy and 24 h.
  function Clock(timeEl, dateEl) {
    this.timeEl = timeEl;
    this.dateEl = dateEl;
    this.zone = "Asia/Ho_Chi_Minh";
    this.offset = 0;
    this.lang = document.documentElement.lang || "vi";
    setInterval(() => this.tick(), 1000);
    this.tick();
  }
  Clock.prototype.sync = function (serverIso, zone) {
    if (zone) this.zone = zone;
    const server = Date.parse(serverIso || "");
    if (!Number.isNaN(server)) this.offset = server - Date.now();
    this.tick();
  };
  Clock.prototype.parts = function (when) {
    try {
      const fmt = new Intl.DateTimeFormat("en-GB", {
        timeZone: this.zone, year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", hourCycle: "h23",
      });
      return Object.fromEntries(fmt.formatToParts(when).map((p) => [p.type, p.value]));
    } catch (err) {
      const pad = (n) => String(n).padStart(2, "0");
      return { year: when.getFullYear(), month: pad(when.getMonth() + 1), day: pad(when.getDate()),
        hour: pad(when.getHours()), minute: pad(when.getMinutes()) };
    }
  };
  Clock.prototype.hhmm = function (iso) {
    const p = this.parts(new Date(iso));
    return `${p.hour}:${p.minute}`;
  };
  Clock.prototype.tick = function () {
    const now = new Date(Date.now() + this.offset);
    const p = this.parts(now);
    if (this.timeEl) this.timeEl.textContent = `${p.hour}:${p.minute}`;
    if (!this.dateEl) return;
    let weekday = "";
    try {
      weekday = new Intl.DateTimeFormat(this.lang, { timeZone: this.zone, weekday: "long" }).format(now);
    } catch (err) { /* no weekday name: the date alone */ }
    // the browser's Vietnamese capitalises both words of Sunday; every other screen says "Chủ nhật"
    if (weekday.toLowerCase() === "chủ nhật") weekday = "Chủ nhật";
    const date = `${p.day}/${p.month}/${p.year}`;
    this.dateEl.textContent = weekday ? `${weekday.charAt(0).toUpperCase()}${weekday.slice(1)}, ${date}` : date;
  };

  window.OnestopDisplay = { params, el, fill, getJSON, connect, Clock };
})();
