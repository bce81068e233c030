"""Bounded queries of the programme's staff pages (issue 19): the Today screen and a session's
page send as many SQL statements with one session that day as with twenty."""

from datetime import time

import pytest

from app.choices import SessionChange, SessionStatus
from app.extensions import db
from app.models import AttendanceLanguage, SessionAttendance
from tests.test_queue import count_statements


@pytest.fixture
def site(make):
    return make.site()


@pytest.fixture
def staff(make, login, site):
    user = make.user(sites=[site])
    login(user)
    return user


def attend(session, women: int, codes=("ar", "sv")) -> None:
    """The session's attendance with languages, as the attendance form stores it."""
    db.session.add(
        SessionAttendance(
            session_id=session.id,
            women=women,
            children_1_3=1,
            languages=[AttendanceLanguage(code=c) for c in codes],
        )
    )
    db.session.commit()


def add_sessions(make, site, count: int, first: int = 0) -> list:
    """`count` sessions today, each its own activity, in every state the Today screen shows:
    attendance recorded, cancelled with a reason, still to record."""
    made = []
    for n in range(first, first + count):
        activity = make.activity(site, name=f"Aktivitet {n}", room=f"Rum {n}")
        session = make.activity_session(
            activity, start=time(8 + n % 10, 0), end=time(8 + n % 10, 45)
        )
        if n % 3 == 0:
            attend(session, women=n + 1)
        elif n % 3 == 1:
            session.status, session.change_reason = SessionStatus.CANCELLED, SessionChange.OTHER
            db.session.commit()
        made.append(session)
    return made


def test_today_runs_the_same_queries_with_1_or_20_sessions(client, make, staff, site):
    url = f"/sites/{site.id}/today"
    add_sessions(make, site, 1)
    client.get(url)  # the first view remembers the site (a write); measure the ones after
    one = count_statements(client, url)
    add_sessions(make, site, 19, first=1)
    html = client.get(url).get_data(as_text=True)
    assert html.count('class="session-item') == 20
    assert "Aktivitet 19" in html and "Närvaro sparad" in html
    assert count_statements(client, url) == one


def test_session_page_runs_the_same_queries_on_a_day_of_1_or_20_sessions(client, make, staff, site):
    (session,) = add_sessions(make, site, 1)  # with attendance and two languages
    make.visit(site, session_id=session.id)
    url = f"/programme/sessions/{session.id}"
    client.get(url)
    one = count_statements(client, url)
    add_sessions(make, site, 19, first=1)
    assert count_statements(client, url) == one
    html = client.get(url).get_data(as_text=True)
    assert "Aktivitet 0" in html and "Aktivitet 1<" not in html
