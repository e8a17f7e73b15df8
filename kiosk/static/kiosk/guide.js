// "Nghe hướng dẫn" on every kiosk screen (issue 23 item 3): the screen's step, its question
// and the names of what can be chosen, or on the ticket screen the ticket's number, said by
// the hall's voice engine (/kiosk/say.wav: the clip pack, else espeak-ng), one sentence group
// after another; the browser's speech synthesis when the server has no voice.
(function () {
  "use strict";
  var button = document.getElementById("guide-btn");
  if (!button) return;
  var lang = document.documentElement.lang === "en" ? "en" : "vi";
  var MAX = 280;
  var playing = null;
  window.__guide = [];

  function visible(el) {
    return !!el && !el.closest("[hidden], template, .a11y-bar") && el.getClientRects().length > 0;
  }
  function clean(text) { return (text || "").replace(/\s+/g, " ").trim(); }
  function spelled(label) { return label.split("").join(" "); } // A012 -> "A 0 1 2"

  // what the screen says, in reading order
  function sentences() {
    var out = [];
    var ticket = document.getElementById("ticket");
    var number = document.getElementById("t-number");
    if (ticket && visible(ticket) && number && clean(number.textContent)) {
      out.push(button.dataset.tNumber + " " + spelled(clean(number.textContent)) + ".");
      ticket.querySelectorAll(".t-field, .t-priority, .t-print:not([hidden]), .t-note").forEach(function (el) {
        if (visible(el)) out.push(clean(el.textContent));
      });
      return out;
    }
    var parts = document.querySelectorAll(
      "h1, h2, .k-title, .step-q, label, .tile-name, .choice span, .proc-name, .row-name, .k-btn-go, " +
      ".k-booking-title, .k-alert-title, .lk-hint, .tile-state");
    parts.forEach(function (el) {
      if (!visible(el)) return;
      var text = clean(el.textContent);
      if (text && out.indexOf(text) < 0) out.push(text);
    });
    return out;
  }

  // sentences grouped into requests of at most MAX characters
  function chunks(list) {
    var out = [], cur = "";
    list.forEach(function (s) {
      s = /[.?!:]$/.test(s) ? s : s + ".";
      if (cur && (cur + " " + s).length > MAX) { out.push(cur); cur = ""; }
      cur = cur ? cur + " " + s : s.slice(0, MAX);
    });
    if (cur) out.push(cur);
    return out;
  }

  function speakInBrowser(text, next) {
    if (!("speechSynthesis" in window)) { next(); return; }
    var words = new SpeechSynthesisUtterance(text);
    words.lang = lang === "en" ? "en-GB" : "vi-VN";
    words.onend = next; words.onerror = next;
    window.speechSynthesis.speak(words);
  }

  function play(list) {
    if (!list.length) { button.setAttribute("aria-pressed", "false"); playing = null; return; }
    var text = list[0];
    var url = button.dataset.guideUrl + "?lang=" + lang + "&text=" + encodeURIComponent(text);
    window.__guide.push({ text: text, url: url });
    var next = function () { if (playing === list) play(list.slice(1)); };
    var audio = new Audio(url);
    playing = list;
    audio.onended = next;
    audio.play().catch(function () { speakInBrowser(text, next); });
    button._audio = audio;
  }

  button.addEventListener("click", function () {
    if (button._audio) button._audio.pause();
    if ("speechSynthesis" in window) window.speechSynthesis.cancel();
    if (button.getAttribute("aria-pressed") === "true") { button.setAttribute("aria-pressed", "false"); playing = null; return; }
    button.setAttribute("aria-pressed", "true");
    play(chunks(sentences()));
  });
})();
