"""Reflow (WCAG 1.4.10): no public page is wider than a phone. Every public page in every
locale at 320 and 360 px, in one browser page: set the viewport, load, measure. A page whose
document is wider than the viewport fails, naming the element that sticks out the most."""

from __future__ import annotations

from flask import Flask

from app.i18n import CONTENT_LOCALES
from app.info.queries import active_services, public_organisation

WIDTHS = (320, 360)

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


def public_paths(app: Flask) -> list[tuple[str, str]]:
    """(locale, path) of every public page: the pickers, and per locale the grid, each
    service, its handout and the how-to-withdraw page."""
    slugs = service_slugs(app)
    paths = [("-", "/"), ("-", "/kiosk/")]
    for lang in CONTENT_LOCALES:
        paths += [(lang, f"/{lang}/"), (lang, f"/{lang}/withdraw")]
        for slug in slugs:
            paths += [(lang, f"/{lang}/{slug}"), (lang, f"/{lang}/{slug}/print")]
    return paths


def overflowing_pages(page, paths, widths=WIDTHS) -> list[str]:
    """Load each page once at the narrowest width, then widen the viewport: media queries and
    layout follow a resize, so each width is measured without another load."""
    problems = []
    for lang, path in paths:
        page.set_viewport_size({"width": widths[0], "height": 740})
        response = page.goto(path)
        assert response is not None and response.ok, (path, response and response.status)
        for width in widths:
            if width != widths[0]:
                page.set_viewport_size({"width": width, "height": 740})
            found = page.evaluate(OVERFLOW)
            if found:
                worst = found["worst"] or {}
                problems.append(
                    f"{path} ({lang}) at {width} px: document {found['scrollWidth']} px wide;"
                    f" the element furthest out: {worst.get('name')} {worst.get('width')} px"
                    f" (x {worst.get('left')}..{worst.get('right')}) {worst.get('text')!r}"
                )
    return problems


def test_no_public_page_is_wider_than_a_phone(new_page, live_server):
    paths = public_paths(live_server.app)
    page = new_page("phone")
    problems = overflowing_pages(page, paths)
    loads = len(paths) * len(WIDTHS)
    assert not problems, f"{len(problems)} of {loads} page loads overflow:\n" + "\n".join(problems)
