// Dossier lookup on the kiosk (tra cứu hồ sơ). Settings and texts come from data- attributes
// on #lookup (no inline script); the API's answer is shown with textContent only. Going home
// when idle is kiosk.js's job, as on every kiosk screen.
(function () {
  "use strict";
  const box = document.getElementById("lookup");
  if (!box) return;
  const cfg = box.dataset;
  const root = document.getElementById("kiosk");
  const $ = (id) => document.getElementById(id);
  const fill = (template, values) =>
    String(template || "").replace(/\{(\w+)\}/g, (m, key) => (key in values ? String(values[key]) : m));

  // --- what a scan may be --------------------------------------------------------------------
  // the receipt's QR: {public base URL, maybe with a path}/lookup/{code}?k={token}
  const LOOKUP_URL = /^https?:\/\/[^\s/?#]+(?:\/[^\s?#]*)?\/lookup\/([^\s/?#]+)\/?(?:\?([^\s#]*))?(?:#\S*)?$/i;
  // a dossier code on its own: {unit code}-{yyMMdd}-{NNNN}
  const CODE = /^[A-Z0-9][A-Z0-9.]*(?:-[A-Z0-9.]+)*-\d{6}-\d{4,}$/i;
  const maxCode = parseInt(cfg.maxCode, 10) || 64;
  // a province's dossier code (data-province-pattern, only when a province is set up): looked
  // up there without the phone digits; the server checks the shape again and says what it knows
  const PROVINCE_DEFAULT = "[A-Za-z0-9][A-Za-z0-9.\\-_/]{3,63}";
  const PROVINCE = cfg.province === "1" ? provinceRegExp(cfg.provincePattern) : null;
  function provinceRegExp(pattern) {
    try { return new RegExp("^(?:" + (pattern || PROVINCE_DEFAULT) + ")$"); } catch (err) { /* Python-only syntax */ }
    return new RegExp("^(?:" + PROVINCE_DEFAULT + ")$");
  }
  /** Whether ``code`` may be asked without the phone digits: shaped like the province's. Theirs
   * look like ours (unit code-yymmdd-NNNN): only the server knows whether a code is one of our
   * dossiers, and answers 422 lookup_key_required for those (then the digits are asked for). */
  const provincial = (code) => Boolean(PROVINCE) && PROVINCE.test(code);

  /** The scanned text as {code, k}, {code} (a bare code: the phone digits are needed), or null. */
  function parseScan(raw) {
    const text = String(raw || "").trim();
    if (!text || text.length > 300) return null;
    const url = LOOKUP_URL.exec(text);
    if (url) {
      let code;
      try { code = decodeURIComponent(url[1]).trim(); } catch (err) { return null; }
      if (!code || code.length > maxCode || /[\u0000-\u001f]/.test(code)) return null;
      const k = new URLSearchParams(url[2] || "").get("k") || "";
      return k ? { code, k: k.slice(0, 64) } : (CODE.test(code) ? { code } : null);
    }
    if (text.length > maxCode) return null;
    if (provincial(text)) return { code: text, province: true }; // the province's, or ours
    return CODE.test(text) ? { code: text.toUpperCase() } : null;
  }

  // --- the views: entry (scan or type), camera, result, ticket (ticketscreen.js) -----------------
  const views = { entry: $("lk-entry"), camera: $("lk-camera"), result: $("lk-result"), ticket: $("lk-ticket") };
  // kiosk.js goes home after the idle time; the result and the ticket say when
  const clock = window.kioskTicket.countdown(root.dataset.idle, [$("r-countdown"), $("pk-countdown")], cfg.tCountdown);
  const screen = window.kioskTicket.screens(views, { msg: $("lk-msg"), msgText: $("lk-msg-text"),
    timed: ["result", "ticket"], clock });
  const { show, say, quiet } = screen;
  const startCountdown = () => clock.start();

  // --- asking the API -------------------------------------------------------------------------
  let asked = 0;
  const ASK_MS = 10000;
  async function lookup(params) {
    const mine = ++asked;
    if (root.dataset.lang && root.dataset.lang !== "vi") params = { ...params, lang: root.dataset.lang };
    say(cfg.tSearching, "info");
    let res = null;
    let data = {};
    // the server gives the province 2 s at most; a lookup that still has no answer after
    // ASK_MS is a server that is gone (offline.js's probe decides), never a screen that hangs
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), ASK_MS);
    try {
      res = await fetch(cfg.api + "?" + new URLSearchParams(params).toString(),
        { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" }, signal: ctrl.signal });
      try { data = await res.json(); } catch (err) { data = {}; }
    } catch (err) { res = null; if (window.kioskNet) window.kioskNet.check(); } // offline.js: the overlay
    clearTimeout(timer);
    if (mine !== asked) return; // a newer scan came in meanwhile
    if (res && res.ok) { showResult(data, params); return; }
    if (res && res.status === 429) { say(cfg.tRateLimited, "bad"); return; }
    const keyless = !params.k && !params.phone4;
    if (res && res.status === 422 && keyless && (data.error || {}).code === "lookup_key_required") {
      needPhone(params.code); // one of our dossiers: the QR or the phone digits prove it
      return;
    }
    if (res && (res.status === 404 || res.status === 422)) { say(cfg.tNotFound, "bad"); return; }
    say(root.dataset.tOffline, "bad");
  }

  function handleScan(raw) {
    if (screen.view === "camera") closeCamera(); // the USB scanner was quicker
    // a booking's QR (lịch hẹn), not a dossier's: the check-in screen takes it
    if (window.kioskScan.bookingLink(raw)) { window.kioskScan.handOff(raw, cfg.bookingUrl); return; }
    const found = parseScan(raw);
    if (!found) { ++asked; say(cfg.tGarbage, "bad"); return; }
    if (found.k) { lookup({ code: found.code, k: found.k }); return; }
    if (found.province) { lookup({ code: found.code }); return; } // the province's, or ours (422)
    needPhone(found.code);
  }

  // a bare code of ours (a printed barcode, not the QR): the phone digits prove the citizen's own
  let ours = ""; // the code the server said is one of ours: no asking it without digits again
  function needPhone(code) {
    ours = code.toUpperCase();
    show("entry");
    typed.code = code;
    typed.phone = "";
    setActive("phone");
    render();
    say(cfg.tNeedPhone, "info");
  }

  // --- the USB scanner (scan.js): a burst of keystrokes ---------------------------------------
  window.kioskScan.listen(handleScan);

  // --- typing the code and the phone's last four digits ---------------------------------------
  const typed = { code: "", phone: "" };
  let active = "code";
  const fields = Array.from(document.querySelectorAll(".lk-field"));
  const cells = Array.from(document.querySelectorAll("#lk-phone .lk-cell"));
  const go = $("lk-go");
  function setActive(name) {
    active = name;
    for (const f of fields) {
      const on = f.dataset.field === name;
      f.classList.toggle("is-active", on);
      f.setAttribute("aria-pressed", on ? "true" : "false");
    }
    // the phone takes digits only
    for (const key of document.querySelectorAll("#lk-keyboard .key-letter")) key.disabled = name === "phone";
  }
  function render() {
    $("lk-code").textContent = typed.code;
    $("lk-code-hint").hidden = typed.code.length > 0;
    cells.forEach((cell, i) => {
      cell.textContent = typed.phone[i] || "";
      cell.classList.toggle("is-next", active === "phone" && i === typed.phone.length);
    });
    const code = typed.code.trim();
    go.disabled = !(code.length >= 3 && (/^\d{4}$/.test(typed.phone) || (!typed.phone && provincial(code) && code.toUpperCase() !== ours)));
  }
  function press(key) {
    quiet();
    if (key === "clear") {
      typed.code = "";
      typed.phone = "";
      setActive("code");
    } else if (key === "back") {
      if (active === "phone" && !typed.phone) setActive("code");
      else typed[active] = typed[active].slice(0, -1);
    } else if (active === "phone") {
      if (/^\d$/.test(key) && typed.phone.length < 4) typed.phone += key;
    } else if (typed.code.length < maxCode) {
      typed.code += key;
    }
    render();
  }
  $("lk-keyboard").addEventListener("click", (ev) => {
    const key = ev.target.closest("[data-key]");
    if (key && !key.disabled) press(key.dataset.key);
  });
  for (const f of fields) {
    f.addEventListener("click", () => { setActive(f.dataset.field); render(); });
  }
  go.addEventListener("click", () => {
    if (go.disabled) return;
    const code = typed.code.trim();
    lookup(typed.phone ? { code, phone4: typed.phone } : { code }); // no digits: the province's code
  });

  // --- the result --------------------------------------------------------------------------
  const RUNNING = ["received", "processing"]; // the only states where "late" has a meaning
  const stateClass = (state) => "lk-state is-" + String(state || "").replace(/[^a-z_]/g, "");
  function showResult(data, params) {
    const fromProvince = data.source === "province"; // a code only the province knows
    $("r-state").textContent = data.state_label || "";
    $("r-state-box").className = stateClass(data.state);
    $("r-state-title").textContent = fromProvince ? cfg.tProvinceTitle : cfg.tStateTitle;
    // a linked dossier: the province's word beside ours (or that it did not answer in time)
    const theirs = !fromProvince && data.provincial ? data.provincial : null;
    $("r-province").hidden = !theirs;
    if (theirs) {
      $("r-province").className = stateClass(theirs.state) + " lk-province";
      $("r-province-label").textContent = theirs.state_label || "";
    }
    $("r-name").parentElement.hidden = fromProvince; // the province's answer: nothing personal
    const badge = $("r-badge");
    badge.hidden = fromProvince || !RUNNING.includes(data.state);
    badge.textContent = data.overdue ? cfg.tOverdue : cfg.tOnTime;
    badge.className = "lk-badge " + (data.overdue ? "is-late" : "is-ok");
    $("r-apology").hidden = !data.overdue;
    $("r-missing-box").hidden = !data.missing;
    $("r-missing").textContent = data.missing || "";
    $("r-code").textContent = data.code || "";
    $("r-procedure").textContent = data.procedure || "";
    $("r-name").textContent = data.applicant_name || "";
    $("r-received").textContent = data.received_date || "";
    $("r-appointment").textContent = data.appointment_date || "";
    $("r-rescheduled").hidden = !data.rescheduled;
    for (const id of ["r-procedure", "r-received", "r-appointment"]) { // the province may not say
      $(id).closest(".lk-fact").hidden = fromProvince && !$(id).textContent;
    }
    offerPickup(data, params || {});
    quiet();
    typed.code = "";
    typed.phone = "";
    setActive("code");
    render();
    show("result");
    views.result.scrollTop = 0;
    startCountdown();
  }

  // --- back for the result: one tap takes a ticket linked to the dossier ---------------------
  // Offered for a dossier ready (nhận kết quả) or awaiting a supplement (nộp bổ sung), at a
  // paired kiosk only (the API takes a kiosk's token). The dossier is proved again with what
  // the lookup used: the QR's k, or the phone's last four digits.
  const PURPOSES = { ready: "pickup", supplement_requested: "supplement" };
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  let offered = null;
  function offerPickup(data, params) {
    const purpose = data.source === "province" ? null : PURPOSES[data.state]; // not a dossier of ours
    offered = purpose && root.dataset.paired === "1"
      ? { code: data.code, purpose, key: params.k ? { k: params.k } : { phone4: params.phone4 } } : null;
    $("r-offer").hidden = !offered;
    $("r-offer-msg").hidden = true;
    if (!offered) return;
    $("r-offer-text").textContent = purpose === "pickup" ? cfg.tOfferPickup : cfg.tOfferSupplement;
    $("r-offer-note").textContent = purpose === "pickup" ? cfg.tOfferNotePickup : cfg.tOfferNoteSupplement;
    $("r-offer-btn").disabled = false;
  }
  function offerSays(text) {
    $("r-offer-msg").textContent = text;
    $("r-offer-msg").hidden = false;
  }
  let taking = false;
  async function takePickup() {
    if (!offered || taking) return;
    const mine = offered;
    taking = true;
    $("r-offer-btn").disabled = true;
    let res = null;
    let data = {};
    try {
      res = await fetch(cfg.pickupUrl.replace("{code}", encodeURIComponent(mine.code)), {
        method: "POST", credentials: "same-origin", cache: "no-store",
        headers: { "Content-Type": "application/json", Accept: "application/json",
          "X-CSRFToken": csrfMeta ? csrfMeta.content : "" },
        body: JSON.stringify(mine.key) });
      try { data = await res.json(); } catch (err) { data = {}; }
    } catch (err) { res = null; if (window.kioskNet) window.kioskNet.check(); } // offline.js
    taking = false;
    if (mine !== offered || screen.view !== "result") return; // the screen moved on meanwhile
    const error = data.error || {};
    if (res && res.ok) { showTicket(data, mine); return; }
    $("r-offer-btn").disabled = false;
    if (!res) { offerSays(root.dataset.tOffline); return; }
    if (error.code === "csrf_failed") { location.reload(); return; }
    if (res.status === 401 || res.status === 403) { offerSays(cfg.tUnpaired); return; }
    if (error.code === "pickup_ticket_exists") {
      $("r-offer-btn").disabled = true;
      offerSays(fill(cfg.tPickupExists, { label: error.label || "" }));
      return;
    }
    offerSays(error.message || root.dataset.tOffline);
  }

  const ticketBox = views.ticket;
  function showTicket(data, asked) {
    $("pk-number").textContent = data.label || "";
    const linked = data.dossier || { code: asked.code, purpose: asked.purpose };
    $("pk-purpose").textContent = fill(linked.purpose === "supplement" ? cfg.tPurposeSupplement
      : cfg.tPurposePickup, { code: linked.code });
    $("pk-field").textContent = data.service || "";
    $("pk-ahead").textContent = data.waiting_ahead;
    const word = $("pk-ahead-word");
    word.textContent = Number(data.waiting_ahead) === 1 ? word.dataset.one : word.dataset.other;
    $("pk-qr").src = cfg.qrUrl.replace("/0.svg", "/" + data.id + ".svg");
    window.kioskTicket.print(ticketBox, data.print_state, cfg.ticketUrl.replace(/\/0$/, "/" + data.id),
      () => screen.view === "ticket");
    offered = null;
    show("ticket");
    ticketBox.scrollTop = 0;
    startCountdown();
  }

  document.addEventListener("click", (ev) => {
    if (ev.target.closest('[data-action="again"]')) { quiet(); show("entry"); }
    if (ev.target.closest('[data-action="camera-close"]')) closeCamera();
    if (ev.target.closest('[data-action="pickup"]')) takePickup();
  });

  // --- the camera (scan.js): only where there is one, code and .wasm loaded on the first tap --
  const cam = window.kioskScan.camera({
    video: $("lk-video"), js: cfg.detectorJs, wasm: cfg.detectorWasm,
    onCode: handleScan,
    onFail: () => say(cfg.tCameraFailed, "bad"),
    onClose: () => { if (screen.view === "camera") show("entry"); },
  });
  const closeCamera = cam.close;
  function openCamera() {
    quiet();
    show("camera");
    cam.open();
  }
  const cameraButton = $("lk-camera-btn");
  cameraButton.addEventListener("click", openCamera);
  cam.available().then((yes) => { cameraButton.hidden = !yes; });

  // a picture instead of the camera (the browser test: the decoder without a camera)
  window.kioskLookup = Object.freeze({
    scanImage: (blob) => window.kioskScan.scanImage(cfg.detectorJs, cfg.detectorWasm, blob, handleScan),
  });

  setActive("code");
  render();
})();
