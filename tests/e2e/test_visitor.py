"""A visitor on their own phone: the SFI page in Tigrinya and in Somali, and the page its QR
code leads to (what a visitor's camera would open)."""

from __future__ import annotations

import re

import segno
from playwright.sync_api import expect

from app.info.catalogue import core_services
from app.swedish_terms import plain
from tests.e2e.helpers import assert_accessible, screenshot

SVG_PATH_STEP = re.compile(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?")


def qr_modules(svg: str) -> set[tuple[int, int]]:
    """The dark modules (column, row) of a QR code drawn as segno draws SVG: one path of
    horizontal runs ("M2 2.5h7m2 0h2…"), counted from the symbol's top-left corner."""
    drawn = svg.split('stroke="#000" d="', 1)[1].split('"', 1)[0]
    x = y = 0.0
    dark = set()
    for op, a, b in SVG_PATH_STEP.findall(drawn):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            dark.update((int(x) + i, int(y)) for i in range(int(float(a))))
            x += float(a)
    left = min(c for c, _r in dark)  # the finder pattern's corner is always dark
    top = min(r for _c, r in dark)
    return {(c - left, r - top) for c, r in dark}


def symbol_modules(url: str) -> set[tuple[int, int]]:
    matrix = segno.make(url, error="m").matrix
    return {(c, r) for r, row in enumerate(matrix) for c, bit in enumerate(row) if bit}


def test_visitor_reads_sfi_in_tigrinya_and_somali_and_follows_the_qr_code(new_page, live_server):
    page = new_page("phone", "ti")
    page.goto("/info")  # the phone's language decides where the entry leads
    expect(page).to_have_url(re.compile(r"/ti/$"))
    # The texts the seed gave the live server, as a page shows them (Swedish terms unmarked).
    sfi = {
        locale: {field: plain(text) for field, text in texts.items()}
        for locale, texts in core_services()["sfi"]["translations"].items()
    }
    tigrinya = sfi["ti"]
    page.locator(".service-card", has_text=tigrinya["name"]).tap()
    expect(page).to_have_url(re.compile(r"/ti/sfi$"))
    expect(page.locator("html")).to_have_attribute("lang", "ti")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    expect(page.locator("h1")).to_have_text(tigrinya["name"])
    expect(page.locator("main")).to_contain_text(tigrinya["description"])
    expect(page.locator("h1")).not_to_have_attribute("lang", re.compile("."))  # not a fallback

    page.locator(".language-picker a[hreflang=so]").tap()
    expect(page).to_have_url(re.compile(r"/so/sfi$"))
    somali = sfi["so"]
    expect(page.locator("html")).to_have_attribute("lang", "so")
    expect(page.locator("h1")).to_have_text(somali["name"])
    expect(page.locator("main")).to_contain_text(somali["application_process"])
    assert_accessible(page)
    screenshot(page, "service-phone-so")

    # The QR code on the page: shown, and encoding this page's own address.
    qr = page.locator("img.qr")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    answer = page.request.get(qr.get_attribute("src"))
    assert answer.ok and answer.headers["content-type"].startswith("image/svg+xml")
    target = f"{live_server.url}/so/sfi"
    assert qr_modules(answer.text()) == symbol_modules(target)
    assert qr_modules(answer.text()) != symbol_modules(f"{live_server.url}/ti/sfi")

    # What the camera opens: a fresh phone at that address gets the Somali page.
    camera = new_page("phone", "sv")
    response = camera.goto(target)
    assert response.status == 200
    expect(camera.locator("html")).to_have_attribute("lang", "so")
    expect(camera.locator("h1")).to_have_text(somali["name"])
