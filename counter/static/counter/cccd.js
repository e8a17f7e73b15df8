// The chip ID card's QR (CCCD) read at the desk: by the USB scanner (a keyboard that types
// the payload in a few milliseconds, then Enter) or typed/pasted into a "Quét CCCD" box.
// The payload is checked by the server only (POST /api/v1/applicants/from-cccd, one rule):
// this script finds it, sends it and hands the answer to the page. Nothing is kept here.
//
//   OnestopCccd.read(payload) -> Promise<{ok: true, data: {name, id_number, ...}} | {ok: false, error}>
//   OnestopCccd.watch(isActive, onResult) -> a scan typed anywhere while isActive() is true
//     calls onResult(answer, payload) instead of landing in the focused field (whose value
//     is put back as it was); the Enter that ends it submits nothing.
//   <input data-cccd-search> (the dossier desk's search box): a scan searches by the ID number.
(function () {
  "use strict";
  const API = "/api/v1/applicants/from-cccd";
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  // the page's texts (data-cccd-* on <html> or the first [data-cccd-network] element)
  const textsFrom = () => (document.querySelector("[data-cccd-network]") || document.documentElement).dataset;

  async function read(payload) {
    let res;
    try {
      res = await fetch(API, { method: "POST", credentials: "same-origin", cache: "no-store",
        headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ payload: String(payload || "").slice(0, 1000) }) });
    } catch (err) {
      return { ok: false, error: { code: "network", message: textsFrom().cccdNetwork || "" } };
    }
    let data = null;
    try { data = await res.json(); } catch (err) { data = null; }
    if (res.ok && data) return { ok: true, data };
    const error = (data && data.error) || { code: "http_" + res.status, message: textsFrom().cccdNetwork || "" };
    return { ok: false, error };
  }

  // --- the USB scanner ---------------------------------------------------------------------
  // A burst is a scan when its keys come <= SCAN_GAP ms apart on average and it holds a "|"
  // (a person types one key in 100 ms or more). Characters a scanner sends without a key
  // event (beforeinput only) count too. From the first "|" of a fast burst on, nothing more
  // lands in the page; at the end (Enter, Tab or silence) the field gets its value back.
  const SCAN_GAP = 35;
  const BREAK_GAP = 100;
  const NO_SUFFIX_WAIT = 300;
  const MIN_LENGTH = 8;

  function watch(isActive, onResult) {
    let burst = "";
    let start = 0;
    let last = 0;
    let target = null;
    let before = null;
    let pendingKey = null;
    let timer = null;
    const editable = (el) => el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA");
    const fast = () => burst.length >= 2 && (last - start) / (burst.length - 1) <= SCAN_GAP;
    const isScan = () => burst.length >= MIN_LENGTH && burst.includes("|") && fast();

    function reset() { burst = ""; target = null; before = null; clearTimeout(timer); }

    function finish() {
      const payload = burst;
      if (editable(target) && before !== null) {
        target.value = before; // whatever of the scan landed before the first "|" goes away
        target.dispatchEvent(new Event("input", { bubbles: true }));
      }
      reset();
      read(payload).then((answer) => onResult(answer, payload));
    }

    function add(text, at, ev) {
      if (at - last > BREAK_GAP) {
        reset();
        start = at;
        target = ev.target;
        before = editable(target) ? target.value : null;
      }
      burst += text;
      last = at;
      if (burst.includes("|") && fast()) {
        ev.preventDefault();
        ev.stopImmediatePropagation(); // not a shortcut of the workstation either
        clearTimeout(timer);
        timer = setTimeout(() => { if (isScan()) finish(); }, NO_SUFFIX_WAIT);
      }
    }

    document.addEventListener("keydown", (ev) => {
      if (!isActive() || ev.ctrlKey || ev.altKey || ev.metaKey || ev.isComposing) return;
      const at = ev.timeStamp || performance.now();
      if (ev.key === "Enter" || ev.key === "Tab") {
        if (isScan() && at - last <= BREAK_GAP) {
          ev.preventDefault(); // the Enter of a scan submits nothing
          ev.stopImmediatePropagation();
          finish();
        }
        return;
      }
      if (!ev.key || ev.key.length !== 1) return; // Shift and friends
      pendingKey = ev.key;
      add(ev.key, at, ev);
    }, true);

    document.addEventListener("beforeinput", (ev) => {
      if (!isActive() || ev.inputType !== "insertText" || !ev.data) return;
      const known = pendingKey === ev.data;
      pendingKey = null;
      if (ev.data.length > 1) { reset(); last = 0; return; } // pasted or autofilled: a scanner sends one at a time
      const at = ev.timeStamp || performance.now();
      if (!known) add(ev.data, at, ev); // a character sent without a key event
      else if (burst.includes("|") && fast()) ev.preventDefault();
    }, true);
  }

  window.OnestopCccd = Object.freeze({ read, watch });

  // a search box marked data-cccd-search (the dossier desk): a scanned card searches by its
  // ID number; a refused read says why under the form and searches nothing
  const search = document.querySelector("input[data-cccd-search]");
  if (search && search.form) {
    const status = document.createElement("p");
    status.className = "cccd-msg is-bad";
    status.setAttribute("role", "alert");
    status.hidden = true;
    search.form.after(status);
    watch(() => !document.querySelector("dialog[open]"), (answer) => {
      status.hidden = answer.ok;
      if (!answer.ok) { status.textContent = answer.error.message || ""; return; }
      search.value = answer.data.id_number;
      search.form.requestSubmit();
    });
  }
})();
