// Every kiosk screen, while the server does not answer: an in-page overlay ("Hệ thống đang
// kết nối lại…") instead of the browser's error page. A tap on a link or a form goes only
// after the server answered a probe (/healthz); kiosk.js asks the same before it moves
// (window.kioskNet.navigate). Once the server answers again the kiosk goes home by itself:
// whatever the citizen was doing was lost with the connection.
(function () {
  "use strict";
  const overlay = document.getElementById("k-offline");
  const root = document.getElementById("kiosk");
  if (!overlay || !root) return;
  const health = overlay.dataset.healthUrl || "/healthz";
  const home = root.dataset.home || "/kiosk/";
  const WATCH_MS = 5000; // how often a quiet screen checks that the server is there
  const RETRY_MS = 2000; // how often the overlay tries again
  const TIMEOUT_MS = 3000; // a server that does not answer in this long is not there
  let offline = false;

  async function reachable() {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), TIMEOUT_MS);
    try {
      const res = await fetch(health, { cache: "no-store", credentials: "same-origin", signal: ctrl.signal });
      return res.ok;
    } catch (err) {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  async function retry() {
    if (await reachable()) { location.replace(home); return; }
    setTimeout(retry, RETRY_MS);
  }

  function goOffline() {
    if (offline) return;
    offline = true;
    overlay.hidden = false;
    document.documentElement.classList.add("k-is-offline");
    setTimeout(retry, RETRY_MS);
  }

  // a fetch of the page's own script failed: is the server gone?
  async function check() {
    if (!offline && !(await reachable())) goOffline();
    return !offline;
  }

  // go to ``url`` (how: "assign", "replace" or "reload") only when the server answers
  async function navigate(url, how) {
    if (!(await check())) return false;
    if (how === "reload") location.reload();
    else if (how === "replace") location.replace(url);
    else location.href = url;
    return true;
  }

  async function watch() {
    await check();
    if (!offline) setTimeout(watch, WATCH_MS);
  }

  const ownPage = (url) => url.origin === location.origin && /^https?:$/.test(url.protocol);
  const sameDocument = (url) => url.hash && url.pathname === location.pathname && url.search === location.search;

  // on window, after the page's own handlers (on document): what they took care of is theirs
  window.addEventListener("click", (ev) => {
    if (ev.defaultPrevented || ev.button !== 0) return;
    const link = ev.target.closest && ev.target.closest("a[href]");
    if (!link || (link.target && link.target !== "_self") || link.hasAttribute("download")) return;
    const url = new URL(link.href, location.href);
    if (!ownPage(url) || sameDocument(url)) return;
    ev.preventDefault();
    if (!offline) navigate(url.href);
  });

  window.addEventListener("submit", (ev) => {
    if (ev.defaultPrevented) return;
    const form = ev.target;
    ev.preventDefault();
    if (offline) return;
    check().then((up) => {
      if (!up) return;
      if (ev.submitter && ev.submitter.name) {  // form.submit() leaves the pressed button out
        const pressed = document.createElement("input");
        pressed.type = "hidden";
        pressed.name = ev.submitter.name;
        pressed.value = ev.submitter.value;
        form.append(pressed);
      }
      HTMLFormElement.prototype.submit.call(form);
    });
  });

  window.addEventListener("offline", () => { check(); });
  window.kioskNet = { navigate, check, isOffline: () => offline };
  setTimeout(watch, WATCH_MS);
})();
