// Clerk workstation: the clerk's session cookie authenticates; CSRF token in a header.
(function () {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const select = document.getElementById("counter");
  const current = document.getElementById("current");
  const message = document.getElementById("message");

  async function api(path, method) {
    const res = await fetch("/api/v1" + path, {
      method: method || "GET",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: method === "POST" ? "{}" : undefined,
    });
    const data = await res.json();
    message.textContent = res.ok ? "" : data.error.message;
    return res.ok ? data : null;
  }

  async function load() {
    const data = await api("/counters");
    for (const c of data.counters) {
      const opt = document.createElement("option");
      opt.value = c.id;
      opt.textContent = `Quầy ${c.number} — ${c.name}`;
      select.append(opt);
    }
  }

  document.getElementById("open").addEventListener("click", () => api(`/counters/${select.value}/open`, "POST"));
  for (const btn of document.querySelectorAll("[data-action]")) {
    btn.addEventListener("click", async () => {
      const t = await api(`/counters/${select.value}/${btn.dataset.action}`, "POST");
      if (t) current.textContent = t.state === "called" || t.state === "serving" ? t.label : "—";
    });
  }
  load();
})();
