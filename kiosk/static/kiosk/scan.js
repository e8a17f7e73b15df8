// The kiosk's ways to read a QR, shared by every screen that takes one (the dossier lookup,
// the booking check-in, the home screen): a USB scanner that types like a keyboard, and the
// camera through the barcode-detector ponyfill. ``window.kioskScan``:
//   listen(handler)            a scanner's burst of keystrokes -> handler(text)
//   camera({video, js, wasm, onCode, onFail, onClose}) -> {open(), close(), available()}
//   detector(js, wasm)         a BarcodeDetector for QR codes (native or the ponyfill)
//   scanImage(js, wasm, blob, handler)  a picture read as the camera would (the browser tests)
//   bookingLink(text)          {code, k} of a booking's manage link (/b/<code>?k=...), or null
//   handOff(text, url)         keep a scan for the next screen and go there
//   takeHandOff()              the scan handed to this screen (once, fresh only), or ""
(function () {
  "use strict";

  // --- the USB scanner: a keyboard that types a whole line in a few milliseconds -------------
  // A burst counts as a scan when it has >= MIN_LENGTH characters at <= SCAN_GAP ms each on
  // average, and ends with Enter (or Tab, or silence for scanners set up without a suffix).
  // A person types one key in 100 ms or more: such keys break the burst and are ignored.
  const MIN_LENGTH = 8;
  const SCAN_GAP = 35;
  const BREAK_GAP = 100;
  const NO_SUFFIX_WAIT = 250;
  function listen(handler) {
    let burst = "";
    let burstStart = 0;
    let burstLast = 0;
    let suffixTimer = null;
    const scanning = (at) => burst.length >= MIN_LENGTH && at - burstLast <= BREAK_GAP &&
      (burstLast - burstStart) / (burst.length - 1) <= SCAN_GAP;
    function endBurst() {
      const text = burst;
      burst = "";
      clearTimeout(suffixTimer);
      return text;
    }
    document.addEventListener("keydown", (ev) => {
      if (ev.ctrlKey || ev.altKey || ev.metaKey || ev.isComposing) return;
      const at = ev.timeStamp || performance.now();
      if (ev.key === "Enter" || ev.key === "Tab") {
        if (scanning(at)) {
          ev.preventDefault(); // not a click on whatever button has the focus
          handler(endBurst());
        } else {
          endBurst();
        }
        return;
      }
      if (!ev.key || ev.key.length !== 1) return; // Shift and friends: part of a scanner's typing
      if (at - burstLast > BREAK_GAP) { burst = ""; burstStart = at; }
      burst += ev.key;
      burstLast = at;
      if (burst.length > 1 && (at - burstStart) / (burst.length - 1) <= SCAN_GAP) {
        ev.preventDefault(); // a scanner's space must not press the focused button
        clearTimeout(suffixTimer);
        suffixTimer = setTimeout(() => {
          if (scanning(burstLast)) handler(endBurst());
        }, NO_SUFFIX_WAIT);
      }
    }, true);
  }

  // --- the camera: only where there is one, code and .wasm loaded on the first tap ----------
  // Chromium on Linux has no BarcodeDetector: the barcode-detector ponyfill (ZXing in
  // WebAssembly) stands in. Its .wasm would come from a CDN by default; locateFile points
  // it at our own copy before the first use.
  let detecting = null;
  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.async = true;
      script.onload = resolve;
      script.onerror = () => reject(new Error("cannot load " + src));
      document.head.append(script);
    });
  }
  async function makeDetector(js, wasm) {
    const native = window.BarcodeDetector;
    if (native && native.getSupportedFormats) {
      try {
        if ((await native.getSupportedFormats()).includes("qr_code")) return new native({ formats: ["qr_code"] });
      } catch (err) { /* fall through to the ponyfill */ }
    }
    if (!window.BarcodeDetectionAPI) await loadScript(js);
    const api = window.BarcodeDetectionAPI;
    await api.prepareZXingModule({
      overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? wasm : prefix + path) },
      fireImmediately: true,
    });
    return new api.BarcodeDetector({ formats: ["qr_code"] });
  }
  function detector(js, wasm) {
    if (!detecting) detecting = makeDetector(js, wasm).catch((err) => { detecting = null; throw err; });
    return detecting;
  }

  /** A picture instead of the camera (the browser tests: the decoder without a camera): the
   * text of its QR, handed to ``handler`` as a camera's read would be. */
  async function scanImage(js, wasm, blob, handler) {
    const found = await detector(js, wasm);
    const codes = await found.detect(await createImageBitmap(blob));
    const raw = codes.length ? codes[0].rawValue : "";
    handler(raw);
    return raw;
  }

  const CAMERA_MAX = 60000; // ms: then the camera closes, and the idle time runs again
  function camera(opts) {
    const video = opts.video;
    let stream = null;
    let watching = 0;
    let awake = null;
    async function available() {
      const md = navigator.mediaDevices;
      if (!md || !md.getUserMedia || !md.enumerateDevices) return false; // also: not a secure origin
      try { return (await md.enumerateDevices()).some((d) => d.kind === "videoinput"); } catch (err) { return false; }
    }
    function close() {
      watching++;
      clearInterval(awake);
      if (stream) for (const track of stream.getTracks()) track.stop();
      stream = null;
      video.srcObject = null;
      if (opts.onClose) opts.onClose();
    }
    async function open() {
      const mine = ++watching;
      const [found, media] = await Promise.allSettled([
        detector(opts.js, opts.wasm),
        navigator.mediaDevices.getUserMedia({ audio: false,
          video: { facingMode: "user", width: { ideal: 1280 }, height: { ideal: 720 } } }),
      ]);
      if (media.status === "fulfilled" && (mine !== watching || found.status !== "fulfilled")) {
        for (const track of media.value.getTracks()) track.stop();
      }
      if (mine !== watching) return; // closed meanwhile
      if (found.status !== "fulfilled" || media.status !== "fulfilled") {
        close();
        opts.onFail();
        return;
      }
      stream = media.value;
      video.srcObject = stream;
      // holding a paper up to the camera touches nothing: keep kiosk.js's idle clock (which
      // counts scroll events as activity) from taking the screen home, for a minute at most
      const opened = Date.now();
      awake = setInterval(() => {
        if (Date.now() - opened > CAMERA_MAX) close();
        else document.dispatchEvent(new Event("scroll"));
      }, 1000);
      try { await video.play(); } catch (err) { /* muted video: plays anyway on kiosks */ }
      const look = async () => {
        if (mine !== watching) return;
        let codes = [];
        try { if (video.readyState >= 2) codes = await found.value.detect(video); } catch (err) { codes = []; }
        if (mine !== watching) return;
        if (codes.length) {
          close();
          opts.onCode(codes[0].rawValue);
          return;
        }
        setTimeout(look, 200);
      };
      look();
    }
    window.addEventListener("pagehide", close);
    return { open, close, available };
  }

  // --- a booking's manage link: {public base URL, maybe with a path}/b/{code}?k={token} ------
  const BOOKING_URL = /^https?:\/\/[^\s/?#]+(?:\/[^\s?#]*)?\/b\/([A-Za-z0-9-]{3,32})\/?\?([^\s#]*)(?:#\S*)?$/;
  function bookingLink(raw) {
    const text = String(raw || "").trim();
    if (text.length > 300) return null;
    const found = BOOKING_URL.exec(text);
    if (!found) return null;
    const k = new URLSearchParams(found[2]).get("k") || "";
    return k ? { code: found[1].toUpperCase(), k: k.slice(0, 128) } : null;
  }

  // a scan read on one screen for another (the home screen's scanner reads a booking's QR):
  // kept in this tab for a few seconds, read once
  const HANDOFF = "onestop.kiosk.scan";
  function handOff(text, url) {
    try { sessionStorage.setItem(HANDOFF, JSON.stringify({ text, at: Date.now() })); } catch (err) { /* private mode */ }
    if (window.kioskNet) window.kioskNet.navigate(url); else location.href = url;
  }
  function takeHandOff() {
    let kept = null;
    try {
      kept = JSON.parse(sessionStorage.getItem(HANDOFF) || "null");
      sessionStorage.removeItem(HANDOFF);
    } catch (err) { kept = null; }
    return kept && Date.now() - kept.at < 15000 ? String(kept.text || "") : "";
  }

  window.kioskScan = Object.freeze({ listen, camera, detector, scanImage, bookingLink, handOff, takeHandOff });

  // a screen marked data-scan-handoff (the home screen): a booking's QR goes to the check-in
  const handing = document.querySelector("[data-scan-handoff]");
  if (handing) listen((raw) => { if (bookingLink(raw)) handOff(raw, handing.dataset.scanHandoff); });
})();
