// The dossier rating form of the public lookup page (/lookup/<code>?k=...): one rating per
// dossier, sent to POST /api/v1/lookup/rating with the page's code and key.
(function () {
  "use strict";
  const form = document.getElementById("rating-form");
  if (!form) return;
  const ds = form.dataset;
  const error = document.getElementById("rating-error");
  const reasonsBox = document.getElementById("rating-reasons");
  const csrf = document.querySelector('meta[name="csrf-token"]');

  function selected() {
    return form.querySelector("input[name=level]:checked");
  }

  form.addEventListener("change", () => {
    const level = selected();
    reasonsBox.hidden = !(level && level.dataset.needsReason === "1");
    error.textContent = "";
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const level = selected();
    if (!level) { error.textContent = ds.tPick; return; }
    const needsReason = level.dataset.needsReason === "1";
    const reasons = needsReason
      ? [...form.querySelectorAll("input[name=reasons]:checked")].map((box) => box.value) : [];
    const comment = document.getElementById("rating-comment").value.trim();
    if (needsReason && !reasons.length && comment.length < 3) { error.textContent = ds.tReason; return; }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const res = await fetch(ds.url, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json",
                   "X-CSRFToken": csrf ? csrf.content : "" },
        body: JSON.stringify({ code: ds.code, k: ds.k, level: level.value, reasons, comment }),
      });
      const body = await res.json().catch(() => ({}));
      if (res.ok || (body.error && body.error.code === "already_rated")) {
        form.hidden = true;
        document.getElementById("rating-thanks").hidden = false;
        return;
      }
      error.textContent = (body.error && body.error.message) || ds.tFailed;
    } catch (err) {
      error.textContent = ds.tFailed;
    }
    button.disabled = false;
  });
})();
