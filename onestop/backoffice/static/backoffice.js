// The back office: every destructive action asks first. A form with data-confirm shows a
// confirm dialog before it is sent (with data-confirm-if="NAME": only when its checkbox
// NAME is ticked). No inline handlers: the pages run under a strict CSP.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form && form.getAttribute && form.getAttribute("data-confirm");
    if (!message) return;
    var only = form.getAttribute("data-confirm-if");
    if (only && !(form.elements[only] && form.elements[only].checked)) return;
    if (!window.confirm(message)) event.preventDefault();
  });
})();
