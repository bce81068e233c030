"""The programme (issue 19): schedules as recurrence rules across summer time and holidays,
the rules that refuse a schedule, a change or attendance with a message and store nothing,
cancelling and moving sessions, attendance from the Today screen, a visit counted as attending,
outreach contacts, and who may do what."""

import re
from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from app import languages
from app.choices import Role, SessionStatus
from app.extensions import db
from app.models import (
    Activity,
    ActivitySchedule,
    ActivitySession,
    AuditEvent,
    InformationContact,
    SessionAttendance,
    Visit,
)
from app.programme.schedule import build_rule, local_moment, occurrences, parse_rule
from app.workdays import local_today


@pytest.fixture
def site(make):
    return make.site()


@pytest.fixture
def staff(make, site, login):
    user = make.user(sites=[site])
    login(user)
    return user


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def schedule_form(**overrides) -> dict:
    data = {
        "pattern": "weekly",
        "weekdays": ["1"],
        "nth": "1",
        "starts_on": "2027-03-01",
        "ends_on": "2027-04-30",
        "start_time": "10:00",
        "end_time": "12:00",
        "skip_holidays": "y",
    }
    data.update(overrides)
    return data


# ---------------------------------------------------------------- recurrence rules


def test_weekly_rule_keeps_the_wall_clock_across_the_change_to_summer_time():
    # Sweden moves to summer time on Sunday 28 March 2027: a Tuesday session stays at 10:00.
    days = occurrences(build_rule("weekly", [1]), date(2027, 3, 16), date(2027, 4, 6))
    assert days == [date(2027, 3, 16), date(2027, 3, 23), date(2027, 3, 30), date(2027, 4, 6)]
    before, after = local_moment(days[1], time(10)), local_moment(days[2], time(10))
    assert before.utcoffset() == timedelta(hours=1)
    assert after.utcoffset() == timedelta(hours=2)
    assert (before.hour, after.hour) == (10, 10)


def test_and_back_to_winter_time_in_october():
    days = occurrences(build_rule("weekly", [3]), date(2027, 10, 28), date(2027, 11, 4))
    offsets = [local_moment(d, time(9, 30)).utcoffset() for d in days]
    assert offsets == [timedelta(hours=2), timedelta(hours=1)]


def test_public_holidays_are_skipped_by_default_and_kept_when_asked():
    # Easter Monday 2027 is 29 March; Ascension Day is Thursday 6 May.
    mondays = occurrences(build_rule("weekly", [0]), date(2027, 3, 22), date(2027, 4, 5))
    assert date(2027, 3, 29) not in mondays and len(mondays) == 2
    kept = occurrences(build_rule("weekly", [0]), date(2027, 3, 22), date(2027, 4, 5), False)
    assert date(2027, 3, 29) in kept
    thursdays = occurrences(build_rule("weekly", [3]), date(2027, 5, 1), date(2027, 5, 31))
    assert date(2027, 5, 6) not in thursdays
    # An ordinary Sunday is not a holiday: a Sunday schedule keeps it.
    sundays = occurrences(build_rule("weekly", [6]), date(2027, 9, 1), date(2027, 9, 30))
    assert len(sundays) == 4


def test_every_other_week_and_the_first_tuesday_of_the_month():
    every_other = occurrences(build_rule("biweekly", [2]), date(2027, 9, 1), date(2027, 9, 30))
    assert every_other == [date(2027, 9, 1), date(2027, 9, 15), date(2027, 9, 29)]
    first_tuesdays = occurrences(build_rule("monthly", [1], 1), date(2027, 1, 1), date(2027, 4, 30))
    assert first_tuesdays == [
        date(2027, 1, 5),
        date(2027, 2, 2),
        date(2027, 3, 2),
        date(2027, 4, 6),
    ]
    last_fridays = occurrences(build_rule("monthly", [4], -1), date(2027, 9, 1), date(2027, 10, 31))
    assert last_fridays == [date(2027, 9, 24), date(2027, 10, 29)]
    assert parse_rule(build_rule("monthly", [1], 1)) == ("monthly", [1], 1)
    assert parse_rule(build_rule("biweekly", [0, 3])) == ("biweekly", [0, 3], None)


