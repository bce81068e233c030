// Kiosk mode: after the configured idle time without a touch, go back to the language picker.
(function () {
  "use strict";
  var body = document.body;
  var seconds = parseInt(body.getAttribute("data-kiosk-idle"), 10) || 120;
  var home = body.getAttribute("data-kiosk-home");
  var timer = null;
  function restart() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      if (window.speechSynthesis) { window.speechSynthesis.cancel(); }
      if (location.pathname !== home) { location.assign(home); } else { window.scrollTo(0, 0); }
    }, seconds * 1000);
  }
  ["pointerdown", "keydown", "touchstart", "scroll", "input"].forEach(function (name) {
    window.addEventListener(name, restart, { passive: true, capture: true });
  });
  restart();
})();
