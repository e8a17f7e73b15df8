// Link mode (onestop/integrations, docs/provincial-link.md): the clerk scans or types the
// province's dossier code for the citizen being served; POST /api/v1/tickets/{id}/provincial-code
// keeps it on the ticket and on the dossiers received under it. The form exists only when a
// province is configured; a USB scanner types into the field and its Enter submits.
(function () {
  "use strict";
  const D = window.OnestopDesk;
  const form = document.getElementById("province-link");
  if (!D || !form) return;
  const input = document.getElementById("province-code");
  const done = document.getElementById("province-linked");
  let ticketId = null;

  D.onView((view) => {
    const cur = view ? view.current : null;
    form.hidden = !cur;
    const id = cur ? cur.id : null;
    if (id !== ticketId) { // another citizen: start empty
      ticketId = id;
      input.value = "";
      done.textContent = "";
    }
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const code = input.value.trim();
    if (!ticketId || !code) return;
    const forTicket = ticketId;
    D.run(async () => {
      const res = await D.api(`/api/v1/tickets/${forTicket}/provincial-code`, { method: "POST", body: { code } });
      if (forTicket !== ticketId) return;
      if (res.ok) {
        input.value = res.data.provincial_code;
        done.textContent = D.fill(form.dataset.tLinked, { code: res.data.provincial_code });
      } else {
        done.textContent = "";
        D.say(res.error.message, "error");
        input.select();
      }
    });
  });
})();
