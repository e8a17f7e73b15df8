// The rating tablet of one counter (/counter/tablet) and its pairing screen.
// Idle: the counter and the clerk on duty. `rating.requested` on /counter: the rating
// buttons. The lowest level asks for reasons and/or a comment typed on the on-screen
// keyboard (Vietnamese tone keys). No answer within the unit's timeout: `not_rated`.
(function () {
  "use strict";
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = () => (csrfMeta ? csrfMeta.content : "");
  const $ = (id) => document.getElementById(id);

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  async function postJSON(url, body) {
    const res = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(body),
    });
    let data = {};
    try { data = await res.json(); } catch (err) { data = {}; }
    return { ok: res.ok, status: res.status, data };
  }

  // ------------------------------------------------------------------ pairing screen
  function pairing(root) {
    const ds = root.dataset;
    const status = $("pair-status");
    async function pair(code) {
      status.textContent = "";
      try {
        const res = await postJSON(ds.pairUrl, { code: code.trim() });
        if (!res.ok) throw new Error((res.data.error && res.data.error.message) || res.status);
        const device = res.data.device || {};
        if (device.kind !== "tablet" || !device.counter_id) {
          status.textContent = ds.tNotTablet;
          return;
        }
        status.textContent = ds.tDone;
        setTimeout(() => location.replace(ds.tabletUrl), 800);
      } catch (err) {
        status.textContent = `${ds.tFailed} ${err.message}`;
      }
    }
    $("pair-form").addEventListener("submit", (event) => {
      event.preventDefault();
      pair($("pair-code").value);
    });
    if (ds.code) pair(ds.code);
  }

  // ------------------------------------------------------------------ on-screen keyboard
  const TONE_MARKS = { acute: "\u0301", grave: "\u0300", hook: "\u0309", tilde: "\u0303", dot: "\u0323" };
  const TONE_SAMPLES = { acute: "á", grave: "à", hook: "ả", tilde: "ã", dot: "ạ" };
  const ANY_TONE = /[\u0300\u0301\u0303\u0309\u0323]/g;
  const VOWELS = "aăâeêioôơuưy";
  const HATTED = "ăâêôơư";

  // Where Vietnamese puts the tone of a word: on the vowel with a hat or horn (ơ of ươ),
  // else the only vowel, else the last vowel before a final consonant, else the first of
  // two closing vowels (hòa, của, mía) or the middle of three (ngoài); "qu" and "gi" are
  // consonants. Returns the text with the last word's tone replaced, or null.
  function applyTone(text, tone) {
    const match = text.match(/[\p{L}\u0300-\u036f]+$/u);
    if (!match) return null;
    const word = [...match[0].normalize("NFD").replace(ANY_TONE, "").normalize("NFC")];
    const lower = word.map((c) => c.toLowerCase());
    let end = -1;
    for (let i = lower.length - 1; i >= 0; i -= 1) if (VOWELS.includes(lower[i])) { end = i; break; }
    if (end < 0) return null;
    let start = end;
    while (start > 0 && VOWELS.includes(lower[start - 1])) start -= 1;
    const cluster = [];
    for (let i = start; i <= end; i += 1) cluster.push(i);
    const head = lower.slice(0, 2).join("");
    if ((head === "qu" || head === "gi") && cluster[0] === 1 && cluster.length > 1) cluster.shift();
    const hatted = cluster.filter((i) => HATTED.includes(lower[i]));
    let pos;
    if (hatted.length) pos = hatted[hatted.length - 1];
    else if (cluster.length === 1) pos = cluster[0];
    else if (end < lower.length - 1) pos = cluster[cluster.length - 1];
    else pos = cluster.length === 2 ? cluster[0] : cluster[1];
    word[pos] = (word[pos] + TONE_MARKS[tone]).normalize("NFC");
    return text.slice(0, text.length - match[0].length) + word.join("");
  }

  function keyboard(root, target, onInput) {
    const ds = root.dataset;
    const toneNames = JSON.parse(ds.tones || "{}");
    let shift = false;
    const rows = [
      "1234567890".split(""),
      "qwertyuiop".split(""),
      "asdfghjkl".split(""),
      ["shift", ..."zxcvbnm".split(""), "backspace"],
      [..."ăâđêôơư".split(""), ",", "."],
      ["acute", "grave", "hook", "tilde", "dot", "space"],
    ];
    const letterKeys = [];

    function type(text) {
      const max = Number(target.getAttribute("maxlength")) || 500;
      if ((target.value + text).length > max) return;
      target.value += text;
    }

    function press(key) {
      if (key === "shift") {
        shift = !shift;
        render();
        return;
      }
      if (key === "backspace") target.value = [...target.value].slice(0, -1).join("");
      else if (key === "space") type(" ");
      else if (TONE_MARKS[key]) {
        const toned = applyTone(target.value, key);
        if (toned !== null) target.value = toned;
      } else {
        type(shift ? key.toUpperCase() : key);
        if (shift) { shift = false; render(); }
      }
      onInput();
    }

    function render() {
      letterKeys.forEach(([button, key]) => { button.textContent = shift ? key.toUpperCase() : key; });
      root.querySelectorAll("[data-key=shift]").forEach((b) => b.classList.toggle("on", shift));
    }

    rows.forEach((keys) => {
      const row = el("div", "t-kb-row");
      keys.forEach((key) => {
        const button = el("button", "t-key");
        button.type = "button";
        button.dataset.key = key;
        if (key === "space") { button.textContent = ds.space; button.classList.add("t-key-wide"); }
        else if (key === "backspace") { button.textContent = "⌫"; button.setAttribute("aria-label", ds.backspace); }
        else if (key === "shift") { button.textContent = "⇧"; button.setAttribute("aria-label", ds.shift); }
        else if (TONE_MARKS[key]) {
          button.textContent = TONE_SAMPLES[key];
          button.classList.add("t-key-tone");
          button.setAttribute("aria-label", toneNames[key] || key);
        } else { button.textContent = key; letterKeys.push([button, key]); }
        // pointerdown keeps the focus (and the caret) where it was
        button.addEventListener("pointerdown", (event) => event.preventDefault());
        button.addEventListener("click", () => press(key));
        row.appendChild(button);
      });
      root.appendChild(row);
    });
    return { reset() { shift = false; render(); } };
  }

  // ------------------------------------------------------------------ faces on the levels
  // Our own line drawings (no icon set): a face whose mouth goes from a broad smile to a
  // frown, so a citizen who does not read the words still finds the level. By position:
  // three levels are smile / smile / frown, five go smile, smile, straight, frown, frown.
  const SVG = "http://www.w3.org/2000/svg";
  const MOUTHS = {
    grin: "M18 38 Q32 54 46 38 Z", smile: "M20 40 Q32 50 44 40", straight: "M21 43 H43",
    frown: "M20 46 Q32 36 44 46", sob: "M18 48 Q32 32 46 48",
  };
  const FACES = { 3: ["grin", "smile", "frown"], 5: ["grin", "smile", "straight", "frown", "sob"] };

  function face(index, count) {
    const moods = FACES[count] || FACES[3];
    const mood = moods[Math.round((index * (moods.length - 1)) / Math.max(1, count - 1))];
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 64 64");
    svg.setAttribute("class", `t-face t-face-${mood}`);
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const part = (tag, attrs) => {
      const node = document.createElementNS(SVG, tag);
      Object.entries(attrs).forEach(([key, value]) => node.setAttribute(key, value));
      svg.appendChild(node);
    };
    part("circle", { cx: 32, cy: 32, r: 28, class: "t-face-head" });
    part("circle", { cx: 23, cy: 26, r: 3.5, class: "t-face-eye" });
    part("circle", { cx: 41, cy: 26, r: 3.5, class: "t-face-eye" });
    part("path", { d: MOUTHS[mood], class: `t-face-mouth${mood === "grin" ? " t-face-open" : ""}` });
    return svg;
  }

  // ------------------------------------------------------------------ the rating tablet
  function tablet(root, config) {
    const T = config.texts || {};
    let levels = config.levels || [];
    let reasons = config.reasons || [];
    let scale = config.scale;
    let timeoutS = config.timeout_seconds || 30;
    let counter = config.counter;
    let asking = null; // {ticket, level}
    let deadline = 0;
    let sending = false;
    let thanksTimer = null;
    const chosen = new Set();
    const comment = $("comment");

    function show(screen) {
      root.dataset.screen = screen;
      ["idle", "rate", "reason", "thanks"].forEach((name) => { $(`screen-${name}`).hidden = name !== screen; });
    }

    function renderIdle(state) {
      counter = state.counter || counter;
      $("idle-number").textContent = counter.number;
      $("idle-name").textContent = counter.name || "";
      $("idle-clerk").textContent = state.clerk ? state.clerk.name : T.no_clerk;
      root.dataset.clerk = state.clerk ? String(state.clerk.id) : "";
    }

    function renderLevels() {
      const box = $("levels");
      box.replaceChildren();
      box.dataset.count = String(levels.length);
      levels.forEach((level, index) => {
        const button = el("button", `t-level t-level-${index + 1}-of-${levels.length}`);
        button.append(face(index, levels.length), el("span", "t-level-word", level.label));
        button.type = "button";
        button.dataset.level = level.code;
        button.dataset.code = level.code;
        button.addEventListener("click", () => choose(level));
        box.appendChild(button);
      });
    }

    function renderReasons() {
      const box = $("reasons");
      box.replaceChildren();
      reasons.forEach((reason) => {
        const chip = el("button", "t-chip", reason.label);
        chip.type = "button";
        chip.dataset.reason = reason.value;
        chip.setAttribute("aria-pressed", "false");
        chip.addEventListener("click", () => {
          if (chosen.has(reason.value)) chosen.delete(reason.value);
          else chosen.add(reason.value);
          chip.setAttribute("aria-pressed", chosen.has(reason.value) ? "true" : "false");
          if (chosen.size) $("reason-error").textContent = ""; // answered: the request goes
          touch();
        });
        box.appendChild(chip);
      });
    }

    function applyState(state) {
      // while asking, keep the levels shown unless these are the same scale, translated
      if (state.levels && (!asking || state.scale === scale)) {
        levels = state.levels;
        scale = state.scale;
        renderLevels();
      }
      if (!asking) reasons = state.reasons || reasons;
      timeoutS = state.timeout_seconds || timeoutS;
      renderIdle(state);
      if (state.pending && !asking) ask(state.pending);
    }

    async function refresh() {
      try {
        const url = new URL(config.state_url, location.href);
        if (config.lang) url.searchParams.set("lang", config.lang);
        const res = await fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } });
        if (res.status === 403) { location.reload(); return; } // unpaired or revoked
        if (res.ok) applyState(await res.json());
      } catch (err) { /* offline: the socket's reconnect refreshes again */ }
    }

    // --- the countdown: any touch gives the citizen the whole timeout again
    function touch() { if (asking) deadline = Date.now() + timeoutS * 1000; }

    function tick() {
      if (!asking || sending) return;
      const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
      document.querySelectorAll("[data-countdown]").forEach((node) => {
        node.textContent = (T.countdown || "{n}").replace("{n}", String(left));
      });
      if (left <= 0) timedOut();
    }

    function ask(payload) {
      if (asking && asking.ticket.id === payload.ticket.id) return;
      if (asking) send(asking.ticket.id, { level: "not_rated" }); // the next citizen is here
      clearTimeout(thanksTimer);
      asking = { ticket: payload.ticket };
      if (payload.scale && payload.scale !== scale && payload.levels) {
        levels = payload.levels; // the unit changed its scale: Vietnamese labels until refreshed
        scale = payload.scale;
        refresh();
      }
      if (payload.timeout_seconds) timeoutS = payload.timeout_seconds;
      chosen.clear();
      comment.value = "";
      kb.reset();
      renderLevels();
      renderReasons();
      $("rate-label").textContent = payload.ticket.label;
      $("rate-service").textContent = payload.ticket.service || "";
      $("rate-error").textContent = "";
      $("reason-error").textContent = "";
      root.dataset.ticket = String(payload.ticket.id);
      touch();
      show("rate");
      tick();
    }

    function idle() {
      asking = null;
      sending = false;
      delete root.dataset.ticket;
      show("idle");
    }

    async function send(ticketId, body) {
      return postJSON(config.rate_url, { ticket_id: ticketId, ...body });
    }

    async function submit(body, errorBox) {
      if (!asking || sending) return;
      sending = true;
      const ticketId = asking.ticket.id;
      let res;
      try {
        res = await send(ticketId, body);
      } catch (err) {
        res = { ok: false, status: 0, data: {} };
      }
      sending = false;
      if (!asking || asking.ticket.id !== ticketId) return;
      const code = res.data && res.data.error ? res.data.error.code : "";
      if (res.ok || code === "already_rated" || code === "ticket_not_finished" || res.status === 404) {
        thanks();
        return;
      }
      if (code === "csrf_failed") { location.reload(); return; }
      errorBox.textContent = (res.data.error && res.data.error.message) || T.send_failed;
      touch();
    }

    function thanks() {
      asking = null;
      delete root.dataset.ticket;
      show("thanks");
      thanksTimer = setTimeout(() => { if (!asking) idle(); }, 3000);
    }

    function choose(level) {
      touch();
      if (level.needs_reason) {
        asking.level = level.code;
        show("reason");
        tick();
        return;
      }
      submit({ level: level.code }, $("rate-error"));
    }

    function sendReasons() {
      touch();
      const text = comment.value.trim();
      if (!chosen.size && text.length < 3) {
        $("reason-error").textContent = T.pick_reason;
        return;
      }
      $("reason-error").textContent = "";
      submit({ level: asking.level, reasons: [...chosen], comment: text }, $("reason-error"));
    }

    async function timedOut() {
      if (!asking) return;
      const ticketId = asking.ticket.id;
      asking = null;
      idle();
      try { await send(ticketId, { level: "not_rated" }); } catch (err) { /* nothing to keep */ }
    }

    // a comment long enough answers the request too
    const typed = () => {
      touch();
      if (comment.value.trim().length >= 3) $("reason-error").textContent = "";
    };
    const kb = keyboard($("keyboard"), comment, typed);
    comment.addEventListener("input", typed);
    $("reason-back").addEventListener("click", () => { touch(); show("rate"); });
    $("reason-send").addEventListener("click", sendReasons);
    root.addEventListener("pointerdown", touch, true);
    setInterval(tick, 250);

    renderIdle(config);
    renderLevels();
    if (config.pending) ask(config.pending);

    const socket = io("/counter", { reconnectionDelay: 500, reconnectionDelayMax: 5000 });
    const mark = (online) => {
      $("offline").hidden = online;
      root.dataset.connected = online ? "1" : "0";
    };
    socket.on("connect", () => { mark(true); refresh(); });
    socket.on("disconnect", () => mark(false));
    socket.on("connect_error", () => {
      mark(false);
      if (!socket.active) setTimeout(() => socket.connect(), 5000);
    });
    socket.on("counter.changed", (payload) => {
      if (payload && payload.counter && payload.counter.id === counter.id) refresh();
    });
    socket.on("rating.requested", (payload) => {
      if (payload && payload.counter && payload.counter.id === counter.id && payload.ticket) ask(payload);
    });
    window.__tablet = { applyTone }; // for tests
  }

  const pairRoot = $("tablet-pair");
  if (pairRoot) pairing(pairRoot);
  const root = $("tablet");
  if (root) tablet(root, JSON.parse($("tablet-config").textContent));
})();
