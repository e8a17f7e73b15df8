// Hall display: a `state` snapshot on every (re)connect replaces everything shown (no
// stale numbers, nothing announced); then ticket.called (announced, in order),
// counter.changed and queue.changed (and the counts a ticket.called carries) keep it live.
// The banner dims once its ticket has left the counter (finished, missed, parked,
// transferred) or the counter pauses or closes; recent calls say how each call ended.
// Every list is fitted to the screen (smaller type, more columns), never clipped.
(function () {
  "use strict";
  const D = window.OnestopDisplay;
  const root = document.getElementById("hall");
  const ds = root.dataset;
  const t = { paused: ds.tPaused, closed: ds.tClosed, counter: ds.tCounter, recall: ds.tRecall,
    sentence: ds.tSentence, greeting: ds.tGreeting, booked: ds.tBooked, bookedTitle: ds.tBookedTitle,
    outcome: { missed: ds.tMissed, transferred: ds.tTransferred, parked: ds.tParked } };
  const $ = (id) => document.getElementById(id);
  const unit = D.params.get("unit") || undefined;
  const RESYNC_MS = 5 * 60 * 1000; // safety net: day change, notice edits, a missed event

  let config = { voice: D.params.get("voice") || "auto", chain: ["clips", "espeak", "browser", "chime"],
    recent_calls: 6, highlight_seconds: 8, zones: [], chime_url: null };
  const counters = new Map();
  let waiting = [];
  let recent = [];
  let flash = { counterId: null, until: 0 };
  let latestCounterId = null;
  let shown = null; // the call on the banner: {ticketId, counterId, text}
  const clock = new D.Clock($("clock-time"), $("clock-date"));

  function counterStatus(c) {
    if (c.state === "closed") return { text: t.closed, cls: "is-closed" };
    if (c.state === "paused") return { text: t.paused, cls: "is-paused" };
    return { text: c.serving ? c.serving.label : "", cls: "" };
  }

  // a small badge on a number checked in for a booking (lịch hẹn)
  function bookedBadge(node, booked) {
    if (!booked) return node;
    const badge = D.el("span", "booked-badge", t.booked);
    badge.title = t.bookedTitle;
    node.append(badge);
    return node;
  }

  function renderCounters() {
    const rows = $("rows");
    const list = [...counters.values()].sort((a, b) => a.number - b.number);
    rows.style.setProperty("--rows", Math.max(6, list.length));
    rows.replaceChildren(...list.map((c) => {
      const status = counterStatus(c);
      const row = D.el("div", `row ${status.cls}`);
      row.dataset.counterId = c.id;
      if (c.id === latestCounterId) row.classList.add("is-latest");
      if (c.id === flash.counterId && Date.now() < flash.until) row.classList.add("flash");
      row.append(D.el("span", "c-num", c.number), D.el("span", "c-name", c.name || ""),
        bookedBadge(D.el("span", "c-label", status.text), !status.cls && c.serving && c.serving.booked),
        D.el("span", "c-field", c.state !== "closed" && c.serving ? c.serving.service || "" : ""));
      return row;
    }));
    renderBannerState();
    fitSoon();
  }

  function renderRecent() {
    $("recent").replaceChildren(...recent.slice(0, config.recent_calls).map((call) => {
      const li = D.el("li");
      li.dataset.ticketId = call.ticket.id;
      const where = call.counter ? `${t.counter} ${call.counter.number}` : "";
      const word = t.outcome[call.outcome] || "";
      if (word) li.classList.add(`is-${call.outcome}`);
      li.append(bookedBadge(D.el("span", "r-label", call.ticket.label), call.ticket.booked),
        D.el("span", "r-counter", where),
        D.el("span", "r-outcome", word), D.el("span", "r-time", call.at ? clock.hhmm(call.at) : ""));
      return li;
    }));
    fitSoon();
  }

  function renderWaiting() {
    $("waiting").replaceChildren(...waiting.map((w) => {
      const li = D.el("li");
      li.dataset.serviceId = w.service_id;
      li.append(D.el("span", "w-name", w.name), D.el("span", "w-count", w.waiting));
      return li;
    }));
    fitSoon();
  }

  // Auto-fit: the largest type (and, for the waiting list, the fewest columns) at which a
  // list shows every entry whole; 16 fields and 12 counters fit a 1366x768 TV this way.
  const SCALES = [1, 0.92, 0.85, 0.78, 0.72, 0.66, 0.6, 0.55, 0.5, 0.45, 0.4];
  const cut = (el) => el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1;
  function overflows(box, whole) {
    return cut(box) || [...box.children].some(cut) || [...box.querySelectorAll(whole)].some(cut);
  }
  // columns fill top to bottom, then left to right (read like a list)
  function fit(box, columns, whole) {
    for (const scale of SCALES) {
      for (const cols of columns) {
        box.style.setProperty("--fit", scale);
        box.style.setProperty("--cols", cols);
        if (box.id === "waiting") box.style.setProperty("--rows", Math.ceil(box.children.length / cols));
        if (!overflows(box, whole)) return;
      }
    }
  }
  function fitAll() {
    fit($("rows"), [1], ".c-num, .c-label");
    fit($("recent"), [1], ".r-label, .r-counter");
    fit($("waiting"), [1, 2, 3], ".w-name, .w-count"); // field names whole too
    root.dataset.fitted = String(Number(root.dataset.fitted || 0) + 1);
  }
  function fitSoon() {
    cancelAnimationFrame(fitSoon.frame);
    fitSoon.frame = requestAnimationFrame(fitAll);
  }
  window.addEventListener("resize", fitSoon);
  if (document.fonts) document.fonts.ready.then(fitSoon);

  function renderNotice(text) {
    const box = $("notice");
    box.hidden = !text;
    $("notice-text").textContent = text || "";
    if (text) {
      const px = window.innerWidth + $("notice-text").scrollWidth;
      box.style.setProperty("--notice-seconds", `${Math.max(12, Math.round(px / 140))}s`);
    }
  }

  function applySnapshot(state) {
    $("unit-name").textContent = state.unit.name;
    counters.clear();
    for (const c of state.counters) counters.set(c.id, c);
    waiting = state.waiting.slice();
    recent = state.recent_calls.slice();
    clock.sync(state.at);
    renderCounters();
    renderRecent();
    renderWaiting();
    // after a reconnect the banner shows the latest call again, silently
    const last = recent.find((r) => r.counter);
    if (last && !announcer.busy) setBanner(last, null);
    root.dataset.snapshots = String(Number(root.dataset.snapshots || 0) + 1);
  }

  function setBanner(call, text) {
    const banner = $("called");
    $("called-label").textContent = call.ticket.label;
    $("called-booked").hidden = !call.ticket.booked;
    $("called-booked").textContent = t.booked;
    $("called-counter").textContent = `${t.counter} ${call.counter.number}`;
    $("called-recall").hidden = !call.recall;
    shown = { ticketId: call.ticket.id, counterId: call.counter.id,
      text: text || D.fill(t.sentence, call.ticket.label, call.counter.number),
      outcome: call.outcome || null };
    banner.querySelector(".called-main").classList.add("has-call");
    banner.dataset.ticketId = call.ticket.id;
    renderBannerState();
    return banner;
  }

  // Is the citizen on the banner still called at that counter? If not, the banner dims and
  // says why, so nobody walks to a counter that has moved on.
  function bannerWhy() {
    if (!shown) return null;
    const c = counters.get(shown.counterId);
    if (!c) return null;
    if (c.state === "closed") return t.closed;
    if (c.state === "paused") return t.paused;
    if (c.serving && c.serving.id === shown.ticketId) return null;
    return t.outcome[shown.outcome] || "";
  }

  function renderBannerState() {
    if (!shown) return;
    const banner = $("called");
    const why = bannerWhy();
    const over = why !== null;
    banner.classList.toggle("is-over", over);
    banner.dataset.over = over ? "1" : "0";
    if (over) banner.classList.remove("flash");
    $("called-status").hidden = !why;
    $("called-status").textContent = why || "";
    if (over) $("called-recall").hidden = true;
    $("called-text").textContent = over ? t.greeting : shown.text;
  }

  // The call being announced: banner and row blink; it follows the sound, so quick
  // successive calls are each seen in turn.
  function showCall(call, info) {
    const banner = setBanner(call, info.display_text);
    const ms = config.highlight_seconds * 1000;
    flash = { counterId: call.counter.id, until: Date.now() + ms };
    latestCounterId = call.counter.id;
    banner.classList.remove("flash");
    void banner.offsetWidth; // restart the animation
    banner.classList.add("flash");
    clearTimeout(showCall.timer);
    showCall.timer = setTimeout(() => {
      banner.classList.remove("flash");
      renderCounters();
    }, ms);
    recent = [call, ...recent.filter((r) => r.ticket.id !== call.ticket.id)];
    renderCounters();
    renderRecent();
  }

  const announcer = new window.OnestopAnnouncer({
    announcementUrl: ds.announcementUrl, unit, sentence: t.sentence,
    config: () => config, onStart: showCall,
  });

  // the manager's timed message (onestop/api/desk.py) takes the notice line until its end
  let messageTimer = null;
  function showMessage(message) {
    clearTimeout(messageTimer);
    const left = message && message.text ? Date.parse(message.until) - Date.now() : 0;
    if (left > 0) {
      renderNotice(message.text);
      messageTimer = setTimeout(() => renderNotice(config.notice), Math.min(left, 2 ** 31 - 1));
    } else {
      renderNotice(config.notice);
    }
  }

  async function loadConfig() {
    try {
      config = await D.getJSON(ds.configUrl, { unit, zone: D.params.get("zone"), voice: D.params.get("voice") });
      clock.sync(config.now, config.unit.timezone);
      $("unit-name").textContent = config.unit.name;
      showMessage(config.message);
      renderRecent();
      root.dataset.voice = config.voice;
    } catch (err) { /* keep the last configuration; the next connect retries */ }
  }

  async function resync() {
    try {
      applySnapshot(await D.getJSON(ds.stateUrl, { unit, zone: (config.zones || []).join(",") }));
    } catch (err) { /* offline: the socket's snapshot will do it on reconnect */ }
  }

  const zone = D.params.get("zone") || undefined;
  const socket = D.connect({ unit, zone }, $("offline"), root);
  socket.on("connect", loadConfig);
  socket.on("state", applySnapshot);
  function applyWaiting(counts) {
    for (const w of counts || []) {
      const row = waiting.find((x) => x.service_id === w.service_id);
      if (row) row.waiting = w.waiting;
    }
    renderWaiting();
  }
  socket.on("ticket.called", (ev) => {
    const c = counters.get(ev.counter.id);
    if (c) {
      c.state = "open";
      c.serving = { id: ev.ticket.id, label: ev.ticket.label, service: ev.ticket.service,
        service_id: ev.ticket.service_id, state: "called", booked: !!ev.ticket.booked };
      renderCounters();
    }
    if (ev.waiting) applyWaiting(ev.waiting); // a call's count: no queue.changed follows
    announcer.push(ev);
  });
  socket.on("counter.changed", (ev) => {
    const known = counters.get(ev.counter.id);
    if (!known && (config.zones || []).length) return; // another zone's counter
    if (ev.left) {
      // how the call ended (missed, transferred, parked): said in the recent calls
      for (const call of recent) if (call.ticket.id === ev.left.id) call.outcome = ev.left.outcome;
      if (shown && shown.ticketId === ev.left.id) shown.outcome = ev.left.outcome;
      renderRecent();
    }
    counters.set(ev.counter.id, Object.assign(known || {}, ev.counter));
    renderCounters();
  });
  socket.on("queue.changed", (ev) => applyWaiting(ev.waiting));
  socket.on("display.message", (ev) => showMessage(ev.message));
  setInterval(() => { if (socket.connected) { loadConfig(); resync(); } }, RESYNC_MS);
})();
