"""A project report's print view (issue 20) is one A4 page, printed to PDF by Chromium as a
person's print dialog would: every demo project (three years of months in the longest), in
Swedish and in Arabic (right to left, longer labels). The report page reflows at 320 px: its
tables scroll inside their own labelled regions, not the page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Project
from tests.e2e.helpers import sign_in, switch_language
from tests.e2e.test_print import page_count
from tests.e2e.test_reflow import OVERFLOW

pytestmark = pytest.mark.e2e


def demo_projects(live_server) -> list[int]:
    with live_server.app.app_context():
        ids = list(db.session.scalars(select(Project.id).order_by(Project.id)))
    assert ids, "the demo has projects"
    return ids


def test_every_demo_project_prints_on_one_a4_page(new_page, live_server, logins):
    page = new_page()
    sign_in(page, logins["admin"])
    problems = []
    for locale in ("sv", "ar"):
        if locale != "sv":
            switch_language(page, locale)
        for project_id in demo_projects(live_server):
            path = f"/stats/projects/{project_id}/print"
            response = page.goto(path)
            assert response is not None and response.ok, (path, response and response.status)
            pages = page_count(page.pdf(format="A4"))
            if pages != 1:
                problems.append(f"{path} ({locale}) prints on {pages} pages")
    switch_language(page, "sv")
    assert not problems, "\n".join(problems)


def test_the_report_reflows_at_320_px(new_page, live_server, logins):
    page = new_page(viewport="phone")
    sign_in(page, logins["coordinator"])
    page.set_viewport_size({"width": 320, "height": 640})
    for project_id in demo_projects(live_server):
        page.goto(f"/stats/projects/{project_id}")
        assert page.evaluate(OVERFLOW) is None
        regions = page.locator(".table-wrap[role=region][tabindex='0']")
        assert regions.count() >= 4
