"""Reflow (WCAG 1.4.10): no public page is wider than a phone. Every public page in every
locale at 320 and 360 px, in one browser page: set the viewport, load, measure. A page whose
document is wider than the viewport fails, naming the element that sticks out the most."""

from __future__ import annotations

import itertools

from flask import Flask, url_for

from app.access import PUBLIC
from app.i18n import CONTENT_LOCALES
from app.info.queries import active_services, public_organisation, public_sites
from tests.e2e.helpers import assert_no_page_problems, watch

WIDTHS = (320, 360)
SIDE_BY_SIDE = 4  # pages loading at once

# The element that reaches furthest past either edge of the viewport (an RTL page overflows to
# the left; of equally far ones the narrowest, the innermost), described well enough to find it
# in the template.
OVERFLOW = """() => {
  const root = document.documentElement;
  const width = root.clientWidth;
  if (root.scrollWidth <= width) return null;
  const page = root.getBoundingClientRect();
  let worst = null;
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    const out = Math.max(box.right - page.right, page.left - box.left);
    if (box.width === 0 || out <= 1) continue;
    if (worst && (out < worst.out || (out === worst.out && box.width >= worst.width))) continue;
    const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
      + [...el.classList].map(c => "." + c).join("");
    const text = (el.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 40);
    worst = {name, text, out, width: Math.round(box.width),
             left: Math.round(box.left - page.left), right: Math.round(box.right - page.left)};
  }
  return {scrollWidth: root.scrollWidth, width, worst};
}"""


def service_slugs(app: Flask) -> list[str]:
    """The slugs of the services visitors see (the demo's)."""
    with app.test_request_context():
        slugs = [service.slug for service in active_services(public_organisation())]
    assert slugs, "the demo has services"
    return slugs


# Public addresses that are not pages: an image, a recording, a calendar feed, the catalogue's
# JSON for directories (the HSDS API).
NOT_PAGES = frozenset(
    {
        "info.qr",
        "info.audio",
        "programme.feed",
        "info.entry",
        "info.kiosk_exit",
        "info.api_services",
        "info.api_service",
    }
)
# The QR code's box is set by its width and height; a blank one spares the server a QR code
# per service page.
BLANK_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>'


def public_paths(app: Flask) -> list[tuple[str, str]]:
    """(locale, path) of every public page, from the URL map, so a new one is swept too: the
    pickers, and in every locale each page for each service and each site of the demo."""
    with app.test_request_context():
        org = public_organisation()
        values = {
            "lang": list(CONTENT_LOCALES),
            "slug": [service.slug for service in active_services(org)],
            "site_id": [site.id for site in public_sites(org)],
        }
    assert values["slug"] and values["site_id"], "the demo has services and sites"
    paths = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        if getattr(view, "access", None) != PUBLIC or "GET" not in rule.methods:
            continue
        if rule.endpoint in NOT_PAGES or rule.endpoint.startswith(("auth.", "ops.")):
            # auth.index is "/" (the picker for visitors); its forms are not public pages. The
            # ops area answers machines (health, metrics), not readers.
            continue
        names = sorted(rule.arguments)
        for combination in itertools.product(*(values[name] for name in names)):
            arguments = dict(zip(names, combination, strict=True))
            with app.test_request_context():
                path = url_for(rule.endpoint, **arguments)
            paths.append((arguments.get("lang", "-"), path))
    return [("-", "/"), *paths]


def overflowing_pages(pages, paths, widths=WIDTHS) -> list[str]:
    """Load each page once at the narrowest width, then widen the viewport (media queries and
    layout follow a resize, so each width is measured without another load). The pages load
    side by side, a batch at a time: one waits for the server while another lays out."""
    problems = []
    for start in range(0, len(paths), len(pages)):
        batch = list(zip(pages, paths[start : start + len(pages)], strict=False))
        for page, (_lang, path) in batch:
            page.set_viewport_size({"width": widths[0], "height": 740})
            response = page.goto(path, wait_until="commit")
            assert response is not None and response.ok, (path, response and response.status)
        for page, (lang, path) in batch:
            page.wait_for_load_state("load")
            for width in widths:
                if width != widths[0]:
                    page.set_viewport_size({"width": width, "height": 740})
                found = page.evaluate(OVERFLOW)
                if found:
                    worst = found["worst"] or {}
                    problems.append(
                        f"{path} ({lang}) at {width} px: document {found['scrollWidth']} px"
                        f" wide; the element furthest out: {worst.get('name')}"
                        f" {worst.get('width')} px (x {worst.get('left')}..{worst.get('right')})"
                        f" {worst.get('text')!r}"
                    )
    return problems


def test_no_public_page_is_wider_than_a_phone(new_page, live_server):
    paths = public_paths(live_server.app)
    first = new_page("phone")
    pages = [first] + [first.context.new_page() for _ in range(SIDE_BY_SIDE - 1)]
    for page in pages:
        watch(page)  # script errors, CSP violations and broken files, as on the fixture's page
        page.route(
            "**/qr.svg", lambda route: route.fulfill(body=BLANK_SVG, content_type="image/svg+xml")
        )
    problems = overflowing_pages(pages, paths)
    for page in pages[1:]:
        assert_no_page_problems(page)
    loads = len(paths) * len(WIDTHS)
    assert not problems, f"{len(problems)} of {loads} page loads overflow:\n" + "\n".join(problems)
