// Read aloud with the device's own voices, only when it has one for the text's language;
// the button stays hidden otherwise. Also reveals the print button of the handout.
(function () {
  "use strict";
  var synth = window.speechSynthesis;

  function voiceFor(lang) {
    var voices = synth.getVoices();
    for (var i = 0; i < voices.length; i++) {
      var code = (voices[i].lang || "").toLowerCase().replace("_", "-");
      if (code === lang || code.indexOf(lang + "-") === 0) { return voices[i]; }
    }
    return null;
  }

  function setUp(button) {
    var lang = button.getAttribute("data-lang");
    var label = button.textContent;
    var speaking = false;
    function offer() {
      if (voiceFor(lang)) { button.hidden = false; }
    }
    offer();
    synth.addEventListener("voiceschanged", offer);
    button.addEventListener("click", function () {
      synth.cancel();
      if (speaking) { return; }
      var parts = document.querySelectorAll("[data-speak]");
      var text = Array.prototype.map.call(parts, function (p) { return p.textContent; }).join("\n");
      var utterance = new SpeechSynthesisUtterance(text);
      utterance.lang = lang;
      utterance.voice = voiceFor(lang);
      utterance.rate = 0.9;  // a little slower: many listeners are learning to read
      utterance.onend = utterance.onerror = function () {
        speaking = false;
        button.textContent = label;
      };
      speaking = true;
      button.textContent = button.getAttribute("data-stop");
      synth.speak(utterance);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (synth && window.SpeechSynthesisUtterance) {
      Array.prototype.forEach.call(document.querySelectorAll("[data-readaloud]"), setUp);
    }
    Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (b) {
      b.hidden = false;
      b.addEventListener("click", function () { window.print(); });
    });
  });
})();
