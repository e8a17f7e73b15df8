// "Tôi không chờ nữa" on the ticket page and the booking page: ask, then
// POST /api/v1/tickets/<id>/cancel with the page's key. The button is there only while
// the ticket can be given up; on the ticket page it follows the live state that ticket.js
// writes into #tp's data-state.
(function () {
  "use strict";
  const box = document.getElementById("ph-leave");
  if (!box) return;
  const $ = (id) => document.getElementById(id);
  const ask = $("ph-leave-ask");
  const confirmBox = $("ph-leave-confirm");
  const error = $("ph-leave-error");
  const allowed = (box.dataset.states || "").split(" ");
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const live = document.getElementById("tp");

  function follow() {
    const state = live ? live.dataset.state : "waiting";
    box.hidden = !allowed.includes(state);
  }
  if (live) {
    follow();
    new MutationObserver(follow).observe(live, { attributes: true, attributeFilter: ["data-state"] });
  }

  ask.addEventListener("click", () => { confirmBox.hidden = false; ask.hidden = true; $("ph-leave-yes").focus(); });
  $("ph-leave-no").addEventListener("click", () => { confirmBox.hidden = true; ask.hidden = false; ask.focus(); });
  $("ph-leave-yes").addEventListener("click", async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    error.hidden = true;
    try {
      const res = await fetch(box.dataset.apiUrl, {
        method: "POST", credentials: "same-origin", cache: "no-store",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfMeta ? csrfMeta.content : "" },
        body: JSON.stringify({ k: box.dataset.k }),
      });
      if (res.ok) { location.reload(); return; }
      let data = {};
      try { data = await res.json(); } catch (err) { data = {}; }
      if (data.error && data.error.code === "csrf_failed") { location.reload(); return; }
      error.textContent = (data.error && data.error.message) || res.statusText;
    } catch (err) {
      error.textContent = box.dataset.tOffline || "…";
    }
    error.hidden = false;
    button.disabled = false;
  });
})();
