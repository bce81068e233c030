// Read-aloud and print buttons: shown only where the device can do it; the page works without.
(function () {
  "use strict";
  if ("speechSynthesis" in window) {
    document.querySelectorAll("[data-read-aloud]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var target = document.getElementById(button.dataset.readAloud);
        if (!target) { return; }
        window.speechSynthesis.cancel();
        var utterance = new SpeechSynthesisUtterance(target.innerText);
        utterance.lang = button.dataset.lang || document.documentElement.lang;
        window.speechSynthesis.speak(utterance);
      });
    });
  }
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