# ---------------------------------------------------------------- schedules through the pages


def test_a_schedule_writes_out_its_sessions(client, make, site, staff):
    activity = make.activity(site)
    response = client.post(f"/programme/activities/{activity.id}/schedules", data=schedule_form())
    assert response.status_code == 303
    sessions = db.session.scalars(select(ActivitySession).order_by(ActivitySession.on_date)).all()
    # Tuesdays of March and April 2027: nine, none a holiday.
    assert len(sessions) == 9
    assert {s.on_date.weekday() for s in sessions} == {1}
    assert {(s.start_time, s.end_time) for s in sessions} == {(time(10), time(12))}
    schedule = db.session.scalar(select(ActivitySchedule))
    assert schedule.rule == "FREQ=WEEKLY;BYDAY=TU"
    assert db.session.scalar(
        select(AuditEvent.action).where(AuditEvent.action == "activity.schedule")
    )


@pytest.mark.parametrize(
    "overrides, field_message",
    [
        ({"ends_on": "2027-02-01"}, "Sista dagen kan inte vara före den första."),
        ({"end_time": "09:00"}, "Sluttiden måste vara efter starttiden."),
        ({"weekdays": []}, "Välj minst en veckodag."),
        ({"weekdays": ["9"]}, "Välj veckodagar i listan."),
        ({"pattern": "hourly"}, "Välj ett av alternativen."),
        ({"starts_on": "not a day"}, "Välj ett datum."),
        ({"start_time": "25:99"}, "Skriv en tid, till exempel 09:30."),
        ({"ends_on": "2031-01-01"}, "Ett schema kan vara högst 2 år."),
        # Saturday, from a Monday to the Thursday of the same week: no date at all.
        (
            {"weekdays": ["5"], "starts_on": "2027-03-01", "ends_on": "2027-03-04"},
            "Schemat ger inga datum mellan första och sista dagen.",
        ),
    ],
)
def test_a_schedule_that_breaks_a_rule_says_why_and_stores_nothing(
    client, make, site, staff, overrides, field_message
):
    activity = make.activity(site)
    response = client.post(
        f"/programme/activities/{activity.id}/schedules", data=schedule_form(**overrides)
    )
    assert response.status_code == 422
    assert field_message in response.get_data(as_text=True)
    assert count(ActivitySession) == 0 and count(ActivitySchedule) == 0


def test_overlapping_sessions_in_the_same_room_are_refused(client, make, site, staff):
    cafe = make.activity(site, name="Språkcafé")
    make.activity_session(cafe, on=date(2027, 3, 9), start=time(11), end=time(13))
    group = make.activity(site, kind="parenting_group", name="Föräldragrupp")
    response = client.post(f"/programme/activities/{group.id}/schedules", data=schedule_form())
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Lokalen är redan bokad då: Språkcafé" in page
    assert count(ActivitySession) == 1
    # In another room it is no clash; nor back to back in the same room.
    gym = make.activity(site, kind="open_session", name="Rörelse", room="Gympasalen")
    assert (
        client.post(f"/programme/activities/{gym.id}/schedules", data=schedule_form()).status_code
        == 303
    )
    after = make.activity(site, kind="other", name="Efteråt")
    ok = client.post(
        f"/programme/activities/{after.id}/schedules",
        data=schedule_form(start_time="13:00", end_time="14:00"),
    )
    assert ok.status_code == 303


def test_a_cancelled_session_frees_its_room(client, make, site, staff):
    cafe = make.activity(site)
    make.activity_session(
        cafe, on=date(2027, 3, 9), status=SessionStatus.CANCELLED, change_reason="weather"
    )
    other = make.activity(site, kind="other", name="Annat")
    response = client.post(
        f"/programme/activities/{other.id}/schedules",
        data=schedule_form(pattern="once", starts_on="2027-03-09"),
    )
    assert response.status_code == 303
    assert count(ActivitySession) == 2


