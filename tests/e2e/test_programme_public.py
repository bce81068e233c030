"""The visitors' programme in a real browser, on the demo's programme: the index of each site's
next few sessions and a site's two weeks, right to left and no wider than a 360 px phone in
Arabic (WCAG 1.4.10; test_reflow.py sweeps every locale), accessible by axe, and the weekly
poster printed by Chromium as exactly one A4 page, in Swedish, Arabic and Tigrinya."""

from __future__ import annotations

from io import BytesIO

from pypdf import PdfReader

from tests.e2e.helpers import assert_accessible, screenshot
from tests.e2e.steps import site_id

SOUTH = "Öppna förskolan Söder"
A4_POINTS = (595.3, 841.9)  # 210 × 297 mm


def pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    """The (width, height) in points of each page of a PDF."""
    return [
        (float(p.mediabox.width), float(p.mediabox.height)) for p in PdfReader(BytesIO(pdf)).pages
    ]


def test_the_programme_is_right_to_left_and_fits_a_phone(new_page, live_server):
    north = site_id(live_server)
    page = new_page("phone", locale="ar")
    # Every public page in every locale is swept at 320 and 360 px by test_reflow.py; here the
    # Arabic programme on its own, as a visitor's phone shows it.
    for path in ("/ar/programme", f"/ar/programme/{north}"):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path} is {width} px wide on a 360 px phone"
    page.goto("/ar/programme")
    assert page.locator("html").get_attribute("dir") == "rtl"
    first = page.locator(".programme-session").first
    picture = first.locator(".programme-pictogram").bounding_box()
    words = first.locator(".programme-name").bounding_box()
    assert picture["x"] > words["x"], "in Arabic the pictogram stands at the right, first"
    # The index: each site's next few sessions, with a way to its whole programme.
    assert page.locator(".programme-site").count() == 2
    for site in page.locator(".programme-site").all():
        assert 0 < site.locator(".programme-session").count() <= 3
        assert site.locator('a[href^="/ar/programme/"].button').count() == 2
    changed = 0
    for path in (f"/ar/programme/{north}", f"/ar/programme/{site_id(live_server, SOUTH)}"):
        page.goto(path)
        changed += page.locator(".programme-session.is-cancelled").count()
        changed += page.locator(".programme-session.is-moved").count()
    assert changed == 2, "the demo's cancelled and moved sessions are shown on their sites' pages"
    # The README's picture (docs/screenshots/programme-ar-phone.png): one site's programme.
    page.goto(f"/ar/programme/{north}")
    assert_accessible(page)
    page.locator("h1").evaluate("heading => heading.scrollIntoView()")
    screenshot(page, "programme-ar-phone", full_page=False)


def test_the_weekly_poster_prints_on_one_a4_page(new_page, live_server):
    page = new_page()
    north, south = site_id(live_server), site_id(live_server, SOUTH)
    for path in (
        f"/sv/programme/{north}/poster",
        f"/ar/programme/{south}/poster",
        f"/ti/programme/{north}/poster?week=next",
    ):
        page.goto(path)
        assert page.locator(".poster-qr svg").count() == 1, path
        assert page.locator(".poster .programme-session").count() >= 3, path
        sizes = pdf_pages(page.pdf(prefer_css_page_size=True))
        assert len(sizes) == 1, f"{path} prints on {len(sizes)} pages"
        width, height = sizes[0]
        assert abs(width - A4_POINTS[0]) < 2 and abs(height - A4_POINTS[1]) < 2, (path, sizes)
