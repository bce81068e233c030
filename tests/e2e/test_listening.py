"""Listening (issue 18, item 6): the "Listen" button of a service page shows only when the device
has a voice for the text's language, also when the voices arrive late (voiceschanged), and
hides again when they go. The device's voices are stood in for by a small fake
speechSynthesis, so the test does not depend on the voices the test machine happens to have."""

from __future__ import annotations

from playwright.sync_api import expect

# Runs before the page's scripts: a speechSynthesis whose voices the test sets.
FAKE_VOICES = """
(() => {
  const events = new EventTarget();
  window.__voices = [];
  const fake = {
    getVoices: () => window.__voices,
    speak: (u) => { window.__spoken = u; },
    cancel: () => {},
    addEventListener: (t, f) => events.addEventListener(t, f),
    dispatchEvent: (e) => events.dispatchEvent(e),
  };
  Object.defineProperty(window, "speechSynthesis", { value: fake, configurable: true });
  window.SpeechSynthesisUtterance = function (text) { this.text = text; };
})();
"""

VOICES_CHANGE = (
    "voices => { window.__voices = voices;"
    " speechSynthesis.dispatchEvent(new Event('voiceschanged')); }"
)


def test_listen_shows_only_while_the_device_has_a_voice_for_the_language(new_page):
    page = new_page("phone", "ti")
    page.add_init_script(FAKE_VOICES)
    page.goto("/ti/sfi")
    listen = page.locator("[data-readaloud]")
    expect(listen).to_be_attached()
    expect(listen).to_be_hidden()  # no voice at all yet
    page.evaluate(VOICES_CHANGE, [{"lang": "ar-SA", "name": "Arabic"}])
    expect(listen).to_be_hidden()  # a voice, but not for Tigrinya
    page.evaluate(VOICES_CHANGE, [{"lang": "ti_ER", "name": "Tigrinya"}])
    expect(listen).to_be_visible()
    listen.tap()
    assert page.evaluate("window.__spoken.lang") == "ti"
    assert len(page.evaluate("window.__spoken.text")) > 20  # the page's text, read
    page.evaluate(VOICES_CHANGE, [])
    expect(listen).to_be_hidden()  # the voice went away again
