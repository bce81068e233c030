"""The Ethiopic web font (static/fonts/README.md): a Tigrinya page fetches it, so Tigrinya never
shows empty boxes; a page in another language fetches only the 1 KB subset that draws the
picker's "ትግርኛ", and its first view stays within the public pages' 30 KB budget."""

from __future__ import annotations

import gzip

FONT = "/static/fonts/noto-sans-ethiopic-2.102-400.woff2"
PICKER_FONT = "/static/fonts/noto-sans-ethiopic-2.102-400-tigrinya-name.woff2"
BUDGET = 30 * 1024


def first_view(new_page, path: str) -> dict[str, int]:
    """Path of each file a fresh phone fetched to show `path` -> its size gzipped (as a server
    would send it; fonts are compressed already), after the fonts are in."""
    page = new_page("phone")
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(path)
    page.evaluate("() => document.fonts.ready.then(() => true)")
    page.wait_for_load_state("networkidle")
    sizes = {}
    for response in responses:
        file = response.url.split("//", 1)[1].split("/", 1)[1].split("?")[0]
        if response.ok and "favicon" not in file:
            sizes["/" + file] = len(gzip.compress(response.body(), 9))
    return sizes


def test_a_tigrinya_page_fetches_the_ethiopic_font(new_page):
    fetched = first_view(new_page, "/ti/sfi")
    assert FONT in fetched, sorted(fetched)


def test_other_languages_fetch_only_the_pickers_letters_within_the_budget(new_page):
    for path in ("/sv/", "/sv/sfi", "/ar/employment", "/ckb/parenting"):
        fetched = first_view(new_page, path)
        assert FONT not in fetched, path
        assert PICKER_FONT in fetched, (path, sorted(fetched))  # "ትግርኛ" is drawn, not boxes
        total = sum(fetched.values())
        assert total <= BUDGET, (path, total, fetched)
