// Queue rows: htmx leaves 4xx answers unswapped by default. A 409 (someone else changed the
// referral) or 422 (a refused step) carries the current row with its message, so show it.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if ((status === 409 || status === 422) && event.detail.target.closest(".queue-list")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
