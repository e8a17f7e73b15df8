// The hall display's media pane: the zone's playlist (images, muted videos, QR cards of the
// most used procedures), played in order and in a loop. While an announcement plays
// (announcer.js sends "onestop:speaking"), a video is paused and the rotation waits, so
// nothing moves or competes with the call; it goes on when the announcement ends.
// Test hook: window.__media lists what was shown ({kind, url, at}).
(function () {
  "use strict";
  const D = window.OnestopDisplay;
  const root = document.getElementById("hall");
  const pane = document.getElementById("media");
  if (!root || !pane) return;
  const stage = document.getElementById("media-stage");
  const ds = pane.dataset;
  const RELOAD_MS = 5 * 60 * 1000;
  const LONGEST_VIDEO_MS = 15 * 60 * 1000; // a video that never ends is given up
  window.__media = window.__media || [];

  let items = [];
  let index = -1;
  let card = 0;
  let timer = null;
  let remaining = 0; // ms left for the current item (kept while held)
  let startedAt = 0;
  let speaking = false;
  let video = null;
  let signature = "";

  function clear() {
    clearTimeout(timer);
    timer = null;
  }

  function wait(ms) {
    clear();
    remaining = ms;
    startedAt = Date.now();
    if (!speaking) timer = setTimeout(advance, ms);
  }

  function show(node) {
    stage.replaceChildren(node);
  }

  function playImage(item) {
    const img = D.el("img", "media-image");
    img.src = item.url;
    img.alt = item.title || "";
    img.onerror = () => wait(0);
    show(img);
    wait((item.seconds || 10) * 1000);
  }

  function playVideo(item) {
    if (!video || video.dataset.url !== item.url) {
      video = document.createElement("video");
      video.className = "media-video";
      video.muted = true; // never a sound over the calls
      video.defaultMuted = true;
      video.playsInline = true;
      video.preload = "auto";
      video.setAttribute("aria-label", item.title || ds.tVideo);
      video.dataset.url = item.url;
      video.src = item.url;
      video.onended = () => { if (!speaking) advance(); };
      video.onerror = () => wait(0);
    } else {
      video.currentTime = 0;
    }
    show(video);
    if (!speaking) start(video);
    wait(item.seconds ? item.seconds * 1000 : LONGEST_VIDEO_MS);
  }

  function start(v) {
    const p = v.play();
    if (p && p.catch) p.catch(() => {});
  }

  function qrCard(item) {
    const c = item.cards[card % item.cards.length];
    const fig = D.el("figure", "qr-card");
    const img = D.el("img", "qr-image");
    img.src = c.qr;
    img.alt = `${ds.tQrAlt} ${c.name}`;
    const cap = D.el("figcaption", "qr-caption");
    cap.append(D.el("span", "qr-title", ds.tQrTitle), D.el("strong", "qr-name", c.name),
      D.el("span", "qr-hint", ds.tQrHint));
    fig.append(img, cap);
    return fig;
  }

  function playCards(item) {
    if (!item.cards || !item.cards.length) { wait(0); return; }
    show(qrCard(item));
    wait((item.seconds || 10) * 1000);
  }

  function advance() {
    clear();
    const item = items[index];
    // a QR cards item shows each of its cards in turn before the next item
    if (item && item.kind === "qr_cards" && item.cards && card + 1 < item.cards.length) {
      card += 1;
      playCards(item);
      return;
    }
    card = 0;
    if (!items.length) {
      stage.replaceChildren();
      return;
    }
    index = (index + 1) % items.length;
    const next = items[index];
    window.__media.push({ kind: next.kind, url: next.url || null, at: Date.now() });
    if (next.kind !== "video" && video) { video.pause(); video = null; }
    if (next.kind === "image") playImage(next);
    else if (next.kind === "video") playVideo(next);
    else playCards(next);
  }

  // announcements: hold everything, then go on where it was
  document.addEventListener("onestop:speaking", (ev) => {
    const now = !!ev.detail;
    if (now === speaking) return;
    speaking = now;
    if (speaking) {
      if (timer) remaining = Math.max(0, remaining - (Date.now() - startedAt));
      clear();
      if (video) video.pause();
    } else if (items.length) {
      if (video && stage.contains(video) && !video.ended) start(video);
      wait(video && video.ended ? 0 : remaining);
    }
  });

  async function load() {
    try {
      const data = await D.getJSON(ds.playlistUrl, { unit: D.params.get("unit") || undefined,
        zone: D.params.get("zone") || undefined });
      const sig = JSON.stringify(data.items);
      if (sig === signature) return;
      signature = sig;
      items = data.items || [];
      pane.hidden = !items.length;
      root.classList.toggle("has-media", items.length > 0);
      root.dataset.mediaItems = String(items.length);
      window.dispatchEvent(new Event("resize")); // the lists fit themselves to the new layout
      index = -1;
      card = 0;
      video = null;
      advance();
    } catch (err) { /* offline: keep playing what we have */ }
  }

  load();
  setInterval(load, RELOAD_MS);
})();
