// Booking check-in on the kiosk (nhận số theo lịch hẹn). The QR comes in through scan.js (the
// USB scanner or the camera, as on the dossier lookup); or the citizen types the booking's
// code and the phone's last four digits. POST /api/v1/bookings/{code}/check-in with the
// kiosk's cookie; the answer is shown with textContent only. Going home when idle is
// kiosk.js's job, as on every kiosk screen.
(function () {
  "use strict";
  const box = document.getElementById("booking");
  if (!box || !window.kioskScan) return;
  const cfg = box.dataset;
  const root = document.getElementById("kiosk");
  const scan = window.kioskScan;
  const $ = (id) => document.getElementById(id);
  const fill = (template, values) =>
    String(template || "").replace(/\{(\w+)\}/g, (m, key) => (key in values ? String(values[key]) : m));
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const codeLength = parseInt(cfg.codeLength, 10) || 6;
  const CODE_CHARS = /^[A-HJ-NP-Z2-9]$/; // a booking's code: no 0/O/1/I

  // --- times in the unit's timezone -----------------------------------------------------------
  const fmt = (() => {
    try {
      return new Intl.DateTimeFormat("en-GB", { timeZone: root.dataset.tz, year: "numeric", month: "2-digit",
        day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    } catch (err) { return null; }
  })();
  function local(when) {
    const date = when instanceof Date ? when : new Date(when);
    if (Number.isNaN(date.getTime())) return { time: "", date: "" };
    if (!fmt) return { time: date.toTimeString().slice(0, 5), date: date.toLocaleDateString("en-GB") };
    const p = Object.fromEntries(fmt.formatToParts(date).map((x) => [x.type, x.value]));
    return { time: p.hour + ":" + p.minute, date: p.day + "/" + p.month + "/" + p.year };
  }

  // --- the views: entry (scan or type), camera, answer, ticket (ticketscreen.js) -----------------
  const views = { entry: $("bk-entry"), camera: $("bk-camera"), answer: $("bk-answer"), ticket: $("bk-ticket") };
  // kiosk.js goes home after the idle time; the answer and the ticket say when
  const clock = window.kioskTicket.countdown(root.dataset.idle, [$("bk-countdown"), $("bk-answer-countdown")],
    cfg.tCountdown);
  const screen = window.kioskTicket.screens(views, { msg: $("bk-msg"), msgText: $("bk-msg-text"),
    timed: ["answer", "ticket"], clock });
  const { show, say, quiet } = screen;
  const startCountdown = () => clock.start();

  // --- asking the API -------------------------------------------------------------------------
  let asked = 0;
  let proof = null; // {code, k} (scanned) or {code, last4} (typed): asked again for a normal ticket
  async function post(code, body) {
    let res = null;
    let data = {};
    try {
      res = await fetch(cfg.api.replace("{code}", encodeURIComponent(code)), {
        method: "POST", credentials: "same-origin", cache: "no-store",
        headers: { "Content-Type": "application/json", Accept: "application/json",
          "X-CSRFToken": csrfMeta ? csrfMeta.content : "" },
        body: JSON.stringify(body) });
      try { data = await res.json(); } catch (err) { data = {}; }
    } catch (err) { res = null; if (window.kioskNet) window.kioskNet.check(); } // offline.js: the overlay
    return { res, data };
  }
  // the proof the booking is the citizen's: the key in its scanned link, or the phone's digits
  const keyOf = (p) => (p.k ? { k: p.k } : { last4: p.last4 });

  async function checkIn(p) {
    const mine = ++asked;
    proof = p;
    say(cfg.tChecking, "info");
    const { res, data } = await post(p.code, keyOf(p));
    if (mine !== asked) return; // a newer scan came in meanwhile
    if (res && res.ok) { showTicket(data); return; }
    refused(res, data.error || {});
  }

  /** What a refusal says (the times from the booking's start and the unit's tolerance). */
  function refused(res, error) {
    if (!res) { say(root.dataset.tOffline, "bad"); return; }
    if (error.code === "csrf_failed") { location.reload(); return; }
    if (res.status === 401 || res.status === 403) { say(cfg.tUnpaired, "bad"); return; }
    if (res.status === 429) { say(cfg.tRateLimited, "bad"); return; }
    if (res.status === 404 || res.status === 422) { say(cfg.tNotFound, "bad"); return; }
    const code = error.code || "";
    if (code === "too_early" || code === "too_late") { outside(code, error); return; }
    if (code === "booking_not_active") { answer(cfg.tNotActive, ""); return; }
    if (code === "already_checked_in") {
      answer(cfg.tAlready, "");
      return;
    }
    if (code === "booking_other_day") {
      const ymd = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(error.date || ""));
      const day = ymd ? ymd[3] + "/" + ymd[2] + "/" + ymd[1] : "";
      answer(day ? fill(cfg.tOtherDayDate, { date: day }) : cfg.tOtherDay, "");
      return;
    }
    say(error.message || root.dataset.tOffline, "bad");
  }

  // the API says the slot's start and the tolerance in the unit's local HH:MM
  const CLOCK = /^\d{1,2}:\d{2}$/;
  function outside(code, error) {
    const known = [error.start, error.from, error.until].every((t) => CLOCK.test(String(t || "")));
    const text = known ? fill(code === "too_early" ? cfg.tTooEarly : cfg.tTooLate,
      { time: error.start, from: error.from, until: error.until }) : error.message || "";
    const offer = cfg.outsideTicket === "1";
    answer(text, offer ? cfg.tOutsideOffer : cfg.tOutsideNone, offer);
  }

  function answer(text, note, offer) {
    quiet();
    $("bk-answer-text").textContent = text;
    $("bk-answer-note").textContent = note || "";
    $("bk-answer-note").hidden = !note;
    const normal = $("bk-normal");
    normal.hidden = !offer;
    normal.disabled = false;
    $("bk-normal-msg").hidden = true;
    clearTyped();
    show("answer");
    startCountdown();
    (offer ? normal : views.answer.querySelector('[data-action="again"]')).focus({ preventScroll: true });
  }

  // outside the tolerance, where the unit allows it: a normal ticket instead
  let taking = false;
  async function takeNormal() {
    if (!proof || taking) return;
    const mine = proof;
    taking = true;
    $("bk-normal").disabled = true;
    const { res, data } = await post(mine.code, { ...keyOf(mine), outside: "ticket" });
    taking = false;
    if (mine !== proof || screen.view !== "answer") return; // the screen moved on meanwhile
    if (res && res.ok) { showTicket(data); return; }
    $("bk-normal").disabled = false;
    const error = data.error || {};
    if (res && error.code === "csrf_failed") { location.reload(); return; }
    $("bk-normal-msg").textContent = !res ? root.dataset.tOffline
      : res.status === 401 || res.status === 403 ? cfg.tUnpaired : error.message || root.dataset.tOffline;
    $("bk-normal-msg").hidden = false;
  }

  function handleScan(raw) {
    if (screen.view === "camera") cam.close(); // the USB scanner was quicker
    const found = scan.bookingLink(raw);
    if (!found) { ++asked; say(cfg.tGarbage, "bad"); return; }
    checkIn(found);
  }
  scan.listen(handleScan);

  // --- typing the code and the phone's last four digits ---------------------------------------
  const typed = { code: "", phone: "" };
  let active = "code";
  const fields = Array.from(box.querySelectorAll(".lk-field"));
  const codeCells = Array.from(box.querySelectorAll("#bk-code .lk-cell"));
  const phoneCells = Array.from(box.querySelectorAll("#bk-phone .lk-cell"));
  const go = $("bk-go");
  const keys = Array.from(box.querySelectorAll("#bk-keyboard [data-key]"));
  function setActive(name) {
    active = name;
    for (const f of fields) {
      const on = f.dataset.field === name;
      f.classList.toggle("is-active", on);
      f.setAttribute("aria-pressed", on ? "true" : "false");
    }
    // the phone takes digits only; the code has no 0 or 1
    for (const key of keys) {
      const k = key.dataset.key;
      if (k.length !== 1) continue;
      key.disabled = name === "phone" ? !/^\d$/.test(k) : !CODE_CHARS.test(k);
    }
  }
  function render() {
    const paint = (cells, text, on) => cells.forEach((cell, i) => {
      cell.textContent = text[i] || "";
      cell.classList.toggle("is-next", on && i === text.length);
    });
    paint(codeCells, typed.code, active === "code");
    paint(phoneCells, typed.phone, active === "phone");
    go.disabled = !(typed.code.length === codeLength && /^\d{4}$/.test(typed.phone));
  }
  function clearTyped() {
    typed.code = "";
    typed.phone = "";
    setActive("code");
    render();
  }
  function press(key) {
    quiet();
    if (key === "clear") { clearTyped(); return; }
    if (key === "back") {
      if (active === "phone" && !typed.phone) setActive("code");
      else typed[active] = typed[active].slice(0, -1);
    } else if (active === "phone") {
      if (/^\d$/.test(key) && typed.phone.length < 4) typed.phone += key;
    } else if (CODE_CHARS.test(key) && typed.code.length < codeLength) {
      typed.code += key;
      if (typed.code.length === codeLength) setActive("phone"); // on to the digits
    }
    render();
    if (!go.disabled) go.focus({ preventScroll: true }); // Enter / the next tap checks in
  }
  $("bk-keyboard").addEventListener("click", (ev) => {
    const key = ev.target.closest("[data-key]");
    if (key && !key.disabled) press(key.dataset.key);
  });
  for (const f of fields) f.addEventListener("click", () => { setActive(f.dataset.field); render(); });
  go.addEventListener("click", () => {
    if (go.disabled) return;
    checkIn({ code: typed.code, last4: typed.phone });
  });

  // --- the ticket, shown as every kiosk ticket ------------------------------------------------
  const ticketBox = views.ticket;
  function showTicket(data) {
    quiet();
    $("bk-number").textContent = data.label || "";
    $("bk-field").textContent = data.service || "";
    const booked = data.booking && data.booking.start ? local(data.booking.start).time : "";
    $("bk-booked").hidden = !booked; // a normal ticket (outside the tolerance) has no booking
    $("bk-booked-text").textContent = booked ? fill(cfg.tBookedAt, { time: booked }) : "";
    $("bk-ahead").textContent = data.waiting_ahead;
    const word = $("bk-ahead-word");
    word.textContent = Number(data.waiting_ahead) === 1 ? word.dataset.one : word.dataset.other;
    $("bk-wait").textContent = data.counters_open === 0 ? cfg.tNoCounter // never "soon"
      : data.estimated_wait_minutes ? fill(cfg.tMinutes, { m: data.estimated_wait_minutes }) : cfg.tSoon;
    $("bk-qr").src = cfg.qrUrl.replace("/0.svg", "/" + data.id + ".svg");
    window.kioskTicket.print(ticketBox, data.print_state, cfg.ticketUrl.replace(/\/0$/, "/" + data.id),
      () => screen.view === "ticket");
    proof = null;
    clearTyped();
    show("ticket");
    ticketBox.scrollTop = 0;
    ticketBox.querySelector(".t-done").focus({ preventScroll: true });
    startCountdown();
  }


  document.addEventListener("click", (ev) => {
    if (ev.target.closest('[data-action="again"]')) { quiet(); show("entry"); }
    if (ev.target.closest('[data-action="camera-close"]')) cam.close();
    if (ev.target.closest('[data-action="normal"]')) takeNormal();
  });

  // --- the camera (scan.js) -------------------------------------------------------------------
  const cam = scan.camera({
    video: $("bk-video"), js: cfg.detectorJs, wasm: cfg.detectorWasm,
    onCode: handleScan,
    onFail: () => say(cfg.tCameraFailed, "bad"),
    onClose: () => { if (screen.view === "camera") show("entry"); },
  });
  const cameraButton = $("bk-camera-btn");
  cameraButton.addEventListener("click", () => { quiet(); show("camera"); cam.open(); });
  cam.available().then((yes) => { cameraButton.hidden = !yes; });

  // a picture instead of the camera (the browser test: the decoder without a camera)
  window.kioskBooking = Object.freeze({
    scanImage: (blob) => scan.scanImage(cfg.detectorJs, cfg.detectorWasm, blob, handleScan),
  });

  setActive("code");
  render();
  const handed = scan.takeHandOff(); // a booking's QR read on the home or the lookup screen
  if (handed) handleScan(handed);
})();
