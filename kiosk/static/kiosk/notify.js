// "Nhắn tin khi sắp đến lượt" (issue 21): a phone subscribes a ticket to its messages.
// On the kiosk (data-mode="kiosk") the number is typed on an on-screen keypad for the ticket
// kiosk.js has just shown (its "kiosk:ticket" event); on the ticket page /t/ the phone's own
// keyboard fills an <input type="tel">. Every text is rendered by the server (translated).
(function () {
  "use strict";
  const box = document.getElementById("t-notify");
  if (!box) return;
  const $ = (id) => document.getElementById(id);
  const kiosk = box.dataset.mode === "kiosk";
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const form = $("t-notify-form");
  const go = $("t-notify-go");
  const msg = $("t-notify-msg");
  const open = $("t-notify-open");
  const MAX = 12;
  let ticket = { id: box.dataset.ticketId || "", key: box.dataset.k || "" };
  let digits = "";

  const show = (text, ok) => {
    msg.textContent = text;
    msg.className = "t-notify-msg" + (ok ? " is-ok" : "");
    msg.hidden = false;
  };
  const grouped = (s) => s.replace(/^(\d{4})(\d{0,3})(\d{0,5})$/, (m, a, b, c) => [a, b, c].filter(Boolean).join(" "));
  const phone = () => (kiosk ? digits : $("t-notify-phone").value.trim());
  const render = () => {
    if (kiosk) $("t-notify-phone").textContent = grouped(digits) || "\u00a0";
    go.disabled = phone().replace(/\D/g, "").length < 9;
  };
  const reset = () => {
    digits = "";
    form.hidden = true;
    msg.hidden = true;
    if (open) open.hidden = false;
    render();
  };

  async function submit() {
    go.disabled = true;
    const url = box.dataset.url.replace("/0/", "/" + ticket.id + "/");
    const body = { phone: phone() };
    if (ticket.key) body.k = ticket.key;
    let res, data = {};
    try {
      res = await fetch(url, { method: "POST", credentials: "same-origin", cache: "no-store",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfMeta ? csrfMeta.content : "" },
        body: JSON.stringify(body) });
      try { data = await res.json(); } catch (err) { data = {}; }
    } catch (err) {
      show(box.dataset.tOffline, false);
      render();
      return;
    }
    if (res.ok) {
      form.hidden = true;
      show(box.dataset.tDone.replace("{phone}", data.to || ""), true);
      return;
    }
    show((data.error && data.error.message) || box.dataset.tOffline, false);
    render();
  }

  if (open) {
    open.addEventListener("click", () => {
      open.hidden = true;
      form.hidden = false;
      msg.hidden = true;
      render();
      if (!kiosk) $("t-notify-phone").focus();
    });
  }
  if (kiosk) {
    $("t-notify-pad").addEventListener("click", (ev) => {
      const key = ev.target.closest("[data-key]");
      if (!key) return;
      const k = key.dataset.key;
      if (k === "clear") digits = "";
      else if (k === "back") digits = digits.slice(0, -1);
      else if (digits.length < MAX) digits += k;
      msg.hidden = true;
      render();
    });
    const screen = document.getElementById("ticket");
    if (screen) {
      screen.addEventListener("kiosk:ticket", (ev) => {
        ticket = { id: String(ev.detail.id), key: ev.detail.key || "" };
        reset();
      });
    }
  } else {
    $("t-notify-phone").addEventListener("input", render);
    form.addEventListener("submit", (ev) => { ev.preventDefault(); if (!go.disabled) submit(); });
  }
  go.addEventListener("click", (ev) => { if (!kiosk) return; ev.preventDefault(); submit(); });
  render();
})();
