// The one read-aloud script of every page that reads aloud (a service's page, the consent
// screen): a [data-readaloud] button reads the page's [data-speak] parts with the device's own
// voices, and is shown only when the device has a voice for the text's language (data-lang).
// Also reveals [data-print] buttons (the handout, the receipt, the register extract).
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
    // Voices arrive late (Chrome fills the list after the first call) and may change: the
    // button follows the list, so it never offers to read in a language no voice can speak.
    function offer() {
      button.hidden = !voiceFor(lang);
    }
    offer();
    synth.addEventListener("voiceschanged", offer);
    button.addEventListener("click", function () {
      synth.cancel();
      if (speaking) { return; }
      var parts = document.querySelectorAll("[data-speak]");
      // innerText: headings and paragraphs inside a part are read as separate sentences.
      var text = Array.prototype.map.call(parts, function (p) { return p.innerText; }).join("\n");
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
