// Clerk workstation. The clerk picks and opens a counter, then works its queue from one
// screen. Every action is a call to the JSON API (session cookie + X-CSRFToken); the
// /counter Socket.IO namespace only says that something changed, and the page then reads
// GET /api/v1/counters/{id}/queue again (also on every reconnect and every 30 s), so
// what it shows is always the server's picture. One tab per clerk and counter drives the
// counter (POST /counter/lease); other tabs show it read-only. Texts come from the page.
(function () {
  "use strict";
  const root = document.getElementById("ws");
  if (!root) return;
  const ds = root.dataset;
  const T = JSON.parse(ds.texts);
  const API = "/api/v1";
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const me = Number(ds.userId);
  const zone = ds.timezone || "Asia/Ho_Chi_Minh";
  const $ = (id) => document.getElementById(id);
  const LEASE_MS = 10000;
  const RESYNC_MS = 30000;

  const state = {
    counters: [], services: [], counterId: null, view: null,
    active: true, busy: false, tab: tabId(), clockOffset: 0,
  };
  const viewListeners = [];

  // ------------------------------------------------------------------ helpers

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function fill(template, vars) {
    return String(template).replace(/%\((\w+)\)s/g, (_m, key) => (key in vars ? vars[key] : ""));
  }

  function randomId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes); // works on plain http:// LAN addresses, unlike randomUUID
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function tabId() {
    let id = sessionStorage.getItem("onestop.tab");
    if (!id || !/^[A-Za-z0-9_-]{8,64}$/.test(id)) {
      id = randomId();
      sessionStorage.setItem("onestop.tab", id);
    }
    return id;
  }

  async function api(path, options) {
    const opts = options || {};
    const init = { method: opts.method || "GET", credentials: "same-origin", cache: "no-store",
      headers: { Accept: "application/json" }, keepalive: !!opts.keepalive };
    if (init.method !== "GET") {
      init.headers["Content-Type"] = "application/json";
      init.headers["X-CSRFToken"] = csrf;
      init.body = JSON.stringify(opts.body || {});
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (err) {
      return { ok: false, status: 0, error: { code: "network", message: T.network } };
    }
    let data = null;
    try { data = await res.json(); } catch (err) { data = null; }
    if (res.status === 401 && !opts.keepalive) {
      location.assign("/login?next=" + encodeURIComponent(location.pathname));
    }
    if (res.ok) return { ok: true, status: res.status, data };
    const error = (data && data.error) || { code: "http_" + res.status, message: T.network };
    return { ok: false, status: res.status, error, data };
  }

  let messageTimer = null;
  function say(text, kind) {
    const box = $("message");
    box.textContent = text || "";
    box.className = "ws-message is-" + (kind || "info");
    box.hidden = !text;
    clearTimeout(messageTimer);
    if (text) messageTimer = setTimeout(() => { box.hidden = true; }, kind === "error" ? 9000 : 4500);
  }

  const dateFormat = new Intl.DateTimeFormat("en-GB", { timeZone: zone, year: "numeric", month: "2-digit",
    day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  function parts(iso) {
    const when = new Date(iso);
    return Object.fromEntries(dateFormat.formatToParts(when).map((p) => [p.type, p.value]));
  }
  const hhmm = (iso) => { const p = parts(iso); return `${p.hour}:${p.minute}`; };
  const dmyhm = (iso) => { const p = parts(iso); return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}`; };
  const serverNow = () => Date.now() + state.clockOffset;

  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600);
    const mm = String(Math.floor((s % 3600) / 60)).padStart(h ? 2 : 1, "0");
    const ss = String(s % 60).padStart(2, "0");
    return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
  }

  function serviceName(id) {
    const svc = state.services.find((s) => s.id === id);
    return svc ? svc.name : "";
  }

  // ------------------------------------------------------------------ the counter picker

  async function loadCounters() {
    const res = await api(`${API}/counters`);
    if (res.ok) state.counters = res.data.counters;
    return res.ok;
  }

  function renderPicker() {
    $("picker-list").replaceChildren(...state.counters.map((c) => {
      const mine = c.clerk && c.clerk.id === me && c.state !== "closed";
      const taken = c.clerk && !mine && c.state !== "closed";
      const card = el("button", "pick-card" + (mine ? " is-mine" : "") + (taken ? " is-taken" : ""));
      card.type = "button";
      card.dataset.counterId = c.id;
      const who = mine ? T.yours : taken ? (c.clerk.full_name ? `${T.held_by}: ${c.clerk.full_name}` : T.held_by) : T.free;
      card.append(el("span", "pick-num", `${T.counter} ${c.number}`),
        el("span", "pick-fields", c.service_ids.map(serviceName).filter(Boolean).join(" · ")),
        el("span", "pick-state", who), el("span", "pick-go", mine ? T.continue : T.open_counter),
        el("span", "pick-error"));
      return card;
    }));
  }

  async function showPicker() {
    $("desk").hidden = true;
    $("picker").hidden = false;
    if (await loadCounters()) renderPicker();
  }

  async function openCounter(card) {
    const id = Number(card.dataset.counterId);
    const res = await api(`${API}/counters/${id}/open`, { method: "POST" });
    if (!res.ok) {
      say(res.error.message, "error");
      if (await loadCounters()) renderPicker(); // who holds it now
      const fresh = $("picker-list").querySelector(`.pick-card[data-counter-id="${id}"]`);
      if (fresh) fresh.querySelector(".pick-error").textContent = res.error.message;
      return;
    }
    await enterDesk(id, true);
  }

  $("picker-list").addEventListener("click", (event) => {
    const card = event.target.closest(".pick-card");
    if (card && !state.busy) run(() => openCounter(card));
  });

  // ------------------------------------------------------------------ one tab drives a counter

  const channel = "BroadcastChannel" in window ? new BroadcastChannel("onestop-counter") : null;
  if (channel) {
    channel.onmessage = (event) => {
      const msg = event.data || {};
      if (msg.type === "hello" && msg.tab === state.tab) channel.postMessage({ type: "duplicate", tab: msg.tab });
      else if (msg.type === "duplicate" && msg.tab === state.tab && !state.counterId) {
        // a duplicated tab copied our sessionStorage: it needs a name of its own
        sessionStorage.removeItem("onestop.tab");
        state.tab = tabId();
      } else if (msg.counter === state.counterId && msg.user === me && msg.tab !== state.tab) {
        if (msg.type === "took") setActive(false);
        else if (msg.type === "released" && !state.active) claimLease(false);
      }
    };
    channel.postMessage({ type: "hello", tab: state.tab });
  }

  async function claimLease(take) {
    if (!state.counterId) return;
    const res = await api(ds.leaseUrl, { method: "POST",
      body: { counter_id: state.counterId, tab: state.tab, take: !!take } });
    if (!res.ok) return; // unknown: keep the mode we are in
    setActive(!!res.data.active);
    if (res.data.active && take && channel) {
      channel.postMessage({ type: "took", counter: state.counterId, user: me, tab: state.tab });
    }
  }

  function releaseLease() {
    if (!state.counterId || !state.active) return;
    api(ds.leaseUrl, { method: "POST", keepalive: true,
      body: { counter_id: state.counterId, tab: state.tab, release: true } });
    if (channel) channel.postMessage({ type: "released", counter: state.counterId, user: me, tab: state.tab });
  }

  function setActive(active) {
    state.active = active;
    $("readonly").hidden = active;
    root.classList.toggle("is-readonly", !active);
    updateButtons();
  }

  $("take-over").addEventListener("click", () => claimLease(true));
  window.addEventListener("pagehide", releaseLease);
  window.addEventListener("pageshow", (event) => {
    if (event.persisted && state.counterId) { claimLease(false); refresh(); }
  });
  setInterval(() => { if (state.counterId && document.visibilityState !== "hidden") claimLease(false); }, LEASE_MS);

  // ------------------------------------------------------------------ the desk

  async function enterDesk(id, take) {
    state.counterId = id;
    state.view = null;
    $("picker").hidden = true;
    $("desk").hidden = false;
    await claimLease(take);
    await refresh();
  }

  function leaveDesk(message) {
    state.counterId = null;
    state.view = null;
    setActive(true);
    viewListeners.forEach((fn) => fn(null));
    if (message) say(message, "info");
    showPicker();
  }

  let refreshing = null;
  let again = false;
  async function refresh() {
    if (!state.counterId) {
      if (!$("picker").hidden && (await loadCounters())) renderPicker();
      return;
    }
    if (refreshing) { again = true; return refreshing; }
    refreshing = (async () => {
      do {
        again = false;
        const id = state.counterId;
        const res = await api(`${API}/counters/${id}/queue`);
        if (id !== state.counterId) return;
        if (res.ok) applyView(res.data);
        else if (res.status === 404) leaveDesk(res.error.message);
      } while (again && state.counterId);
    })();
    try { await refreshing; } finally { refreshing = null; }
  }

  let soon = null;
  function refreshSoon() {
    clearTimeout(soon);
    soon = setTimeout(refresh, 120);
  }

  function applyView(view) {
    const c = view.counter;
    if (c.state === "closed" || !c.clerk || c.clerk.id !== me) {
      leaveDesk(c.state === "closed" ? `${T.counter} ${c.number}: ${T.closed}` : null);
      return;
    }
    state.view = view;
    state.clockOffset = Date.parse(view.at) - Date.now();
    $("desk-counter").textContent = `${T.counter} ${c.number}`;
    const badge = $("desk-state");
    badge.textContent = T[c.state] || c.state;
    badge.className = "badge state-" + c.state;
    $("desk-fields").textContent = c.service_ids.map(serviceName).filter(Boolean).join(" · ");
    $("paused").hidden = c.state !== "paused";
    $("paused-reason").textContent = c.pause_reason ? `: ${c.pause_reason}` : "";
    renderCurrent(view.current);
    renderWaiting(view);
    renderList("missed", view.missed, T.no_missed, (t) => [["call", T.call], ["requeue", T.requeue]]);
    renderList("parked", view.parked, T.no_parked, () => [["call", T.call]]);
    $("today-served").textContent = view.today.served;
    $("today-missed").textContent = view.today.missed;
    const avg = view.today.avg_service_seconds;
    $("today-avg").textContent = avg === null ? "—" : clock(avg);
    updateButtons();
    viewListeners.forEach((fn) => fn(view));
  }

  const emptyService = $("current-service").textContent;
  function renderCurrent(cur) {
    $("current").classList.toggle("is-empty", !cur);
    $("current").classList.toggle("is-serving", !!cur && cur.state === "serving");
    $("current-label").textContent = cur ? cur.label : "—";
    $("current-service").textContent = cur ? cur.service : emptyService;
    // the procedure the citizen chose at the kiosk
    $("current-procedure").hidden = !cur || !cur.procedure;
    $("current-procedure-name").textContent = cur && cur.procedure ? cur.procedure : "";
    const prio = $("current-priority");
    prio.hidden = !cur || cur.priority === "none";
    prio.textContent = cur && T.priority[cur.priority] ? T.priority[cur.priority] : "";
    // checked in for a booking: the slot's time, "Lịch hẹn 09:30"
    const booked = cur && cur.booking ? hhmm(cur.booking.start) : "";
    $("current-booking").hidden = !booked;
    $("current-booking").textContent = booked ? fill(T.booked_at, { time: booked }) : "";
    const st = $("current-state");
    st.hidden = !cur;
    st.textContent = cur ? T[cur.state] || cur.state : "";
    st.className = "badge state-" + (cur ? cur.state : "none");
    $("current-hint").hidden = !!cur;
    renderPickup(cur);
    const list = $("current-dossiers");
    list.replaceChildren(...(cur ? cur.dossiers : []).map((d) => {
      const li = el("li", "", `${T.received}: `);
      const a = el("a", "dossier-link", d.code);
      a.href = d.receipt_url;
      a.target = "_blank";
      a.rel = "noopener";
      li.append(a, el("span", "muted", ` · ${T.receipt} BM.01`));
      return li;
    }));
    tick();
  }

  // a ticket taken at the kiosk for a dossier (ready: hand the result over; supplement
  // requested: take the supplement): the dossier's page on the dossier desk, one click away
  function renderPickup(cur) {
    const box = $("current-pickup");
    const linked = cur && cur.dossier;
    box.hidden = !linked;
    if (!linked) return;
    const supplement = linked.purpose === "supplement";
    $("current-pickup-text").textContent = fill(supplement ? box.dataset.tSupplement : box.dataset.tPickup,
      { code: linked.code });
    const open = $("current-pickup-open");
    open.textContent = supplement ? box.dataset.tOpenSupplement : box.dataset.tOpenPickup;
    open.href = linked.url;
  }

  function tick() {
    const cur = state.view && state.view.current;
    if (!cur) {
      $("current-waited").textContent = "";
      $("current-timer").textContent = "";
      return;
    }
    const issued = Date.parse(cur.issued_at);
    const called = cur.called_at ? Date.parse(cur.called_at) : serverNow();
    const waitedMin = Math.max(0, Math.round((called - issued) / 60000));
    let text = `${T.waited} ${waitedMin} ${T.minutes}`;
    if (cur.called_at) text += ` · ${T.called_at} ${hhmm(cur.called_at)}`;
    if (cur.recall_count) text += ` · ${T.recalls} ${cur.recall_count} ${T.times}`;
    $("current-waited").textContent = text;
    const since = Date.parse(cur.serving_at || cur.called_at || cur.issued_at);
    $("current-timer").textContent = clock((serverNow() - since) / 1000);
  }
  setInterval(tick, 1000);

  function chip(ticket, view) {
    const node = el("span", "chip" + (ticket.priority !== "none" ? " is-priority" : ""), ticket.label);
    if (ticket.id === view.next_ticket_id) {
      node.classList.add("is-next");
      node.title = T.next;
    }
    if (ticket.priority !== "none") node.title = T.priority[ticket.priority] || "";
    if (ticket.source === "booking") { // checked in for a booking
      node.classList.add("is-booked");
      node.append(el("span", "chip-mark", T.booked_mark));
      node.title = node.title ? `${node.title} · ${T.booked}` : T.booked;
    }
    return node;
  }

  function renderWaiting(view) {
    let total = 0;
    const blocks = view.fields.map((f) => {
      total += f.waiting;
      const block = el("div", "wfield" + (f.service_id === null ? " is-direct" : ""));
      const head = el("div", "wfield-head");
      head.append(el("span", "wfield-name", f.name), el("span", "count" + (f.waiting ? " has" : ""), f.waiting));
      const chips = el("div", "chips");
      if (!f.waiting) chips.append(el("span", "muted", T.nobody));
      f.tickets.forEach((t) => chips.append(chip(t, view)));
      if (f.waiting > f.tickets.length) chips.append(el("span", "muted", fill(T.more, { n: f.waiting - f.tickets.length })));
      block.append(head, chips);
      return block;
    });
    if (!blocks.length) blocks.push(el("p", "muted", T.no_services));
    $("waiting").replaceChildren(...blocks);
    $("waiting-total").textContent = total;
    $("waiting-total").classList.toggle("has", total > 0);
  }

  function renderList(id, tickets, emptyText, buttons) {
    $(id + "-total").textContent = tickets.length;
    if (!tickets.length) {
      $(id).replaceChildren(el("li", "muted", emptyText));
      return;
    }
    $(id).replaceChildren(...tickets.map((t) => {
      const li = el("li", "titem");
      const info = el("span", "titem-info");
      const when = t.finished_at ? ` · ${hhmm(t.finished_at)}` : "";
      info.append(el("strong", "titem-label", t.label), el("span", "muted", ` ${t.service}${when}`));
      if (t.note) info.append(el("span", "titem-note", t.note));
      const ops = el("span", "titem-ops");
      buttons(t).forEach(([op, text]) => {
        const b = el("button", "btn btn-small" + (op === "call" ? " btn-go" : ""), text);
        b.type = "button";
        b.dataset.op = op;
        b.dataset.ticket = t.id;
        b.dataset.label = t.label;
        ops.append(b);
      });
      li.append(info, ops);
      return li;
    }));
  }

  function updateButtons() {
    const v = state.view;
    const cur = v && v.current;
    const open = !!v && v.counter.state === "open";
    const paused = !!v && v.counter.state === "paused";
    const allowed = {
      "call-next": open, recall: open && !!cur, start: !!cur && cur.state === "called",
      skip: !!cur, finish: !!cur, transfer: !!cur, park: !!cur, intake: !!v, reprint: !!cur,
      pause: open || paused, resume: paused,
    };
    root.querySelectorAll("button[data-act]").forEach((b) => {
      const waits = state.busy && b.dataset.act !== "intake"; // the form may open meanwhile
      b.disabled = !state.active || waits || !allowed[b.dataset.act];
    });
    const pause = $("pause-button");
    pause.querySelector(".act-text").textContent = paused ? T.resume : T.pause;
    pause.classList.toggle("is-paused", paused);
    root.querySelectorAll("#missed button, #parked button").forEach((b) => {
      b.disabled = !state.active || state.busy || (b.dataset.op === "call" && !open);
    });
    $("close-counter").disabled = !state.active || state.busy;
  }

  // ------------------------------------------------------------------ actions

  async function run(fn) {
    if (state.busy) return;
    state.busy = true;
    updateButtons();
    try { await fn(); } finally { state.busy = false; updateButtons(); }
  }

  async function post(action, body, okText) {
    const res = await api(`${API}/counters/${state.counterId}/${action}`, { method: "POST", body });
    if (!res.ok) {
      // queue_empty after finishing the ticket at the counter: say both (the finish stands)
      const done = res.error.code === "queue_empty" && res.error.finished;
      say((done ? fill(T.finished_ok, { label: done.label }) + ". " : "") + res.error.message,
        res.error.code === "queue_empty" ? "info" : "error");
      await refresh();
      return null;
    }
    const t = res.data;
    if (okText) say(fill(t.state === "missed" && action === "recall" ? T.skipped_ok : okText, { label: t.label }), "ok");
    await refresh();
    return t;
  }

  async function callNext() {
    const cur = state.view && state.view.current;
    if (cur && cur.dossiers.length && !(await post("finish", { outcome: "dossier_received" }))) return;
    await post("call-next", null, T.called_ok);
  }

  async function finishWith(outcome) {
    return run(() => post("finish", { outcome }, T.finished_ok));
  }

  async function reprint() {
    const cur = state.view && state.view.current;
    if (!cur) return;
    const url = `${API}/tickets/${cur.id}/reprint`;
    let res = await api(url, { method: "POST", body: { counter_id: state.counterId } });
    if (!res.ok && res.error.code === "no_printer") res = await api(url, { method: "POST", body: {} });
    if (!res.ok) {
      if (res.status === 405 || res.error.code === "not_found") {
        root.querySelectorAll('[data-act="reprint"]').forEach((b) => b.remove());
      }
      say(res.error.message, "error");
      return;
    }
    if (res.data.print_error) say(`${T.print_failed}: ${res.data.print_error.message}`, "error");
    else say(fill(T.reprinted_ok, { label: cur.label }), "ok");
  }

  // Closing: an in-page dialog lists what will happen (the current ticket's fate, each
  // parked ticket and where it goes) before anything changes; the server refuses a close
  // that leaves parked tickets without a choice, so the dialog always sends one.
  function closeEffects(view) {
    const cur = view && view.current;
    if (!cur) return [T.close_nothing];
    return [fill(cur.state === "serving" ? T.close_serving : T.close_called, { label: cur.label })];
  }

  function closeChoice() {
    const picked = $("close-form").querySelector('input[name="parked"]:checked');
    const toCounter = Number($("close-to-counter").value) || null;
    return picked && picked.value === "counter" ? { parked: "counter", to_counter_id: toCounter }
      : { parked: "requeue" };
  }

  function renderCloseParked() {
    const view = state.view;
    const parked = view ? view.parked : [];
    const choice = closeChoice();
    const target = state.counters.find((c) => c.id === choice.to_counter_id);
    const where = choice.parked === "counter"
      ? fill(T.close_to_counter, { number: target ? target.number : "…" }) : T.close_to_queue;
    $("close-to-counter").disabled = choice.parked !== "counter";
    $("close-parked-list").replaceChildren(...parked.map((t) => {
      const li = el("li", "titem");
      li.append(el("strong", "titem-label", t.label), el("span", "muted", ` ${t.service}`));
      if (t.note) li.append(el("span", "titem-note", t.note));
      li.append(el("span", "close-dest", `→ ${where}`));
      return li;
    }));
  }

  async function openClose() {
    await Promise.all([loadCounters(), refresh()]);
    if (!state.view) {
      if ($("dlg-close").open) $("dlg-close").close();
      return;
    }
    const view = state.view;
    $("close-effects").replaceChildren(...closeEffects(view).map((text) => el("li", "", text)));
    const others = state.counters.filter((c) => c.id !== state.counterId && c.state !== "closed");
    $("close-to-counter").replaceChildren(...others.map((c) => {
      const who = c.clerk ? c.clerk.full_name || "" : "";
      const option = el("option", "", `${T.counter} ${c.number}${who ? " · " + who : ""} (${T[c.state] || c.state})`);
      option.value = c.id;
      return option;
    }));
    $("close-to-other").disabled = !others.length;
    $("close-form").querySelector('input[value="requeue"]').checked = true;
    const hasParked = view.parked.length > 0;
    $("close-parked").hidden = !hasParked;
    if (!hasParked) $("close-effects").append(el("li", "", T.close_parked_none));
    else if (!others.length) $("close-effects").append(el("li", "muted", T.close_no_counter));
    $("close-error").hidden = true;
    renderCloseParked();
    if (!$("dlg-close").open) openDialog("dlg-close", `${T.counter} ${view.counter.number}`);
    $("close-confirm").focus();
  }

  async function confirmClose() {
    const view = state.view;
    const body = view && view.parked.length ? closeChoice() : {};
    if (body.parked === "counter" && !body.to_counter_id) {
      $("close-error").textContent = T.close_pick_counter;
      $("close-error").hidden = false;
      return;
    }
    const number = view ? view.counter.number : "";
    const res = await api(`${API}/counters/${state.counterId}/close`, { method: "POST", body });
    if (!res.ok) {
      // something changed meanwhile (a ticket parked, the target counter closed): show the
      // refusal in the dialog and list again what would happen now
      await openClose();
      $("close-error").textContent = res.error.message;
      $("close-error").hidden = false;
      return;
    }
    $("dlg-close").close();
    releaseLease();
    leaveDesk(fill(T.closed_ok, { number }));
  }

  $("close-form").addEventListener("change", renderCloseParked);
  $("close-form").addEventListener("submit", (event) => {
    if (!event.submitter || event.submitter.value !== "ok") return; // Hủy closes as usual
    event.preventDefault();
    run(confirmClose);
  });

  // dialogs: <form method="dialog"> buttons set returnValue; Esc closes with ""
  function openDialog(id, label) {
    const dlg = $(id);
    dlg.returnValue = "";
    dlg.querySelectorAll(".dlg-label").forEach((n) => { n.textContent = label || ""; });
    dlg.showModal();
    return dlg;
  }

  function openFinish() {
    const cur = state.view && state.view.current;
    if (!cur) return;
    const dlg = openDialog("dlg-finish", cur.label);
    const preferred = cur.dossiers.length ? "dossier_received" : "served";
    const button = dlg.querySelector(`button[value="${preferred}"]`);
    if (button) button.focus();
  }
  $("dlg-finish").addEventListener("keydown", (event) => {
    const button = $("dlg-finish").querySelector(`.choice[data-index="${event.key}"]`);
    if (button) { event.preventDefault(); button.click(); }
  });
  $("dlg-finish").addEventListener("close", () => {
    const outcome = $("dlg-finish").returnValue;
    if (outcome) finishWith(outcome);
  });

  async function openTransfer() {
    const cur = state.view && state.view.current;
    if (!cur) return;
    await loadCounters();
    const services = $("transfer-services");
    services.replaceChildren(...state.services.filter((s) => s.id !== cur.service_id).map((s) => {
      const b = el("button", "choice");
      b.type = "submit";
      b.value = "s:" + s.id;
      b.append(el("span", "", s.name), el("span", "count" + (s.waiting ? " has" : ""), s.waiting));
      return b;
    }));
    const counters = $("transfer-counters");
    counters.replaceChildren(...state.counters.filter((c) => c.id !== state.counterId).map((c) => {
      const b = el("button", "choice" + (c.state === "closed" ? " is-closed" : ""));
      b.type = "submit";
      b.value = "c:" + c.id;
      const who = c.clerk && c.state !== "closed" ? c.clerk.full_name : T[c.state];
      b.append(el("span", "", `${T.counter} ${c.number}`), el("span", "muted", who || ""));
      return b;
    }));
    openDialog("dlg-transfer", cur.label);
    const first = $("dlg-transfer").querySelector(".choice");
    if (first) first.focus();
  }
  $("dlg-transfer").addEventListener("close", () => {
    const value = $("dlg-transfer").returnValue;
    if (!value) return;
    const [kind, id] = value.split(":");
    const body = kind === "s" ? { service_id: Number(id) } : { counter_id: Number(id) };
    // a note for the next clerk, and "trả về quầy tôi" (counter/static/counter/desk_moves.js)
    const note = $("transfer-note").value.trim();
    if (note) body.note = note;
    if ($("transfer-return").checked) body.return_here = true;
    $("transfer-note").value = "";
    $("transfer-return").checked = false;
    run(() => post("transfer", body, T.transferred_ok));
  });

  function openPark() {
    const cur = state.view && state.view.current;
    if (!cur) return;
    $("park-note").value = "";
    openDialog("dlg-park", cur.label);
    $("park-note").focus();
  }
  $("dlg-park").addEventListener("close", () => {
    if ($("dlg-park").returnValue !== "ok") return;
    run(() => post("park", { note: $("park-note").value.trim().slice(0, 200) }, T.parked_ok));
  });

  function togglePause() {
    if (state.view && state.view.counter.state === "paused") {
      run(() => post("resume"));
      return;
    }
    $("pause-note").value = "";
    $("pause-error").hidden = true;
    openDialog("dlg-pause");
  }
  function pauseReason() {
    const picked = $("pause-form").querySelector('input[name="reason"]:checked');
    const note = $("pause-note").value.trim();
    const reason = picked ? picked.value : "";
    return (reason && note ? `${reason}: ${note}` : reason || note).slice(0, 200);
  }
  $("pause-form").addEventListener("submit", (event) => {
    if (event.submitter && event.submitter.value === "ok" && !pauseReason()) {
      event.preventDefault();
      $("pause-error").textContent = T.reason_required;
      $("pause-error").hidden = false;
      $("pause-note").focus();
    }
  });
  $("dlg-pause").addEventListener("close", () => {
    if ($("dlg-pause").returnValue !== "ok") return;
    const reason = pauseReason();
    run(() => post("pause", { reason }));
  });

  const ACTIONS = {
    "call-next": () => run(callNext),
    recall: () => run(() => post("recall", null, T.called_ok)),
    start: () => run(() => post("start")),
    skip: () => run(() => post("skip", null, T.skipped_ok)),
    finish: openFinish,
    transfer: openTransfer,
    park: openPark,
    pause: togglePause,
    resume: () => run(() => post("resume")),
    intake: () => { if (window.OnestopDesk.toggleIntake) window.OnestopDesk.toggleIntake(); },
    reprint: () => run(reprint),
  };

  root.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-act]");
    if (button && !button.disabled && state.active) ACTIONS[button.dataset.act]();
  });

  async function listAction(button) {
    const id = Number(button.dataset.ticket);
    if (button.dataset.op === "call") {
      await post("call", { ticket_id: id }, T.called_ok);
      return;
    }
    const res = await api(`${API}/tickets/${id}/requeue`, { method: "POST" });
    say(res.ok ? fill(T.requeued_ok, { label: button.dataset.label }) : res.error.message, res.ok ? "ok" : "error");
    await refresh();
  }
  ["missed", "parked"].forEach((id) => $(id).addEventListener("click", (event) => {
    const button = event.target.closest("button[data-op]");
    if (button && !button.disabled && state.active) run(() => listAction(button));
  }));

  $("close-counter").addEventListener("click", () => { if (state.active) run(openClose); });

  // single keys, shown on the buttons; never while typing or in a dialog
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.altKey || event.metaKey || event.repeat) return;
    if (!state.counterId || document.querySelector("dialog[open]")) return;
    const target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    const key = (event.key || "").toLowerCase();
    const button = root.querySelector(`#actions button[data-key="${CSS.escape(key)}"]`);
    if (button) {
      event.preventDefault();
      if (!button.disabled && state.active) ACTIONS[button.dataset.act]();
    }
  });

  // ------------------------------------------------------------------ live updates

  function concerns(name, payload) {
    const v = state.view;
    if (!state.counterId) return name === "counter.changed";
    if (!v) return true;
    const served = new Set(v.counter.service_ids);
    const t = payload.ticket || {};
    switch (name) {
      case "ticket.issued": return served.has(t.service_id);
      case "ticket.called": return (payload.counter || {}).id === state.counterId || served.has(t.service_id);
      case "ticket.changed":
        return payload.action === "transfer" || t.counter_id === state.counterId || served.has(t.service_id);
      case "queue.changed":
        return !(payload.waiting || []).length || payload.waiting.some((w) => served.has(w.service_id));
      case "counter.changed": return (payload.counter || {}).id === state.counterId;
      default: return true;
    }
  }

  function connectSocket() {
    if (typeof io !== "function") return;
    const socket = io("/counter", { reconnectionDelay: 500, reconnectionDelayMax: 5000 });
    const mark = (online) => {
      const node = $("link-state");
      node.dataset.connected = online ? "1" : "0";
      node.textContent = online ? T.online : T.offline;
    };
    socket.on("connect", () => { mark(true); refresh(); });
    socket.on("disconnect", () => mark(false));
    socket.on("connect_error", () => {
      mark(false);
      if (!socket.active) setTimeout(() => socket.connect(), 5000);
    });
    ["ticket.issued", "ticket.called", "ticket.changed", "queue.changed", "counter.changed", "day.closed"]
      .forEach((name) => socket.on(name, (payload) => { if (concerns(name, payload || {})) refreshSoon(); }));
  }

  setInterval(() => { if (document.visibilityState !== "hidden") refresh(); }, RESYNC_MS);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") refresh();
  });

  // ------------------------------------------------------------------ start

  window.OnestopDesk = {
    T, api, el, fill, say, dmyhm, state, run, refresh, finishWith,
    current: () => (state.view ? state.view.current : null),
    onView: (fn) => viewListeners.push(fn),
    toggleIntake: null,
  };

  async function start() {
    const [services] = await Promise.all([api(`${API}/services`), loadCounters()]);
    if (services.ok) state.services = services.data.services;
    const mine = state.counters.find((c) => c.clerk && c.clerk.id === me && c.state !== "closed");
    connectSocket();
    if (mine) await enterDesk(mine.id, false);
    else await showPicker();
  }
  start();
})();
