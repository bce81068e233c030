"""What browser tests share: viewports, the served app, page watches, axe, screenshots,
sign-in steps and keyboard helpers. Fixtures live in conftest.py; plain functions live here."""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from flask_babel import force_locale, gettext
from playwright.sync_api import ConsoleMessage, Locator, Page, Response, expect

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"

# The three devices the app is used on: a bridge builder's tablet, a coordinator's desktop,
# a visitor's phone.
VIEWPORTS: dict[str, dict] = {
    "tablet": {"viewport": {"width": 768, "height": 1024}, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 360, "height": 740}, "has_touch": True, "is_mobile": True},
}

# axe impacts that fail a test; "minor" and "moderate" are reported by axe but tolerated.
FAILING_IMPACTS = ("serious", "critical")


class Login(NamedTuple):
    role: str
    email: str
    password: str


@dataclass
class LiveServer:
    """The app served by a real HTTP server on a free port, with the demo data seeded."""

    url: str
    app: Flask
    logins: dict[str, Login]
    # "METHOD /path -> status" for every 5xx answer; each test fails on the ones it caused.
    server_errors: list[str] = field(default_factory=list)

    def gettext(self, msgid: str, locale: str, **variables) -> str:
        """The catalogue's translation of a Swedish msgid, to assert on text in any locale."""
        with self.app.test_request_context(), force_locale(locale):
            return gettext(msgid, **variables)


# --- Watching a page: CSP violations, script errors, broken static files -----------------


class PageWatch:
    """Collects what a person would never see but a broken page shows: CSP violations and
    other console errors, uncaught script errors, and static files that failed to load."""

    # Static files the page needs. A document or an htmx request answering 404 or 422 may be
    # the point of a test (and 5xx are caught on the server); a stylesheet that fails never is.
    STATIC_TYPES = frozenset({"stylesheet", "script", "image", "font", "media", "manifest"})

    def __init__(self, page: Page) -> None:
        self.problems: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        page.on("response", self._on_response)
        page.on("requestfailed", self._on_request_failed)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.problems.append(f"CSP violation: {text}")
        elif not text.startswith("Failed to load resource"):  # HTTP statuses: see above
            self.problems.append(f"console error: {text}")

    def _on_response(self, response: Response) -> None:
        if response.request.resource_type in self.STATIC_TYPES and response.status >= 400:
            self.problems.append(f"{response.status} for {response.url}")

    def _on_request_failed(self, request) -> None:
        # ERR_ABORTED is the browser leaving a page while it loads, not a fault.
        if request.resource_type in self.STATIC_TYPES and "ERR_ABORTED" not in (
            request.failure or ""
        ):
            self.problems.append(f"request failed: {request.url} ({request.failure})")

    def take(self) -> list[str]:
        """Return and forget the problems seen so far (a test that provokes one on purpose)."""
        taken, self.problems = self.problems, []
        return taken


_WATCHES: weakref.WeakKeyDictionary[Page, PageWatch] = weakref.WeakKeyDictionary()


def watch(page: Page) -> PageWatch:
    if page not in _WATCHES:
        _WATCHES[page] = PageWatch(page)
    return _WATCHES[page]


def assert_no_page_problems(page: Page) -> None:
    problems = watch(page).take()
    assert not problems, "The browser reported problems:\n  " + "\n  ".join(problems)


# --- Accessibility -----------------------------------------------------------------------

_axe = Axe()


def assert_accessible(page: Page, context: str | dict | None = None) -> None:
    """Run axe-core on the page as it is now; fail on any serious or critical violation.

    Also checks what axe leaves out: that each text field's edge stands out from what is
    around it (WCAG 1.4.11, 3:1), so a person can see where to tap."""
    response = _axe.run(page, context=context).response
    failing = [v for v in response["violations"] if v.get("impact") in FAILING_IMPACTS]
    lines = []
    if failing:
        lines.append(f"axe found {len(failing)} serious or critical violation(s) on {page.url}:")
        for v in failing:
            lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
            for node in v["nodes"][:10]:
                lines.append(f"    at {node['target']}: {node.get('failureSummary', '')}")
    faint = page.evaluate(_FAINT_FIELDS_JS)
    if faint:
        lines.append(f"fields whose edge is below 3:1 contrast on {page.url}:")
        lines += [f"- {f}" for f in faint]
    if lines:
        raise AssertionError("\n".join(lines))


