// "Nghe thử" on /admin/display (issue 23 item 2): an example call said by this server's
// voice for each announcement language (/kiosk/say.wav); without a server voice (503), the
// browser's own speech synthesis in that language, and the page says which was used.
(function () {
  "use strict";
  var state = document.getElementById("voice-sample-state");
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-voice-sample]");
    if (!button) return;
    window.__samples = (window.__samples || []).concat([button.dataset.voiceSample]);
    var audio = new Audio(button.dataset.voiceSample);
    audio.play().then(function () {
      if (state) state.textContent = button.textContent.trim();
    }).catch(function () {
      if (!("speechSynthesis" in window)) return;
      var words = new SpeechSynthesisUtterance(button.dataset.text);
      words.lang = button.dataset.lang === "en" ? "en-GB" : "vi-VN";
      window.speechSynthesis.speak(words);
    });
  });
})();
