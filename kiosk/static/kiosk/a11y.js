// The "Chữ lớn, tương phản cao" toggle (issue 23 item 3) on the kiosk, the ticket page and
// the rating tablet: a class on <html>, remembered for the browser's session; a kiosk takes
// it off when it goes idle (kiosk.js sends "kiosk:idle"), like the language.
(function () {
  "use strict";
  var KEY = "onestop-a11y";
  var root = document.documentElement;
  function set(on) {
    root.classList.toggle("a11y-hc", on);
    try { if (on) sessionStorage.setItem(KEY, "on"); else sessionStorage.removeItem(KEY); } catch (e) { /* private mode */ }
    document.querySelectorAll("[data-a11y-toggle]").forEach(function (b) {
      b.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }
  var stored = false;
  try { stored = sessionStorage.getItem(KEY) === "on"; } catch (e) { /* private mode */ }
  set(stored);
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-a11y-toggle]")) set(!root.classList.contains("a11y-hc"));
  });
  document.addEventListener("kiosk:idle", function () { set(false); });
  window.__a11y = { set: set };
})();