def test_ending_a_schedule_removes_coming_sessions_but_keeps_held_ones(client, make, site, staff):
    activity = make.activity(site)
    today = local_today()
    schedule = ActivitySchedule(
        rule="FREQ=WEEKLY;BYDAY=MO",
        starts_on=today - timedelta(days=30),
        ends_on=today + timedelta(days=30),
        start_time=time(10),
        end_time=time(11),
    )
    activity.schedules.append(schedule)
    db.session.commit()
    held = make.activity_session(activity, on=today - timedelta(days=7), schedule_id=schedule.id)
    db.session.add(SessionAttendance(session_id=held.id, women=3))
    coming = make.activity_session(activity, on=today + timedelta(days=7), schedule_id=schedule.id)
    coming_id = coming.id
    response = client.post(f"/programme/schedules/{schedule.id}/delete")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(ActivitySession, held.id) is not None
    assert db.session.get(ActivitySession, coming_id) is None


# ---------------------------------------------------------------- cancel and move


def test_cancel_and_restore_a_session(client, make, site, staff):
    session = make.activity_session(make.activity(site), on=local_today() + timedelta(days=2))
    response = client.post(
        f"/programme/sessions/{session.id}/cancel", data={"reason": "staff_illness"}
    )
    assert response.status_code == 303
    db.session.refresh(session)
    assert (session.status, session.change_reason) == (SessionStatus.CANCELLED, "staff_illness")
    page = client.get(f"/programme/sessions/{session.id}").get_data(as_text=True)
    assert "Inställd" in page and "Personalen är sjuk" in page
    assert client.post(f"/programme/sessions/{session.id}/restore").status_code == 303
    db.session.refresh(session)
    assert session.status == SessionStatus.SCHEDULED


def test_a_tampered_reason_is_refused(client, make, site, staff):
    session = make.activity_session(make.activity(site), on=local_today() + timedelta(days=2))
    response = client.post(f"/programme/sessions/{session.id}/cancel", data={"reason": "<b>x"})
    assert response.status_code == 422
    assert "Välj ett av alternativen." in response.get_data(as_text=True)
    db.session.refresh(session)
    assert session.status == SessionStatus.SCHEDULED


def test_move_a_session_keeps_the_planned_date(client, make, site, staff):
    planned = local_today() + timedelta(days=3)
    session = make.activity_session(make.activity(site), on=planned)
    new_day = planned + timedelta(days=1)
    response = client.post(
        f"/programme/sessions/{session.id}/move",
        data={
            "reason": "room_unavailable",
            "on_date": new_day.isoformat(),
            "start_time": "13:00",
            "end_time": "14:30",
        },
    )
    assert response.status_code == 303
    db.session.refresh(session)
    assert (session.on_date, session.moved_from, session.start_time) == (new_day, planned, time(13))
    assert session.change_reason == "room_unavailable"


def test_a_move_into_the_past_or_onto_another_session_is_refused(client, make, site, staff):
    day = local_today() + timedelta(days=3)
    session = make.activity_session(make.activity(site), on=day)
    other = make.activity(site, kind="sfi", name="SFI")
    make.activity_session(other, on=day + timedelta(days=1), start=time(9), end=time(11))
    past = client.post(
        f"/programme/sessions/{session.id}/move",
        data={
            "reason": "other",
            "on_date": (local_today() - timedelta(days=1)).isoformat(),
            "start_time": "10:00",
            "end_time": "11:00",
        },
    )
    assert past.status_code == 422
    assert "Välj en dag från och med i dag." in past.get_data(as_text=True)
    clash = client.post(
        f"/programme/sessions/{session.id}/move",
        data={
            "reason": "other",
            "on_date": (day + timedelta(days=1)).isoformat(),
            "start_time": "10:00",
            "end_time": "12:00",
        },
    )
    assert clash.status_code == 422
    assert "Lokalen är redan bokad då: SFI" in clash.get_data(as_text=True)
    db.session.refresh(session)
    assert session.on_date == day and session.moved_from is None


