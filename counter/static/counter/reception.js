// The reception desk (bàn hướng dẫn, tiếp đón): tap a field, then "In phiếu" or "Hiện mã QR".
// POST /api/v1/tickets (note, phone, priority with its reason, procedure), then either
// POST /api/v1/tickets/{id}/print on the chosen printer or the ticket page's QR on screen.
(function () {
  "use strict";
  const root = document.getElementById("rc");
  if (!root) return;
  const T = JSON.parse(root.dataset.texts || "{}");
  const PROCS = JSON.parse(root.dataset.procedures || "{}");
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const $ = (id) => document.getElementById(id);
  const fmt = (text, values) => String(text).replace(/%\((\w+)\)s/g, (m, k) => (k in values ? values[k] : m));
  const PRINTER_KEY = "onestop.reception.printer";
  let service = null;
  let busy = false;

  async function api(path, body) {
    const init = { method: body ? "POST" : "GET", credentials: "same-origin", cache: "no-store",
      headers: { Accept: "application/json" } };
    if (body) {
      init.headers["Content-Type"] = "application/json";
      init.headers["X-CSRFToken"] = csrf;
      init.body = JSON.stringify(body);
    }
    try {
      const res = await fetch(path, init);
      const data = await res.json().catch(() => null);
      if (res.status === 401) location.assign("/login?next=" + encodeURIComponent(location.pathname));
      return { ok: res.ok, data, error: (data && data.error) || { message: T.network } };
    } catch (err) {
      return { ok: false, data: null, error: { message: T.network } };
    }
  }

  function say(text, bad) {
    const box = $("rc-message");
    box.textContent = text || "";
    box.hidden = !text;
    box.classList.toggle("is-bad", !!bad);
  }

  // the printer chosen last time on this desk
  const printer = $("printer");
  const saved = localStorage.getItem(PRINTER_KEY);
  if (saved && [...printer.options].some((o) => o.value === saved)) printer.value = saved;
  printer.addEventListener("change", () => localStorage.setItem(PRINTER_KEY, printer.value));

  function pickField(button) {
    document.querySelectorAll(".rc-field").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
    service = Number(button.dataset.service);
    const select = $("procedure");
    select.replaceChildren(new Option(T.all_procedures, ""));
    for (const p of PROCS[service] || []) select.add(new Option(p.name, p.code));
    say("");
  }
  document.querySelectorAll(".rc-field").forEach((b) => b.addEventListener("click", () => pickField(b)));

  function priority() { return (document.querySelector('input[name="priority"]:checked') || {}).value || "none"; }
  document.querySelectorAll('input[name="priority"]').forEach((r) => r.addEventListener("change", () => {
    $("reason-row").hidden = priority() === "none";
  }));

  function body() {
    const out = { service_id: service, priority: priority() };
    const reason = $("priority-reason").value.trim();
    const note = $("note").value.trim();
    const phone = $("phone").value.trim();
    if (out.priority !== "none" && reason) out.priority_reason = reason;
    if ($("procedure").value) out.procedure_code = $("procedure").value;
    if (note) out.note = note;
    if (phone) out.phone = phone;
    return out;
  }

  async function issue(withPrint) {
    if (busy) return;
    if (!service) { say(T.pick_field, true); return; }
    if (priority() !== "none" && !$("priority-reason").value.trim()) { say(T.reason_required, true); return; }
    if (withPrint && !printer.value) { say(T.no_printer, true); return; }
    busy = true;
    const made = await api("/api/v1/tickets", body());
    if (!made.ok) { busy = false; say(made.error.message, true); return; }
    const ticket = made.data;
    say(fmt(T.issued, { label: ticket.label }));
    showTicket(ticket);
    if (withPrint) {
      const printed = await api(`/api/v1/tickets/${ticket.id}/print`, { device_id: Number(printer.value) });
      const failed = !printed.ok || printed.data.print_state === "failed";
      const name = printer.options[printer.selectedIndex].textContent;
      $("result-print").textContent = failed
        ? fmt(T.print_failed, { message: printed.ok ? (printed.data.print_error || {}).message || "" : printed.error.message })
        : fmt(T.printed, { printer: name });
      $("result-print").classList.toggle("is-bad", failed);
      if (failed) await showQr(ticket);
    } else {
      await showQr(ticket);
    }
    busy = false;
  }

  function showTicket(ticket) {
    $("result").hidden = false;
    $("result-label").textContent = ticket.label;
    $("result-field").textContent = ticket.service;
    $("result-ahead").textContent = fmt(T.ahead, { n: ticket.waiting_ahead });
    $("result-print").textContent = "";
    $("result-qr").hidden = true;
    $("next").focus();
  }

  async function showQr(ticket) {
    const link = await api(root.dataset.linkUrl.replace(/0$/, String(ticket.id)));
    if (!link.ok) return;
    $("result-qr-img").src = link.data.qr;
    $("result-link").href = link.data.url;
    $("result-link").textContent = link.data.url;
    $("result-qr").hidden = false;
  }

  function reset() {
    service = null;
    document.querySelectorAll(".rc-field").forEach((b) => b.setAttribute("aria-pressed", "false"));
    for (const id of ["priority-reason", "note", "phone"]) $(id).value = "";
    document.querySelector('input[name="priority"][value="none"]').checked = true;
    $("reason-row").hidden = true;
    $("procedure").replaceChildren(new Option(T.all_procedures, ""));
    $("result").hidden = true;
    say("");
  }

  $("issue-print").addEventListener("click", () => issue(true));
  $("issue-qr").addEventListener("click", () => issue(false));
  $("next").addEventListener("click", reset);
})();
