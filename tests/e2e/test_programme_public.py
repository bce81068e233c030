"""The visitors' programme in a real browser, on the demo's programme: right to left and no
wider than a phone in Arabic, Persian and Sorani (WCAG 1.4.10), accessible by axe, and the
weekly poster printed by Chromium as exactly one A4 page, in Swedish and in Arabic."""

from __future__ import annotations

import re

from tests.e2e.helpers import assert_accessible, screenshot
from tests.e2e.steps import site_id
from tests.e2e.test_reflow import overflowing_pages

SOUTH = "Öppna förskolan Söder"
A4_POINTS = (595.3, 841.9)  # 210 × 297 mm


def pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    """The (width, height) of each page of a PDF Chromium wrote (its page objects are not
    compressed, so their /MediaBox can be read as they are)."""
    boxes = re.findall(rb"/Type\s*/Page\b(?!s).*?/MediaBox\s*\[([^\]]*)\]", pdf, re.S)
    if not boxes:  # /MediaBox may come before /Type in the page's dictionary
        boxes = re.findall(rb"/MediaBox\s*\[([^\]]*)\][^>]*?/Type\s*/Page\b(?!s)", pdf, re.S)
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))
    sizes = [tuple(float(v) for v in box.split()[2:4]) for box in boxes]
    assert len(sizes) == pages, (pages, sizes)
    return sizes


def test_the_programme_is_right_to_left_and_fits_a_phone(new_page, live_server):
    north = site_id(live_server)
    page = new_page("phone", locale="ar")
    paths = [
        ("ar", "/ar/programme"),
        ("ar", f"/ar/programme/{north}"),
        ("fa", f"/fa/programme/{north}"),
        ("ckb", "/ckb/programme"),
        ("ar", f"/ar/site/{north}"),
    ]
    problems = overflowing_pages(page, paths, widths=(360,))
    assert not problems, "\n".join(problems)
    page.goto("/ar/programme")
    assert page.locator("html").get_attribute("dir") == "rtl"
    first = page.locator(".programme-session").first
    picture = first.locator(".programme-pictogram").bounding_box()
    words = first.locator(".programme-name").bounding_box()
    assert picture["x"] > words["x"], "in Arabic the pictogram stands at the right, first"
    assert (
        page.locator(".programme-session.is-cancelled").count()
        + page.locator(".programme-session.is-moved").count()
        == 2
    ), "the demo's cancelled and moved sessions are shown"
    assert_accessible(page)
    # The README's picture (docs/screenshots/programme-ar-phone.png): one site's programme.
    page.goto(f"/ar/programme/{north}")
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
