"""Attendance in four taps on the tablet (issue 19): from the Today screen, tap today's session,
tap the women field and type, tap the children 1–3 field and type, tap "Spara närvaron". Each
tap is on something already in view (no scrolling between taps), and the count is stored and
shown as recorded on the Today screen."""

from __future__ import annotations

import re
from datetime import time

from playwright.sync_api import Locator, Page, expect
from sqlalchemy import delete, select

from app.extensions import db
from app.models import (
    Activity,
    ActivitySession,
    ActivityTranslation,
    AttendanceLanguage,
    SessionAttendance,
    Site,
)
from tests.e2e.helpers import screenshot, sign_in, tab_to
from tests.e2e.steps import NORTH
from tests.factories import Factory

NAME = "Språkcafé för fyra tryck"
WOMEN, CHILDREN_1_3 = 7, 4
MAX_TAPS = 4


class Taps:
    """Taps a person makes, each on an element that is in view without scrolling."""

    def __init__(self, page: Page) -> None:
        self.page, self.count = page, 0

    def tap(self, target: Locator) -> None:
        expect(target).to_be_visible()
        box = target.bounding_box()
        height = self.page.viewport_size["height"]
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= height, (
            f"tap {self.count + 1} needs a scroll first: {target} at y={box and box['y']:.0f}"
        )
        target.tap()
        self.count += 1


def make_session_today(live_server) -> tuple[int, int]:
    """A language café at the demo's Norr with a session today, as a schedule writes it."""
    with live_server.app.app_context():
        site = db.session.scalar(select(Site).where(Site.name == NORTH))
        make = Factory(db.session)
        activity = make.activity(site, name=NAME, room="Testrummet")
        # Before the demo's sessions (from 9:00), so it heads the list on any weekday.
        session = make.activity_session(activity, start=time(8, 0), end=time(8, 45))
        ids = activity.id, session.id
        db.session.remove()
    return ids


def remove_session(live_server, activity_id: int, session_id: int) -> None:
    """Back to the shared demo data as the other tests know it; the activity's name too, as
    SQLite may give the next activity the same id."""
    with live_server.app.app_context():
        for model, column in (
            (AttendanceLanguage, AttendanceLanguage.session_id),
            (SessionAttendance, SessionAttendance.session_id),
            (ActivitySession, ActivitySession.id),
        ):
            db.session.execute(delete(model).where(column == session_id))
        db.session.execute(
            delete(ActivityTranslation).where(ActivityTranslation.activity_id == activity_id)
        )
        db.session.execute(delete(Activity).where(Activity.id == activity_id))
        db.session.commit()
        db.session.remove()


def test_attendance_is_recorded_in_four_taps_from_the_today_screen(new_page, logins, live_server):
    activity_id, session_id = make_session_today(live_server)
    try:
        page = new_page("tablet", "sv")
        sign_in(page, logins["staff"])
        expect(page).to_have_url(re.compile(r"/sites/\d+/today$"))
        session_link = page.locator(".today-sessions a.session-link", has_text=NAME)
        expect(session_link).to_contain_text("Registrera närvaro")

        taps = Taps(page)
        taps.tap(session_link)
        expect(page).to_have_url(re.compile(rf"/programme/sessions/{session_id}(#attendance)?$"))
        form = page.locator("#attendance form")
        taps.tap(form.locator("input#women"))
        page.keyboard.type(str(WOMEN))
        taps.tap(form.locator("input#children_1_3"))
        page.keyboard.type(str(CHILDREN_1_3))
        screenshot(page, "attendance-taps-session", full_page=False)
        taps.tap(form.get_by_role("button", name="Spara närvaron"))

        expect(page).to_have_url(re.compile(r"/sites/\d+/today"))
        expect(page.get_by_text("Närvaron är sparad.")).to_be_visible()
        expect(page.locator(".today-sessions a.session-link", has_text=NAME)).to_contain_text(
            "Närvaro sparad"
        )
        assert taps.count <= MAX_TAPS
        with live_server.app.app_context():
            stored = db.session.get(SessionAttendance, session_id)
            assert (stored.women, stored.children_1_3) == (WOMEN, CHILDREN_1_3)
            assert stored.men == stored.children_0_1 == stored.conversations == 0
            db.session.remove()
    finally:
        remove_session(live_server, activity_id, session_id)


def test_a_tapped_count_is_replaced_by_what_is_typed(new_page, logins, live_server):
    """A count field showing "0" becomes "7", not "07", when tapped and 7 typed: on the session
    page, by Tab there, and on the Today screen's visit form (the same steppers)."""
    activity_id, session_id = make_session_today(live_server)
    try:
        page = new_page("tablet", "sv")
        sign_in(page, logins["staff"])
        expect(page).to_have_url(re.compile(r"/sites/\d+/today$"))
        today = page.locator("#record-form")
        expect(today.locator("input#women")).to_have_value("0")
        today.locator("input#women").tap()
        page.keyboard.type("7")
        expect(today.locator("input#women")).to_have_value("7")

        page.goto(f"/programme/sessions/{session_id}")
        form = page.locator("#attendance form")
        women, men = form.locator("input#women"), form.locator("input#men")
        expect(women).to_have_value("0")
        women.tap()
        page.keyboard.type("7")
        expect(women).to_have_value("7")
        tab_to(page, men)
        page.keyboard.type("3")
        expect(men).to_have_value("3")
        page.keyboard.type("1")  # typing on adds digits; only focusing selects
        expect(men).to_have_value("31")
    finally:
        remove_session(live_server, activity_id, session_id)