# ---------------------------------------------------------------- attendance


def attendance_form(**overrides) -> dict:
    data = {
        "women": "4",
        "men": "1",
        "other_adults": "0",
        "children_0_1": "2",
        "children_1_3": "3",
        "children_3_6": "0",
        "new_people": "1",
        "conversations": "2",
        "languages": ["ar", "so"],
    }
    data.update(overrides)
    return data


def test_attendance_is_stored_as_counts_and_shown_on_the_today_screen(client, make, site, staff):
    session = make.activity_session(make.activity(site, name="Språkcafé"))
    today_page = client.get(f"/sites/{site.id}/today").get_data(as_text=True)
    assert "Dagens aktiviteter" in today_page and "Registrera närvaro" in today_page
    assert f"/programme/sessions/{session.id}" in today_page
    response = client.post(f"/programme/sessions/{session.id}/attendance", data=attendance_form())
    assert response.status_code == 303
    row = db.session.get(SessionAttendance, session.id)
    assert (row.women, row.men, row.children_0_1, row.children_1_3) == (4, 1, 2, 3)
    assert (row.new_people, row.conversations) == (1, 2)
    assert [lang.code for lang in row.languages] == ["ar", "so"]
    assert "Närvaro sparad" in client.get(f"/sites/{site.id}/today").get_data(as_text=True)
    # A second save corrects the first rather than adding to it.
    client.post(
        f"/programme/sessions/{session.id}/attendance",
        data=attendance_form(women="5", languages=["ar"]),
    )
    db.session.expire_all()
    row = db.session.get(SessionAttendance, session.id)
    assert row.women == 5 and [lang.code for lang in row.languages] == ["ar"]


