// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // A double tap on a slow network sends a form once; the server's one-time form key is the
  // real guard, this only spares a second round trip. Released after a few seconds for retries.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.submitting === "1") { event.preventDefault(); return; }
    form.dataset.submitting = "1";
    setTimeout(function () { form.dataset.submitting = ""; }, 3000);
  }, true);
})();
