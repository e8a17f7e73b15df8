// Lobby kiosk screens. Settings come from data- attributes on #kiosk (no inline script);
// every text a citizen reads is rendered by the server (translated) and only shown here.
(function () {
  "use strict";
  const root = document.getElementById("kiosk");
  if (!root) return;
  const cfg = root.dataset;
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.content : "";
  const idleSeconds = Math.max(3, parseInt(cfg.idle, 10) || 20);
  const loadedAt = Date.now();
  const $ = (id) => document.getElementById(id);
  // every move asks offline.js first: a server that does not answer gets its overlay, never
  // the browser's error page
  const move = (url, how) => {
    if (window.kioskNet) return window.kioskNet.navigate(url, how);
    if (how === "reload") location.reload(); else if (how === "replace") location.replace(url); else location.href = url;
    return Promise.resolve(true);
  };
  const netCheck = () => { if (window.kioskNet) window.kioskNet.check(); };
  // "1 person" / "2 people": the word next to a count (data-one / data-other, translated)
  const countWord = (node, n) => { if (node) node.textContent = Number(n) === 1 ? node.dataset.one : node.dataset.other; };

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  const fill = (template, values) =>
    String(template || "").replace(/\{(\w+)\}/g, (m, key) => (key in values ? String(values[key]) : m));
  const fromTemplate = (id) => {
    const tpl = $(id);
    return tpl ? tpl.content.cloneNode(true) : document.createDocumentFragment();
  };

  async function api(method, url, body) {
    const options = { method, credentials: "same-origin", cache: "no-store", headers: {} };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = csrf;
      options.body = JSON.stringify(body);
    }
    let res;
    try { res = await fetch(url, options); } catch (err) { netCheck(); throw err; }
    let data = {};
    try { data = await res.json(); } catch (err) { data = {}; }
    return { res, data };
  }
  const errorMessage = (data) => (data && data.error && data.error.message) || cfg.tOffline;

  // --- language: the button sets the `lang` cookie; idle brings Vietnamese back ----------
  function setLang(lang) {
    document.cookie = "lang=" + lang + "; path=/; max-age=31536000; SameSite=Lax";
  }
  function reloadClean() {
    const url = new URL(location.href);
    url.searchParams.delete("lang");
    move(url.toString(), "replace");
  }
  document.addEventListener("click", (ev) => {
    const lang = ev.target.closest('[data-action="lang"]');
    if (lang) { setLang(lang.dataset.langNext); reloadClean(); }
    if (ev.target.closest('[data-action="home"]')) goHome();
  });
  document.addEventListener("contextmenu", (ev) => ev.preventDefault()); // long press

  // --- idle: back home (and to Vietnamese) after `idle` seconds without a touch ----------
  let lastActivity = Date.now();
  let idleLimit = idleSeconds;
  let onIdleTick = null; // the ticket screen shows the countdown
  let pendingReload = false; // the home screen saw a field open or close
  const touched = () => { lastActivity = Date.now(); };
  for (const type of ["pointerdown", "touchstart", "keydown", "wheel"]) {
    document.addEventListener(type, touched, { passive: true, capture: true });
  }
  document.addEventListener("scroll", touched, { passive: true, capture: true });
  const idleFor = () => (Date.now() - lastActivity) / 1000;

  function goHome() {
    if (cfg.lang !== "vi") setLang("vi");
    move(cfg.home);
  }
  function homeIdle() {
    closeModal();
    if (cfg.lang !== "vi") { setLang("vi"); reloadClean(); return; }
    // pick up new fields, a new day, new texts: an idle home screen reloads now and then
    if (pendingReload || Date.now() - loadedAt > 30 * 60 * 1000) move(null, "reload");
  }
  setInterval(() => {
    const left = Math.ceil(idleLimit - idleFor());
    if (onIdleTick) onIdleTick(Math.max(0, left));
    if (left > 0) return;
    lastActivity = Date.now();
    document.dispatchEvent(new Event("kiosk:idle")); // a11y.js: the normal screen again
    if (cfg.page === "home") homeIdle(); else goHome();
  }, 1000);

  // --- clock: the unit's timezone, corrected by the server's time --------------------------
  function startClock() {
    const clock = $("k-clock");
    const date = $("k-date");
    if (!clock) return;
    const server = Date.parse(cfg.now || "");
    const offset = Number.isNaN(server) ? 0 : server - Date.now();
    let names = [];
    try { names = JSON.parse(cfg.weekdays || "[]"); } catch (err) { names = []; }
    const days = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
    let fmt;
    try {
      fmt = new Intl.DateTimeFormat("en-GB", { timeZone: cfg.tz, year: "numeric", month: "2-digit",
        day: "2-digit", hour: "2-digit", minute: "2-digit", weekday: "short", hourCycle: "h23" });
    } catch (err) { return; }
    const tick = () => {
      const p = Object.fromEntries(fmt.formatToParts(new Date(Date.now() + offset)).map((x) => [x.type, x.value]));
      const hm = p.hour + ":" + p.minute;
      if (clock.textContent !== hm) clock.textContent = hm;
      const dayName = names[days[p.weekday]];
      const text = (dayName ? dayName + ", " : "") + p.day + "/" + p.month + "/" + p.year;
      if (date && date.textContent !== text) date.textContent = text;
    };
    tick();
    setInterval(tick, 1000);
  }

  // --- dialog -------------------------------------------------------------------------------
  const modal = $("k-modal");
  function showModal(content, options) {
    const title = $("k-modal-title");
    const body = $("k-modal-body");
    body.replaceChildren();
    const heading = content.querySelector("h2");
    title.textContent = heading ? heading.textContent : "";
    if (heading) heading.remove();
    body.append(content);
    $("k-modal-pair").hidden = !(options && options.pair);
    modal.hidden = false;
  }
  function closeModal() { if (modal) modal.hidden = true; }
  if (modal) {
    modal.addEventListener("click", (ev) => {
      if (ev.target === modal || ev.target.closest('[data-action="close-modal"]')) closeModal();
    });
  }
  const showUnpaired = () => showModal(fromTemplate("t-unpaired"), { pair: true });
  function showMessage(templateId, message) {
    const frag = fromTemplate(templateId);
    frag.append(el("p", "", message));
    showModal(frag);
  }

  // --- home: tiles, refreshed every 15 s -----------------------------------------------------
  function initHome() {
    const tiles = $("tiles");
    if (!tiles) return;
    tiles.addEventListener("click", (ev) => {
      const tile = ev.target.closest(".tile");
      if (!tile) return;
      if (tile.dataset.open !== "1") {
        const frag = fromTemplate("t-closed");
        frag.append(el("p", "k-modal-field", tile.querySelector(".tile-name").textContent));
        for (const part of tile.querySelectorAll(".tile-state, .tile-line, .tile-next")) {
          frag.append(part.cloneNode(true));
        }
        showModal(frag);
      } else if (cfg.paired !== "1") {
        showUnpaired();
      } else {
        move(tile.dataset.href);
      }
    });
    const minutesText = tiles.dataset.tMinutes;
    async function refresh() {
      if (document.hidden) return;
      let data;
      try {
        const res = await fetch(tiles.dataset.servicesUrl, { credentials: "same-origin", cache: "no-store" });
        if (!res.ok) return;
        data = await res.json();
      } catch (err) { return; } // offline: keep the last picture
      const shown = tiles.querySelectorAll(".tile");
      let changed = shown.length !== data.services.length;
      for (const svc of data.services) {
        const tile = tiles.querySelector('.tile[data-service-id="' + svc.id + '"]');
        if (!tile || (tile.dataset.open === "1") !== svc.open_now) { changed = true; continue; }
        if (!svc.open_now) continue;
        const waiting = tile.querySelector('[data-role="waiting"]');
        if (waiting) waiting.textContent = svc.waiting;
        countWord(tile.querySelector('[data-role="waiting-word"]'), svc.waiting);
        const minutes = tile.querySelector('[data-role="minutes"]');
        if (minutes) {
          minutes.hidden = !svc.waiting;
          minutes.querySelector('[data-role="minutes-text"]').textContent = svc.estimated_wait_minutes
            ? fill(minutesText, { m: svc.estimated_wait_minutes }) : tiles.dataset.tSoon;
        }
      }
      // a field opened or closed: the server words it (reason, days, hours); reload when
      // nobody is in the middle of something
      if (changed) {
        pendingReload = true;
        if (modal.hidden && idleFor() > 5) move(null, "reload");
      }
    }
    setInterval(refresh, 15000);
  }

  // --- field step: priority, procedure, then the ticket ---------------------------------------
  function initField() {
    const go = $("go");
    const ticket = $("ticket");
    let priority = "none";
    let procedure = null;
    const selected = document.querySelector(".proc.is-selected");
    if (selected) {
      procedure = selected.dataset.procedureId;
      selected.scrollIntoView({ block: "center" });
    }
    function select(group, button, on) {
      for (const b of group.querySelectorAll('[role="radio"]')) {
        const mine = b === button && on;
        b.classList.toggle("is-selected", mine);
        b.setAttribute("aria-checked", mine ? "true" : "false");
      }
    }
    const priorities = $("priorities");
    if (priorities) {
      priorities.addEventListener("click", (ev) => {
        const b = ev.target.closest("[data-priority]");
        if (!b) return;
        priority = b.dataset.priority;
        select(priorities, b, true);
      });
    }
    const procs = $("procedures");
    if (procs) {
      procs.addEventListener("click", (ev) => {
        const b = ev.target.closest("[data-procedure-id]");
        if (!b) return;
        const again = b.dataset.procedureId === procedure; // a second tap un-selects
        procedure = again ? null : b.dataset.procedureId;
        select(procs, b, !again);
      });
    }
    let busy = false;
    go.addEventListener("click", async () => {
      if (busy) return;
      if (cfg.paired !== "1") { showUnpaired(); return; }
      busy = true;
      go.disabled = true;
      const body = { service_id: parseInt(go.dataset.serviceId, 10) };
      if (priority !== "none") body.priority = priority;
      // the procedure chosen is kept on the ticket: the clerk sees it and starts from it
      const chosen = procedure && procs ? procs.querySelector(`[data-procedure-id="${procedure}"]`) : null;
      if (chosen && chosen.dataset.procedureCode) body.procedure_code = chosen.dataset.procedureCode;
      let result;
      try {
        result = await api("POST", "/api/v1/tickets", body);
      } catch (err) {
        showMessage("t-refused", cfg.tOffline);
        busy = false; go.disabled = false;
        return;
      }
      const { res, data } = result;
      busy = false; go.disabled = false;
      if (res.status === 401 || res.status === 403) { showUnpaired(); return; }
      if (data.error && data.error.code === "csrf_failed") { location.reload(); return; }
      if (!res.ok) { showMessage("t-refused", errorMessage(data)); return; }
      showTicket(ticket, data, procedure);
    });
  }

  function ticketKey(data) {
    // the API may hand out the public page's URL (with its k token); else the kiosk that
    // issued the ticket may fetch the QR without it
    const url = data.public_url || data.ticket_url || data.qr_url || data.url;
    if (!url) return "";
    try { return new URL(url, location.href).searchParams.get("k") || ""; } catch (err) { return ""; }
  }

  function localTime(iso) {
    const when = new Date(iso || Date.now());
    try {
      const fmt = new Intl.DateTimeFormat("en-GB", { timeZone: cfg.tz, year: "numeric", month: "2-digit",
        day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
      const p = Object.fromEntries(fmt.formatToParts(when).map((x) => [x.type, x.value]));
      return { time: p.hour + ":" + p.minute, date: p.day + "/" + p.month + "/" + p.year };
    } catch (err) {
      return { time: when.toTimeString().slice(0, 5), date: when.toLocaleDateString("en-GB") };
    }
  }

  const PRINTED = ["printed", "sent"];
  const PENDING = ["queued_for_agent", "queued", "pending", "printing"];
  function printKey(state) {
    if (state === "failed") return "failed";
    if (PRINTED.includes(state)) return "printed";
    if (PENDING.includes(state)) return "pending";
    return "none";
  }

  function showTicket(ticket, data, procedure) {
    $("step").hidden = true;
    $("step-go").hidden = true;
    const back = document.querySelector('[data-role="back"]');
    if (back) back.hidden = true;
    $("t-number").textContent = data.label;
    $("t-ahead").textContent = data.waiting_ahead;
    countWord($("t-ahead-word"), data.waiting_ahead);
    $("t-wait").textContent = data.counters_open === 0 ? ticket.dataset.tNoCounter // never "soon"
      : data.estimated_wait_minutes ? fill(ticket.dataset.tMinutes, { m: data.estimated_wait_minutes })
        : ticket.dataset.tSoon;
    const when = localTime(data.issued_at);
    $("t-time").textContent = when.time;
    $("t-date").textContent = when.date;
    const label = $("priority-" + data.priority);
    $("t-priority").hidden = !label;
    if (label) $("t-priority-label").textContent = label.content.textContent;
    const docs = procedure ? $("docs-" + procedure) : null;
    $("t-docs").hidden = !docs;
    if (docs) $("t-docs").replaceChildren(docs.content.cloneNode(true));
    const key = ticketKey(data);
    $("t-qr").src = ticket.dataset.qrUrl.replace("/0.svg", "/" + data.id + ".svg") +
      (key ? "?k=" + encodeURIComponent(key) : "");
    ticket.hidden = false;
    ticket.dispatchEvent(new CustomEvent("kiosk:ticket", { detail: { id: data.id, key } })); // notify.js
    root.classList.add("is-ticket");
    ticket.scrollTop = 0;
    setPrint(ticket, printKey(data.print_state));
    if (printKey(data.print_state) === "pending") followPrint(ticket, data.id);
    lastActivity = Date.now();
    onIdleTick = (left) => { $("t-countdown").textContent = fill(ticket.dataset.tCountdown, { s: left }); };
    onIdleTick(idleLimit);
  }

  function setPrint(ticket, key) {
    for (const box of ticket.querySelectorAll("[data-print]")) box.hidden = box.dataset.print !== key;
    const bad = key === "failed" || key === "late";
    ticket.classList.toggle("is-print-failed", bad);
    // a citizen photographing the screen needs time
    idleLimit = bad ? idleSeconds * 3 : idleSeconds;
  }

  function followPrint(ticket, id) {
    const url = ticket.dataset.ticketUrl.replace(/\/0$/, "/" + id);
    const started = Date.now();
    const poll = async () => {
      let key = "pending";
      try {
        const { res, data } = await api("GET", url);
        if (res.ok) key = printKey(data.print_state);
      } catch (err) { key = "pending"; }
      if (key !== "pending") { setPrint(ticket, key); return; }
      if (Date.now() - started > 20000) { setPrint(ticket, "late"); return; }
      setTimeout(poll, 1500);
    };
    setTimeout(poll, 1500);
  }

  // --- pairing: an on-screen keypad for the one-time code -------------------------------------
  function initPair() {
    const box = $("pair");
    const cells = Array.from(document.querySelectorAll(".pair-cell"));
    const length = parseInt(box.dataset.length, 10) || cells.length;
    const allowed = new Set(Array.from(document.querySelectorAll("#keypad [data-key]")).map((k) => k.dataset.key));
    const go = $("pair-go");
    const msg = $("pair-msg");
    let code = "";
    const render = () => {
      cells.forEach((cell, i) => {
        cell.textContent = code[i] || "";
        cell.classList.toggle("is-next", i === code.length);
      });
      go.disabled = code.length !== length;
    };
    const press = (key) => {
      if (key === "clear") code = "";
      else if (key === "back") code = code.slice(0, -1);
      else if (allowed.has(key) && code.length < length) code += key;
      msg.hidden = true;
      render();
    };
    box.addEventListener("click", (ev) => {
      const key = ev.target.closest("[data-key]");
      if (key) press(key.dataset.key);
    });
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Backspace") press("back");
      else if (ev.key === "Enter" && !go.disabled) go.click();
      else if (ev.key.length === 1) press(ev.key.toUpperCase());
    });
    // /kiosk/pair?code=XXXX (the demo prints such links): typed in, then paired at once
    if (box.dataset.code) {
      for (const ch of box.dataset.code) press(ch);
      if (!go.disabled) setTimeout(() => go.click(), 0);
    }
    go.addEventListener("click", async () => {
      go.disabled = true;
      let result;
      try {
        result = await api("POST", box.dataset.pairUrl, { code });
      } catch (err) {
        result = { res: { ok: false }, data: {} };
      }
      msg.hidden = false;
      if (result.res.ok) {
        msg.className = "pair-msg is-ok";
        msg.textContent = fill(box.dataset.tDone, { name: result.data.device ? result.data.device.name : "" });
        setTimeout(() => { move(cfg.home); }, 1500);
        return;
      }
      msg.className = "pair-msg";
      msg.textContent = errorMessage(result.data);
      code = "";
      render();
      msg.hidden = false;
    });
    render();
  }

  // --- catalogue: on-screen keyboard, results re-rendered by the server -----------------------
  function initCatalogue() {
    const form = $("search");
    const input = $("q");
    const keyboard = $("keyboard");
    const results = $("results");
    let timer = null;
    let asked = 0;
    const search = async () => {
      const params = new URLSearchParams();
      const text = input.value.trim();
      if (text) params.set("q", text);
      const service = form.querySelector('input[name="service"]');
      if (service) params.set("service", service.value);
      const query = params.toString();
      history.replaceState(null, "", form.dataset.resultsUrl + (query ? "?" + query : ""));
      params.set("partial", "1");
      const mine = ++asked;
      try {
        const res = await fetch(form.dataset.resultsUrl + "?" + params.toString(), { credentials: "same-origin" });
        if (!res.ok || mine !== asked) return;
        results.innerHTML = await res.text(); // our own server-rendered, escaped fragment
        results.scrollTop = 0;
      } catch (err) { netCheck(); } // keep the last results; offline.js says if the server is gone
    };
    const later = () => { clearTimeout(timer); timer = setTimeout(search, 250); };
    const openKeyboard = () => { keyboard.hidden = false; };
    input.addEventListener("focus", openKeyboard);
    input.addEventListener("click", openKeyboard);
    input.addEventListener("input", later);
    form.addEventListener("submit", (ev) => { ev.preventDefault(); search(); });
    form.querySelector('[data-action="clear-search"]').addEventListener("click", () => {
      input.value = "";
      search();
    });
    keyboard.addEventListener("click", (ev) => {
      const key = ev.target.closest("[data-key]");
      if (!key) return;
      const k = key.dataset.key;
      let value = input.value;
      if (k === "back") value = value.slice(0, -1);
      else if (k === "clear") value = "";
      else if (k === "done") { keyboard.hidden = true; input.blur(); search(); return; }
      else if (k === " ") value = value && !value.endsWith(" ") ? value + " " : value;
      else if (value.length < 100) value += k;
      input.value = value;
      later();
    });
    if (input.value) keyboard.hidden = false;
  }

  startClock();
  const pages = { home: initHome, field: initField, pair: initPair, procedures: initCatalogue };
  if (pages[cfg.page]) pages[cfg.page]();
})();
