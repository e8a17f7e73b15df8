// Dossier intake (tiếp nhận hồ sơ) for the citizen at the counter: pick the procedure
// (search, accents optional, or the field's list), tick the documents received, type the
// applicant, POST /api/v1/dossiers with the ticket; then the code, the appointment and the
// BM.01 receipt. The checks here mirror the API's (onestop/api/dossiers.py, engine.py);
// the API's own refusals are shown next to the fields they name.
(function () {
  "use strict";
  const D = window.OnestopDesk;
  if (!D) return;
  const T = D.T;
  const $ = (id) => document.getElementById(id);
  const root = $("ws");
  const panel = $("intake");
  const form = $("intake-form");
  const FIELDS = ["name", "id_number", "phone", "email", "address", "on_behalf_of"];
  const MAX_DOCS = 50;

  let procedure = null;
  let bound = null; // the ticket the dossier is received under: {id, label, service_id}
  let fieldList = { serviceId: undefined, list: [] };
  let searchSeq = 0;
  let searchTimer = null;

  const input = (name) => form.elements.namedItem(name);

  // ------------------------------------------------------------------ open / close

  function bind(ticket) {
    bound = ticket ? { id: ticket.id, label: ticket.label, service_id: ticket.service_id,
      procedure_code: ticket.procedure_code || null } : null;
    $("intake-ticket").textContent = bound ? `— ${T.for_ticket} ${bound.label}` : `— ${T.no_ticket}`;
  }

  const pristine = () => !procedure && FIELDS.every((f) => !input(f).value);
  const sameTicket = (cur) => (bound ? bound.id : null) === (cur ? cur.id : null);

  function open() {
    if (!panel.hidden) return;
    const cur = D.current();
    if (!$("intake-done").hidden && !sameTicket(cur)) resetForm(false); // that citizen has gone
    if (pristine() || !bound) bind(cur);
    panel.hidden = false;
    root.classList.add("intake-open");
    loadFieldProcedures().then(preselect);
    if (!$("intake-done").hidden) $("receipt-link").focus();
    else if (!procedure) $("proc-q").focus();
    else input("name").focus();
    panel.scrollIntoView({ block: "start" }); // the form whole; its title names the ticket
  }

  function close() {
    panel.hidden = true;
    root.classList.remove("intake-open");
    window.scrollTo(0, 0);
  }

  D.toggleIntake = () => (panel.hidden ? open() : close());
  $("intake-close").addEventListener("click", close);
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !document.querySelector("dialog[open]")) { event.preventDefault(); close(); }
  });

  D.onView((view) => {
    if (!view) { close(); return; }
    if (bound && !$("intake-done").hidden) updateFinishButton();
    else if (!panel.hidden && pristine() && !sameTicket(view.current)) {
      bind(view.current); // a new citizen at the counter, nothing typed yet
      loadFieldProcedures().then(preselect);
    }
  });

  // ------------------------------------------------------------------ procedures

  function legalTime(p) {
    return p.processing_days > 0 ? `${p.processing_days} ${T.days}` : T.same_day;
  }

  function showList(list, title) {
    $("proc-list-title").textContent = title;
    const box = $("proc-results");
    if (!list.length) {
      box.replaceChildren(D.el("p", "muted", T.no_match));
      return;
    }
    box.replaceChildren(...list.map((p) => {
      const b = D.el("button", "proc-item");
      b.type = "button";
      b.setAttribute("role", "option");
      b.dataset.code = p.code;
      b.append(D.el("span", "proc-item-name", p.name), D.el("span", "muted", `${p.code} · ${legalTime(p)}`));
      b.addEventListener("click", () => choose(p));
      return b;
    }));
  }

  async function loadFieldProcedures() {
    const sid = bound ? bound.service_id : null;
    if (fieldList.serviceId !== sid) {
      const url = `/api/v1/procedures?limit=50${sid ? `&service_id=${sid}` : ""}`;
      const res = await D.api(url);
      fieldList = { serviceId: sid, list: res.ok ? res.data.procedures : [] };
    }
    if (!$("proc-q").value.trim()) showList(fieldList.list, T.field_procedures);
  }

  async function search() {
    const q = $("proc-q").value.trim();
    if (!q) { showList(fieldList.list, T.field_procedures); return; }
    const seq = ++searchSeq;
    $("proc-list-title").textContent = T.searching;
    const res = await D.api(`/api/v1/procedures?limit=20&q=${encodeURIComponent(q)}`);
    if (seq !== searchSeq) return; // a newer search is on its way
    showList(res.ok ? res.data.procedures : [], T.results);
  }

  $("proc-q").addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(search, 200);
  });
  $("proc-q").addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "Enter") {
      const first = $("proc-results").querySelector(".proc-item");
      if (first) { event.preventDefault(); if (event.key === "Enter") first.click(); else first.focus(); }
    }
  });
  $("proc-results").addEventListener("keydown", (event) => {
    const item = event.target.closest(".proc-item");
    if (!item) return;
    const next = event.key === "ArrowDown" ? item.nextElementSibling : event.key === "ArrowUp" ? item.previousElementSibling : null;
    if (next) { event.preventDefault(); next.focus(); }
  });

  function choose(p) {
    procedure = p;
    $("proc-name").textContent = p.name;
    const fee = p.fee ? ` · ${T.fee}: ${p.fee}` : "";
    $("proc-meta").textContent = ` ${p.code} · ${T.legal_time}: ${legalTime(p)}${fee}`;
    $("proc-chosen").hidden = false;
    $("proc-pick").hidden = true;
    setError("procedure", "");
    const docs = $("docs");
    docs.replaceChildren();
    (p.documents || []).forEach((d) => docs.append(docRow(typeof d === "string" ? d : d.name || "", false)));
    const first = docs.querySelector('input[type="checkbox"]');
    if (first) first.focus();
  }

  // the procedure the citizen chose at the kiosk (kept on the ticket) is chosen here too,
  // as long as the clerk has not picked one; "Đổi thủ tục" still changes it
  async function preselect() {
    const code = bound && bound.procedure_code;
    if (!code || procedure || !$("intake-done").hidden) return;
    let found = fieldList.list.find((p) => p.code === code);
    if (!found) {
      const res = await D.api(`/api/v1/procedures/${encodeURIComponent(code)}`);
      if (res.ok) found = res.data;
    }
    if (found && !procedure && bound && bound.procedure_code === code) choose(found);
  }

  function unchoose() {
    procedure = null;
    $("proc-chosen").hidden = true;
    $("proc-pick").hidden = false;
    $("docs").replaceChildren();
    $("proc-q").focus();
  }
  $("proc-change").addEventListener("click", unchoose);

  // ------------------------------------------------------------------ documents

  function docRow(name, custom) {
    const tr = D.el("tr", "doc" + (custom ? " is-custom" : ""));
    const tick = D.el("input");
    tick.type = "checkbox";
    tick.checked = custom;
    tick.setAttribute("aria-label", name || T.other_document);
    const nameCell = D.el("td", "doc-name");
    if (custom) {
      const text = D.el("input", "doc-text");
      text.maxLength = 200;
      text.placeholder = T.other_document;
      text.setAttribute("aria-label", T.other_document);
      nameCell.append(text);
    } else {
      const label = D.el("label", "", name);
      nameCell.append(label);
      label.addEventListener("click", () => { tick.checked = !tick.checked; });
      tr.dataset.name = name;
    }
    // how it was handed in (BM.01's "Hình thức"): the original unless the clerk says otherwise
    const form = D.el("select", "doc-form");
    form.setAttribute("aria-label", `${T.document_form}: ${name || T.other_document}`);
    Object.entries(T.document_forms).forEach(([code, text]) => {
      const option = D.el("option", "", text);
      option.value = code;
      form.append(option);
    });
    form.value = "ban_chinh";
    form.addEventListener("change", () => { tick.checked = true; });
    const count = D.el("input", "doc-count");
    count.type = "number";
    count.min = "1";
    count.max = "1000";
    count.step = "1";
    count.value = "1";
    count.setAttribute("aria-label", T.copies);
    count.addEventListener("input", () => { if (count.value) tick.checked = true; });
    const ops = D.el("td", "doc-ops");
    if (custom) {
      const remove = D.el("button", "btn btn-small btn-plain", T.remove);
      remove.type = "button";
      remove.addEventListener("click", () => tr.remove());
      ops.append(remove);
    }
    const tickCell = D.el("td", "doc-tick");
    tickCell.append(tick);
    const countCell = D.el("td", "doc-copies");
    countCell.append(count);
    const formCell = D.el("td", "doc-form-cell");
    formCell.append(form);
    tr.append(tickCell, nameCell, formCell, countCell, ops);
    return tr;
  }

  $("doc-add").addEventListener("click", () => {
    const row = docRow("", true);
    $("docs").append(row);
    row.querySelector(".doc-text").focus();
  });

  function documents() {
    return Array.from($("docs").querySelectorAll("tr.doc")).filter((tr) => tr.querySelector('input[type="checkbox"]').checked)
      .map((tr) => ({ row: tr, name: tr.dataset.name || tr.querySelector(".doc-text").value.trim(),
        countText: tr.querySelector(".doc-count").value.trim(), form: tr.querySelector(".doc-form").value }));
  }

  // ------------------------------------------------------------------ checks (mirror the API)

  const CONTROL = /[\u0000-\u001f\u007f]/;
  // the server's own patterns (onestop/dossiers/engine.py), rendered into the inputs: the
  // page and the API accept exactly the same numbers
  const whole = (pattern) => new RegExp(`^(?:${pattern})$`);
  const ID_NUMBER = whole(input("id_number").pattern);
  const MOBILE = whole(input("phone").dataset.pattern);
  const phoneDigits = (value) => value.replace(/[\s.\-()]/g, "").replace(/^\+84/, "0");

  function check(values, docs) {
    const errors = {};
    const long = (n) => D.fill(T.too_long, { n });
    if (!procedure) errors.procedure = T.procedure_required;
    if (!values.name) errors.name = T.name_required;
    else if (values.name.length > 200) errors.name = long(200);
    else if (/[<>]/.test(values.name) || CONTROL.test(values.name)) errors.name = T.name_invalid;
    if (!ID_NUMBER.test(values.id_number)) errors.id_number = T.id_invalid;
    if (!MOBILE.test(phoneDigits(values.phone))) errors.phone = T.phone_invalid;
    if (values.email.length > 254) errors.email = long(254);
    else if (values.email && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(values.email)) errors.email = T.email_invalid;
    if (values.address.length > 300) errors.address = long(300);
    if (values.on_behalf_of.length > 200) errors.on_behalf_of = long(200);
    else if (/[<>]/.test(values.on_behalf_of)) errors.on_behalf_of = T.name_invalid;
    if (docs.length > MAX_DOCS) errors.documents = T.too_many_docs;
    docs.forEach((d) => {
      const count = Number(d.countText);
      const bad = !d.name || d.name.length > 200 || !/^\d+$/.test(d.countText) || count < 1 || count > 1000;
      d.row.classList.toggle("is-invalid", bad);
      if (bad && !errors.documents) errors.documents = !d.name ? T.doc_name_required : T.count_invalid;
    });
    return errors;
  }

  function setError(field, message) {
    const box = $("err-" + field);
    if (!box) return;
    box.textContent = message || "";
    box.hidden = !message;
    const control = FIELDS.includes(field) ? input(field) : field === "procedure" ? $("proc-q") : null;
    if (control) {
      if (message) control.setAttribute("aria-invalid", "true");
      else control.removeAttribute("aria-invalid");
    }
  }

  function clearErrors() {
    FIELDS.concat(["procedure", "documents", "form"]).forEach((f) => setError(f, ""));
    $("docs").querySelectorAll(".is-invalid").forEach((tr) => tr.classList.remove("is-invalid"));
  }

  function showErrors(errors) {
    Object.entries(errors).forEach(([field, message]) => setError(field, message));
    const order = ["procedure"].concat(["documents"], FIELDS);
    const first = order.find((f) => errors[f]);
    if (first === "procedure") { if (!procedure) $("proc-q").focus(); }
    else if (first === "documents") { const bad = $("docs").querySelector(".is-invalid input"); if (bad) bad.focus(); }
    else if (first) input(first).focus();
    if (first) setError("form", T.check_form);
  }

  // the API's 422 ``fields`` ({"json": {"applicant.phone": [...]}}) and domain errors
  function apiErrors(error) {
    const out = {};
    const local = { name: T.name_required, id_number: T.id_invalid, phone: T.phone_invalid, email: T.email_invalid };
    const json = (error.fields && error.fields.json) || {};
    Object.keys(json).forEach((key) => {
      const [head, sub] = key.split(".");
      if (head === "applicant" && FIELDS.includes(sub)) out[sub] = local[sub] || json[key].join(" ");
      else if (head === "documents") out.documents = json[key].join(" ");
      else if (head === "procedure_code") out.procedure = T.procedure_required;
    });
    if (error.code === "invalid_applicant" && FIELDS.includes(error.field)) {
      out[error.field] = (error.field === "name" || error.field === "on_behalf_of") ? T.name_invalid
        : local[error.field] || error.message;
    }
    if (error.code === "invalid_documents") out.documents = error.message;
    if (error.code === "procedure_not_found" || error.code === "procedure_inactive") out.procedure = error.message;
    if (!Object.keys(out).length) out.form = error.message;
    return out;
  }

  // ------------------------------------------------------------------ submit

  function values() {
    const out = {};
    FIELDS.forEach((f) => { out[f] = input(f).value.trim(); });
    return out;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!D.state.active || D.state.busy) return;
    clearErrors();
    const person = values();
    const docs = documents();
    const errors = check(person, docs);
    if (Object.keys(errors).length) { showErrors(errors); return; }
    const body = {
      procedure_code: procedure.code,
      applicant: { ...person, phone: phoneDigits(person.phone) },
      documents: docs.map((d) => ({ name: d.name, count: Number(d.countText), form: d.form })),
    };
    if (bound) body.ticket_id = bound.id;
    $("intake-submit").disabled = true;
    try {
      const res = await D.api("/api/v1/dossiers", { method: "POST", body });
      if (!res.ok) {
        const found = apiErrors(res.error);
        showErrors(found);
        if (found.form) setError("form", found.form);
        return;
      }
      done(res.data);
    } finally {
      $("intake-submit").disabled = false;
    }
  });

  function updateFinishButton() {
    const cur = D.current();
    const button = $("done-finish");
    button.hidden = !bound || !cur || cur.id !== bound.id;
    $("done-label").textContent = bound ? bound.label : "";
  }

  function done(dossier) {
    form.hidden = true;
    $("intake-done").hidden = false;
    $("done-code").textContent = dossier.code;
    $("done-appointment").textContent = D.dmyhm(dossier.appointment_at);
    $("receipt-link").href = dossier.receipt_url;
    updateFinishButton();
    $("receipt-link").focus();
    D.refresh();
  }

  function resetForm(keepApplicant) {
    const kept = values();
    form.reset();
    if (keepApplicant) FIELDS.forEach((f) => { input(f).value = kept[f]; });
    clearErrors();
    procedure = null;
    $("proc-chosen").hidden = true;
    $("proc-pick").hidden = false;
    $("proc-q").value = "";
    $("docs").replaceChildren();
    showList(fieldList.list, T.field_procedures);
    form.hidden = false;
    $("intake-done").hidden = true;
  }

  $("intake-reset").addEventListener("click", () => { resetForm(false); $("proc-q").focus(); });
  $("done-again").addEventListener("click", () => { resetForm(true); $("proc-q").focus(); });
  $("done-new").addEventListener("click", () => {
    resetForm(false);
    bind(D.current());
    $("proc-q").focus();
    loadFieldProcedures().then(preselect);
  });
  $("done-finish").addEventListener("click", async () => {
    await D.finishWith("dossier_received");
    resetForm(false);
    bind(null);
    close();
  });

  // ------------------------------------------------------------------ the ID card's QR (cccd.js)
  // the server reads the card (one rule); a refused read fills nothing and says why

  const C = window.OnestopCccd;
  const cardMsg = $("cccd-msg");
  function sayCard(text, bad) {
    cardMsg.textContent = text;
    cardMsg.className = "cccd-msg" + (bad ? " is-bad" : " is-ok");
    cardMsg.hidden = !text;
  }
  function fromCard(answer) {
    if (!answer.ok) { sayCard(answer.error.message || T.network, true); return; }
    const card = answer.data;
    input("name").value = card.name;
    input("id_number").value = card.id_number;
    input("address").value = card.address;
    ["name", "id_number", "address"].forEach((f) => setError(f, ""));
    $("cccd-input").value = "";
    sayCard(cardMsg.dataset.filled, false);
    input(input("phone").value ? "email" : "phone").focus();
  }
  if (C) {
    C.watch(() => !panel.hidden && !form.hidden && !document.querySelector("dialog[open]"), fromCard);
    $("cccd-open").addEventListener("click", () => {
      const box = $("cccd-box");
      box.hidden = !box.hidden;
      $("cccd-open").setAttribute("aria-expanded", String(!box.hidden));
      if (!box.hidden) $("cccd-input").focus();
    });
    $("cccd-input").addEventListener("keydown", (event) => {
      const text = $("cccd-input").value.trim();
      if (event.key !== "Enter" || !text) return;
      event.preventDefault(); // typed or pasted by hand: read it, submit nothing
      C.read(text).then(fromCard);
    });
  } else {
    $("cccd").hidden = true;
  }
})();
