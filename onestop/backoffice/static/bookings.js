// The bookings list: "In danh sách" prints the page (the print stylesheet of bookings.css
// keeps the tables only). No inline handlers: the pages run under a strict CSP.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target && target.closest && target.closest("[data-print]")) {
      event.preventDefault();
      window.print();
    }
  });
})();
