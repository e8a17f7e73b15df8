// Lobby kiosk: one tile per field; a tap issues a ticket through the API.
(function () {
  "use strict";
  const tiles = document.getElementById("tiles");
  const ticketBox = document.getElementById("ticket");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  async function load() {
    const res = await fetch("/api/v1/services");
    const data = await res.json();
    tiles.replaceChildren();
    for (const svc of data.services) {
      const btn = el("button", "tile" + (svc.open_now ? "" : " closed"));
      btn.append(el("strong", "", svc.name));
      btn.append(el("span", "", svc.open_now ? `Đang chờ: ${svc.waiting} · khoảng ${svc.estimated_wait_minutes} phút` : "Hiện không tiếp nhận"));
      btn.disabled = !svc.open_now;
      btn.addEventListener("click", () => issue(svc.id));
      tiles.append(btn);
    }
  }

  async function issue(serviceId) {
    const res = await fetch("/api/v1/tickets", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ service_id: serviceId }),
    });
    const data = await res.json();
    ticketBox.hidden = false;
    ticketBox.replaceChildren();
    if (!res.ok) {
      ticketBox.append(el("p", "alert", data.error.message));
    } else {
      ticketBox.append(el("p", "", "Số thứ tự của Quý công dân"));
      ticketBox.append(el("p", "big-number", data.label));
      ticketBox.append(el("p", "", `${data.service} · ${data.waiting_ahead} người đang chờ trước bạn`));
    }
    setTimeout(() => { ticketBox.hidden = true; load(); }, 15000);
  }

  load();
})();
