// The clerk's moves beside the card (issue 22): the note left for this clerk, the fields
// waiting too long (queue.wait_alert on /counter, and GET /api/v1/desk/alerts), "Tìm số"
// (GET /api/v1/tickets/search) with the out-of-order call (POST /counters/{id}/call).
(function () {
  "use strict";
  const box = document.getElementById("moves");
  if (!box || !window.OnestopDesk) return;
  const D = window.OnestopDesk;
  const $ = (id) => document.getElementById(id);
  const S = JSON.parse(box.dataset.tStates || "{}");
  const fill = (text, values) => String(text).replace(/%\((\w+)\)s/g, (m, k) => (k in values ? values[k] : m));
  const outOfOrder = box.dataset.outOfOrder === "1";
  let alerts = [];

  function served() {
    const counter = D.state.view && D.state.view.counter;
    return new Set(counter ? counter.service_ids : []);
  }

  D.onView((view) => {
    const cur = view && view.current;
    $("current-note").hidden = !(cur && cur.note);
    $("current-note-text").textContent = cur && cur.note ? cur.note : "";
    renderAlerts();
  });

  function renderAlerts() {
    const mine = served();
    const shown = alerts.filter((a) => mine.has(a.service_id));
    $("wait-alerts").hidden = !shown.length;
    $("wait-alert-list").replaceChildren(...shown.map((a) => D.el("li", "", fill(box.dataset.tAlert,
      { field: a.service, label: a.label, minutes: a.waited_minutes }))));
  }

  async function loadAlerts() {
    const res = await D.api("/api/v1/desk/alerts");
    if (res.ok) { alerts = res.data.alerts; renderAlerts(); }
  }

  function place(t) {
    if (t.counter) return fill(box.dataset.tAtCounter, { n: t.counter.number });
    if (t.target_counter) return fill(box.dataset.tForCounter, { n: t.target_counter.number });
    if (t.state === "waiting") return fill(box.dataset.tAhead, { n: t.waiting_ahead });
    return "";
  }

  async function find(event) {
    event.preventDefault();
    const q = $("find-q").value.trim();
    if (!q) return;
    const res = await D.api("/api/v1/tickets/search?q=" + encodeURIComponent(q));
    const list = $("find-results");
    if (!res.ok) { D.say(res.error.message, "error"); return; }
    if (!res.data.tickets.length) { list.replaceChildren(D.el("li", "muted", box.dataset.tNone)); return; }
    list.replaceChildren(...res.data.tickets.map((t) => {
      const li = D.el("li", "moves-hit");
      li.append(D.el("strong", "", t.label), D.el("span", "", t.service),
        D.el("span", "badge state-" + t.state, S[t.state] || t.state), D.el("span", "muted", place(t)));
      if (t.note) li.append(D.el("span", "moves-hit-note", t.note));
      const callable = (t.state === "waiting" && outOfOrder) || t.state === "missed";
      if (callable && D.state.counterId) {
        const b = D.el("button", "btn btn-go", box.dataset.tCall);
        b.type = "button";
        b.dataset.ticket = t.id;
        b.addEventListener("click", () => callNow(t));
        li.append(b);
      }
      return li;
    }));
  }

  function callNow(t) {
    const reason = $("find-reason").value.trim();
    D.run(async () => {
      const res = await D.api(`/api/v1/counters/${D.state.counterId}/call`, { method: "POST",
        body: reason ? { ticket_id: t.id, reason } : { ticket_id: t.id } });
      if (!res.ok) { D.say(res.error.message, "error"); return; }
      D.say(fill(box.dataset.tCalled, { label: res.data.label }));
      $("find-results").replaceChildren();
      $("find-q").value = "";
      $("find-reason").value = "";
      await D.refresh();
    });
  }

  $("find").addEventListener("submit", find);
  if (typeof io === "function") {
    const socket = io("/counter", { reconnectionDelay: 500, reconnectionDelayMax: 5000 });
    socket.on("connect", loadAlerts);
    socket.on("queue.wait_alert", (payload) => { alerts = (payload && payload.alerts) || []; renderAlerts(); });
  } else {
    loadAlerts();
  }
})();
