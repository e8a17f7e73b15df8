// Announcements, one at a time and in arrival order: never two sounds at once.
// Only `ticket.called` events are announced (a snapshot never is). For each call the
// server says what to say and where the audio is; the voices are tried in the display's
// order with fallback: recorded clips / espeak-ng (a WAV from the server) -> the browser's
// own Vietnamese voice (speechSynthesis) -> the chime alone.
// Test hook: window.__announcements lists every announcement (text, label, counter, voice).
(function () {
  "use strict";
  const D = window.OnestopDisplay;
  const MIN_MS = 3000; // each call stays on screen at least this long, even chime-only
  const LOAD_TIMEOUT_MS = 8000;
  const SERVER = ["clips", "espeak"];
  window.__announcements = window.__announcements || [];

  function Announcer(opts) {
    this.opts = opts; // {announcementUrl, unit, sentence, config(): {...}, onStart(call, info)}
    this.queue = [];
    this.busy = false;
    this.audio = new Audio();
    this.audio.preload = "auto";
  }

  Announcer.prototype.push = function (call) {
    this.queue.push(call);
    if (!this.busy) this.next();
  };

  Announcer.prototype.next = async function () {
    const call = this.queue.shift();
    if (!call) {
      this.busy = false;
      speaking(false);
      return;
    }
    this.busy = true;
    speaking(true);
    const started = Date.now();
    // each of the unit's languages in turn (Vietnamese first by default), the banner
    // showing the first; the record's text and voice are the first language's
    const langs = (this.opts.config().announcement_languages || ["vi"]).slice(0, 4);
    const info = await this.describe(call, langs[0]);
    const record = { text: info.text, label: call.ticket.label, counter: call.counter.number,
      recall: !!call.recall, voice: null, at: started, langs: [] };
    window.__announcements.push(record);
    try {
      this.opts.onStart(call, info);
    } catch (err) { /* drawing must never stop the sound queue */ }
    for (let i = 0; i < langs.length; i += 1) {
      const said = i === 0 ? info : await this.describe(call, langs[i]);
      const entry = { lang: langs[i], text: said.text, voice: null };
      let used;
      try {
        used = await this.play(i === 0 ? said : Object.assign({}, said, { chime: false }), langs[i]);
      } catch (err) {
        used = "none";
      }
      entry.voice = used;
      record.langs.push(entry);
      if (i === 0) record.voice = used;
    }
    setTimeout(() => this.next(), Math.max(0, MIN_MS - (Date.now() - started)));
  };

  // What to say: asked from the server (it reads numbers the Vietnamese way and knows
  // its voices); if the server cannot be reached, a plain sentence for the browser voice.
  Announcer.prototype.describe = async function (call, lang) {
    const config = this.opts.config();
    const query = { ticket: call.ticket.id, counter: call.counter.id, voice: config.voice,
      unit: this.opts.unit, repeat: this.queue.length ? 1 : undefined, lang };
    try {
      return await D.getJSON(this.opts.announcementUrl, query);
    } catch (err) {
      const text = D.fill(this.opts.sentence, call.ticket.label, call.counter.number);
      return { text, display_text: text, repeat: 1, chime: true, server_voice: null, audio_url: null,
        chain: (config.chain || ["browser", "chime"]).filter((v) => !SERVER.includes(v)),
        chime_url: config.chime_url || "chime.wav" };
    }
  };

  Announcer.prototype.play = async function (info, lang) {
    for (const voice of info.chain || ["chime"]) {
      if (SERVER.includes(voice)) {
        if (voice === info.server_voice && info.audio_url && await this.playUrl(info.audio_url)) return voice;
      } else if (voice === "browser") {
        const vi = browserVoice(lang || "vi");
        if (!vi) continue;
        if (info.chime) await this.playUrl(info.chime_url);
        await this.speak(info.text, vi, info.repeat || 1);
        return voice;
      } else if (voice === "chime") {
        if (info.chime !== false || !lang || lang === "vi") await this.playUrl(info.chime_url);
        return voice;
      }
    }
    return "none";
  };

  // Resolves true when played to the end, false when it cannot be played (the caller
  // falls back); a stalled player is given up after its own length plus a margin.
  Announcer.prototype.playUrl = function (url) {
    const audio = this.audio;
    return new Promise((resolve) => {
      let timer = null;
      const done = (ok) => {
        clearTimeout(timer);
        audio.onended = audio.onerror = audio.onloadedmetadata = null;
        resolve(ok);
      };
      timer = setTimeout(() => done(false), LOAD_TIMEOUT_MS);
      audio.onloadedmetadata = () => {
        clearTimeout(timer);
        const ms = Number.isFinite(audio.duration) ? audio.duration * 1000 + 3000 : 60000;
        timer = setTimeout(() => done(true), ms);
      };
      audio.onended = () => done(true);
      audio.onerror = () => done(false);
      audio.src = url;
      const started = audio.play();
      if (started && started.catch) started.catch(() => done(false));
    });
  };

  Announcer.prototype.speak = async function (text, voice, repeat) {
    for (let i = 0; i < repeat; i += 1) {
      if (i) await new Promise((r) => setTimeout(r, 700));
      await new Promise((resolve) => {
        const u = new SpeechSynthesisUtterance(text);
        u.voice = voice;
        u.lang = voice.lang;
        u.rate = 0.9;
        const timer = setTimeout(resolve, 20000);
        u.onend = u.onerror = () => { clearTimeout(timer); resolve(); };
        window.speechSynthesis.speak(u);
      });
    }
  };

  // the hall's media pane (media.js) pauses its videos while a call is being announced
  function speaking(now) {
    document.dispatchEvent(new CustomEvent("onestop:speaking", { detail: now }));
  }

  function browserVoice(lang) {
    if (!("speechSynthesis" in window)) return null;
    const voices = window.speechSynthesis.getVoices() || [];
    return voices.find((v) => (v.lang || "").toLowerCase().startsWith(lang)) || null;
  }
  // voices load asynchronously in Chromium: ask early so they are there at the first call
  if ("speechSynthesis" in window) window.speechSynthesis.getVoices();

  window.OnestopAnnouncer = Announcer;
})();
