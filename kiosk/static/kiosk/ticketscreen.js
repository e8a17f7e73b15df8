// What the kiosk's ticket screens share (the lookup's pickup ticket, the booking check-in):
// the print state of a ticket just issued, followed until it settles, and the countdown home.
//   kioskTicket.print(box, state, url, shown)   shows the state in box's [data-print] parts and,
//                                               while pending, asks url again (while shown())
//   kioskTicket.countdown(idle, nodes, template) -> {start(), stop()}: "home in {s} s" in nodes
//   kioskTicket.screens(views, {msg, msgText, timed, clock}) -> {show(name), say(text, kind),
//                                               quiet(), view}: one view shown at a time (the
//                                               countdown runs on the timed ones), and the
//                                               message line of the "entry" view
(function () {
  "use strict";
  const PRINTED = ["printed", "sent"];
  const PENDING = ["queued_for_agent", "queued", "pending", "printing"];
  function printKey(state) {
    if (state === "failed") return "failed";
    if (PRINTED.includes(state)) return "printed";
    if (PENDING.includes(state)) return "pending";
    return "none";
  }
  function setPrint(box, key) {
    for (const node of box.querySelectorAll("[data-print]")) node.hidden = node.dataset.print !== key;
    box.classList.toggle("is-print-failed", key === "failed" || key === "late");
  }
  function print(box, state, url, shown) {
    setPrint(box, printKey(state));
    if (printKey(state) !== "pending") return;
    const started = Date.now();
    const poll = async () => {
      if (!shown()) return;
      let key = "pending";
      try {
        const res = await fetch(url, { credentials: "same-origin", cache: "no-store" });
        if (res.ok) key = printKey((await res.json()).print_state);
      } catch (err) { key = "pending"; }
      if (key !== "pending") { setPrint(box, key); return; }
      if (Date.now() - started > 20000) { setPrint(box, "late"); return; }
      setTimeout(poll, 1500);
    };
    setTimeout(poll, 1500);
  }

  // kiosk.js goes home after the idle time; the screen says when (its clock, the same events)
  function countdown(idleSeconds, nodes, template) {
    const idle = Math.max(3, parseInt(idleSeconds, 10) || 20);
    let lastTouch = Date.now();
    let timer = null;
    for (const type of ["pointerdown", "touchstart", "keydown", "wheel", "scroll"]) {
      document.addEventListener(type, () => { lastTouch = Date.now(); }, { passive: true, capture: true });
    }
    function stop() { clearInterval(timer); timer = null; }
    function start() {
      stop();
      lastTouch = Date.now();
      const tick = () => {
        const left = String(Math.max(0, Math.ceil(idle - (Date.now() - lastTouch) / 1000)));
        for (const node of nodes) node.textContent = String(template || "").replace("{s}", left);
      };
      tick();
      timer = setInterval(tick, 1000);
    }
    return { start, stop };
  }

  function screens(views, opts) {
    const root = document.getElementById("kiosk");
    let view = "entry";
    function show(name) {
      view = name;
      for (const [key, node] of Object.entries(views)) node.hidden = key !== name;
      if (!opts.timed.includes(name)) opts.clock.stop();
      root.classList.toggle("is-ticket", name === "ticket");
    }
    function say(text, kind) {
      if (view !== "entry") show("entry");
      opts.msgText.textContent = text;
      opts.msg.className = "lk-msg" + (kind ? " is-" + kind : "");
      opts.msg.hidden = false;
    }
    const quiet = () => { opts.msg.hidden = true; };
    return { show, say, quiet, get view() { return view; } };
  }

  window.kioskTicket = Object.freeze({ print, countdown, screens });
})();