def test_the_session_page_lists_the_activitys_own_languages_first(client, make, site, staff):
    session = make.activity_session(make.activity(site, languages=["so", "ar"]))
    client.post(
        f"/programme/sessions/{session.id}/attendance",
        data=attendance_form(languages=["so", "fi"]),
    )
    page = client.get(f"/programme/sessions/{session.id}").get_data(as_text=True)
    chips = re.findall(r'name="languages" value="([^"]+)"( checked)?', page)
    codes = [code for code, _checked in chips]
    # Arabiska before somaliska (alphabetical among its own), then the rest as before.
    assert codes[:2] == ["ar", "so"]
    rest = [n.code for n in languages.sorted_names("sv", exclude={"ar", "so"})]
    assert codes[2:] == rest and len(codes) == len(set(codes))
    assert sorted(code for code, checked in chips if checked) == ["fi", "so"]


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"women": "-1"}, "Ange ett antal från 0 till 200."),
        ({"children_1_3": "many"}, "Ange ett antal från 0 till 200."),
        ({"conversations": "51"}, "Ange ett antal från 0 till 50."),
        ({"new_people": "9"}, "Fler nya än vuxna"),
        ({"languages": ["xx-evil"]}, "Välj språk i listan."),
    ],
)
def test_bad_attendance_says_why_and_stores_nothing(client, make, site, staff, overrides, message):
    session = make.activity_session(make.activity(site))
    response = client.post(
        f"/programme/sessions/{session.id}/attendance", data=attendance_form(**overrides)
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(SessionAttendance) == 0


@pytest.mark.parametrize("which", ["cancelled", "future"])
def test_no_attendance_for_a_cancelled_or_future_session(client, make, site, staff, which):
    activity = make.activity(site)
    if which == "cancelled":
        session = make.activity_session(
            activity, status=SessionStatus.CANCELLED, change_reason="weather"
        )
        message = "Tillfället är inställt."
    else:
        session = make.activity_session(activity, on=local_today() + timedelta(days=1))
        message = "Tillfället har inte varit än."
    response = client.post(f"/programme/sessions/{session.id}/attendance", data=attendance_form())
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(SessionAttendance) == 0


def test_a_session_of_another_site_is_not_found(client, make, site, staff):
    elsewhere = make.site(org=site.organisation)
    session = make.activity_session(make.activity(elsewhere))
    assert client.get(f"/programme/sessions/{session.id}").status_code == 404
    assert (
        client.post(
            f"/programme/sessions/{session.id}/attendance", data=attendance_form()
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/programme/sessions/{session.id}/cancel", data={"reason": "other"}
        ).status_code
        == 404
    )
    assert count(SessionAttendance) == 0


def test_a_visit_is_counted_as_attending_a_session_of_its_day(client, make, site, staff):
    session = make.activity_session(make.activity(site))
    visit = make.visit(site, staff, on=local_today(), women=2, children_1_3=1)
    response = client.post(f"/programme/visits/{visit.id}/session", data={"session_id": session.id})
    assert response.status_code == 303
    db.session.refresh(visit)
    assert visit.session_id == session.id
    page = client.get(f"/programme/sessions/{session.id}").get_data(as_text=True)
    assert "Redan räknat från besök: 1 grupp med 2 vuxna och 1 barn." in page
    # A visit of another day cannot be counted to it.
    old = make.visit(site, staff, on=local_today() - timedelta(days=1))
    refused = client.post(
        f"/programme/visits/{old.id}/session",
        data={"session_id": session.id},
        follow_redirects=True,
    )
    assert "inte samma dag" in refused.get_data(as_text=True)
    db.session.refresh(old)
    assert old.session_id is None


# ---------------------------------------------------------------- activities


def test_an_activity_with_a_tampered_kind_is_refused(client, site, staff):
    response = client.post(
        "/programme/activities/new",
        data={"site_id": site.id, "kind": "nonsense", "name": "X", "service_id": 0},
    )
    assert response.status_code == 422
    assert "Välj ett av alternativen." in response.get_data(as_text=True)
    assert count(Activity) == 0


def test_an_activity_is_created_and_translated(client, site, staff):
    response = client.post(
        "/programme/activities/new",
        data={
            "site_id": site.id,
            "kind": "parenting_group",
            "name": "Föräldraskap i Sverige",
            "description": "Samtal om att vara förälder.",
            "service_id": 0,
            "languages": ["ar", "ti"],
            "capacity": "10",
            "needs_registration": "y",
        },
    )
    assert response.status_code == 303
    activity = db.session.scalar(select(Activity))
    assert (activity.kind, activity.capacity, activity.needs_registration) == (
        "parenting_group",
        10,
        True,
    )
    assert activity.languages == ["ar", "ti"] and activity.is_active
    text = client.post(
        f"/programme/activities/{activity.id}/texts/ar",
        data={"name": "الأبوة في السويد", "description": ""},
    )
    assert text.status_code == 303
    db.session.refresh(activity)
    assert {t.locale for t in activity.translations} == {"sv", "ar"}
    assert client.get(f"/programme/activities/{activity.id}/texts/xx").status_code == 404


def test_an_admin_adds_a_kind_that_staff_can_pick(client, make, site, login):
    admin = make.user(org=site.organisation, role=Role.ADMIN)
    login(admin)
    assert client.post("/programme/kinds", data={"name": "Sagostund"}).status_code == 303
    page = client.get("/programme/activities/new").get_data(as_text=True)
    assert "Sagostund" in page


def test_roles(client, make, site, login):
    coordinator = make.user(org=site.organisation, role=Role.COORDINATOR, sites=[site])
    login(coordinator)
    assert client.get("/programme/").status_code == 403
    client.post("/logout")
    staff = make.user(sites=[site])
    login(staff)
    assert client.get("/programme/").status_code == 200
    assert client.post("/programme/kinds", data={"name": "X"}).status_code == 403


# ---------------------------------------------------------------- outreach


def test_an_outreach_contact_is_counted(client, site, staff):
    response = client.post(
        f"/sites/{site.id}/outreach",
        data={
            "place": "library",
            "people": "6",
            "languages": ["so"],
            "on_date": local_today().isoformat(),
        },
    )
    assert response.status_code == 303
    contact = db.session.scalar(select(InformationContact))
    assert (contact.place, contact.people, contact.languages) == ("library", 6, ["so"])
    assert "Biblioteket" in client.get(f"/sites/{site.id}/outreach").get_data(as_text=True)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"people": "0"}, "Ange ett antal från 1 till 50."),
        ({"place": "mars"}, "Välj ett av alternativen."),
        ({"on_date": "2999-01-01"}, "Datumet kan inte vara i framtiden."),
    ],
)
def test_a_bad_outreach_contact_says_why(client, site, staff, overrides, message):
    data = {"place": "library", "people": "6", "on_date": local_today().isoformat()}
    data.update(overrides)
    response = client.post(f"/sites/{site.id}/outreach", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(InformationContact) == 0


def test_the_session_page_counts_a_visit_in_one_tap(client, make, site, staff):
    session = make.activity_session(make.activity(site))
    visit = make.visit(site, staff, on=local_today(), women=1, children_0_1=2)
    page = client.get(f"/programme/sessions/{session.id}").get_data(as_text=True)
    assert "Räkna till tillfället" in page and "1 vuxen, 2 barn" in page
    response = client.post(f"/programme/visits/{visit.id}/session", data={"session_id": session.id})
    assert response.location.endswith(f"/programme/sessions/{session.id}#visits")
    assert "Räknas hit – ångra" in client.get(f"/programme/sessions/{session.id}").get_data(
        as_text=True
    )
    client.post(f"/programme/visits/{visit.id}/session", data={"from_session": session.id})
    db.session.refresh(visit)
    assert visit.session_id is None


def test_a_kind_without_a_name_is_refused_with_a_message(client, make, site, login):
    login(make.user(org=site.organisation, role=Role.ADMIN))
    response = client.post("/programme/kinds", data={"name": ""}, follow_redirects=True)
    assert response.status_code == 200
    assert "Skriv ett namn." in response.get_data(as_text=True)


def test_after_saving_a_visit_during_a_session_one_tap_counts_it(client, make, site, staff):
    from tests.factories import visit_form

    session = make.activity_session(make.activity(site), start=time(0, 0), end=time(23, 59))
    saved = client.post(f"/sites/{site.id}/visits", data=visit_form(), follow_redirects=True)
    page = saved.get_data(as_text=True)
    assert "Kom till: Språkcafé" in page
    visit_id = db.session.scalar(select(func.max(Visit.id)))
    response = client.post(
        f"/programme/visits/{visit_id}/session", data={"session_id": session.id, "back": "today"}
    )
    assert response.location.endswith(f"/sites/{site.id}/today#today-totals")
    assert db.session.get(Visit, visit_id).session_id == session.id
    # Counted: the question is not asked again.
    assert "Kom till:" not in client.get(f"/sites/{site.id}/today").get_data(as_text=True)


def test_migration_0008_down_and_up_keeps_visits_and_their_languages(app, make, site):
    """0008's downgrade rebuilds the visit table on SQLite; with foreign keys on, that would
    delete every visit's languages (ON DELETE CASCADE) or fail. migrations/env.py turns them
    off for the migration and checks them before the commit."""
    from pathlib import Path

    from flask_migrate import downgrade, upgrade

    from app.models import VisitLanguage

    make.visit(site, languages=("ar", "so"))
    db.session.commit()
    db.session.remove()
    migrations = str(Path(__file__).resolve().parent.parent / "migrations")
    try:
        downgrade(directory=migrations, revision="0007")
    finally:
        upgrade(directory=migrations)
    assert count(Visit) == 1
    assert sorted(db.session.scalars(select(VisitLanguage.code))) == ["ar", "so"]