# Text fields, selects and text areas whose border (or fill) is below 3:1 against the
# background behind them. Colours come from getComputedStyle as rgb()/rgba().
_FAINT_FIELDS_JS = """() => {
  const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (a, b) => {
    const [x, y] = [lum(a), lum(b)].sort((m, n) => n - m);
    return (x + 0.05) / (y + 0.05);
  };
  const opaque = c => { const v = rgb(c); return v.length === 3 || (v.length === 4 && v[3] > 0); };
  const behind = el => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const c = getComputedStyle(p).backgroundColor;
      if (opaque(c)) return rgb(c);
    }
    return [255, 255, 255];
  };
  const skip = ["hidden", "checkbox", "radio", "submit", "button", "reset", "image", "range", "color"];
  const out = [];
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (skip.includes(el.type) || !el.checkVisibility()) continue;
    const s = getComputedStyle(el), back = behind(el);
    const edge = parseFloat(s.borderBottomWidth) > 0 ? ratio(rgb(s.borderBottomColor), back) : 0;
    const fill = opaque(s.backgroundColor) ? ratio(rgb(s.backgroundColor), back) : 0;
    if (Math.max(edge, fill) < 3) {
      out.push(`${el.tagName.toLowerCase()}#${el.id || el.name}: edge ${edge.toFixed(2)}:1`);
    }
  }
  return out;
}"""


# --- Screenshots -------------------------------------------------------------------------


def screenshot(page: Page, name: str, full_page: bool = True) -> Path:
    """Save test-artifacts/screenshots/<name>.png (git-ignored) and return its path."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
        raise ValueError(f"screenshot names are lower-case slugs: {name!r}")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    return path


# --- Steps a person takes ----------------------------------------------------------------


def login_form(page: Page) -> Locator:
    return page.locator("main form:has(input[name=password])")


def sign_in(page: Page, login: Login) -> None:
    """Sign in through the real form (CSRF and all) and wait until the form is gone."""
    page.goto("/login")
    form = login_form(page)
    form.locator("input[name=email]").fill(login.email)
    form.locator("input[name=password]").fill(login.password)
    form.locator("button[type=submit]").click()
    expect(logout_button(page)).to_be_visible()


def logout_button(page: Page) -> Locator:
    return page.locator("form[action$='/logout'] button[type=submit]")


def sign_out(page: Page) -> None:
    logout_button(page).click()
    expect(login_form(page)).to_be_visible()


def switch_language(page: Page, code: str) -> None:
    """Open the language switcher and choose a language, as a person does (works without JS)."""
    page.locator(".locale-switcher summary").click()
    page.locator(f".locale-switcher button[name=locale][value={code}]").click()
    expect(page.locator("html")).to_have_attribute("lang", code)


def settle(page: Page) -> None:
    """Wait until no htmx request is in flight (htmx marks the element with .htmx-request)."""
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


# --- Keyboard ----------------------------------------------------------------------------


def tab_to(page: Page, target: Locator, max_presses: int = 30) -> int:
    """Press Tab until `target` has focus; return how many presses it took, fail if never."""
    for presses in range(1, max_presses + 1):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return presses
    raise AssertionError(f"Tab never reached {target} in {max_presses} presses")


def assert_focus_visible(page: Page) -> None:
    """The focused element shows a focus ring (an outline or a box-shadow) in the viewport."""
    style = page.evaluate(
        """() => {
          const el = document.activeElement;
          const s = getComputedStyle(el);
          const r = el.getBoundingClientRect();
          return {tag: el.tagName, outline: s.outlineStyle, width: parseFloat(s.outlineWidth),
                  shadow: s.boxShadow, inView: r.bottom > 0 && r.top < innerHeight && r.width > 0};
        }"""
    )
    ring = (style["outline"] != "none" and style["width"] >= 2) or style["shadow"] != "none"
    assert ring, f"no visible focus indicator on the focused {style['tag']}: {style}"
    assert style["inView"], f"the focused {style['tag']} is outside the viewport"
