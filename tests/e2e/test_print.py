"""The print handout is one page, QR code included, on A5 and on A4: every service of the demo
in every locale, printed to PDF by Chromium as a person's print dialog would, pages counted."""

from __future__ import annotations

import io

from pypdf import PdfReader

from app.i18n import CONTENT_LOCALES
from tests.e2e.test_reflow import service_slugs

PAPERS = ("A5", "A4")


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def handout_problems(page, handouts, papers=PAPERS) -> list[str]:
    problems = []
    for path in handouts:
        response = page.goto(path)
        assert response is not None and response.ok, (path, response and response.status)
        for paper in papers:
            pages = page_count(page.pdf(format=paper))
            if pages != 1:
                problems.append(f"{path} prints on {pages} pages on {paper}")
    return problems


def test_every_handout_prints_on_one_page_on_a5_and_a4(new_page, live_server):
    slugs = service_slugs(live_server.app)
    handouts = [f"/{lang}/{slug}/print" for lang in CONTENT_LOCALES for slug in slugs]
    page = new_page()
    problems = handout_problems(page, handouts)
    assert not problems, f"{len(problems)} of {len(handouts) * len(PAPERS)} prints:\n" + "\n".join(
        problems
    )
