"""The visitors' programme (area: programme): /<lang>/programme (every site's next few sessions)
and a site's programme in every language and direction, cancelled and moved sessions as
visitors see them, the calendar feed parsed back with the icalendar library (across a change
to summer time), the A4 poster with its QR code, the 404s, kiosk mode, a bounded number of SQL
statements, and the demo data."""

import gzip
import re
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import icalendar
import pytest
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from sqlalchemy import event, func, inspect, select

from app.choices import ActivityKind, Role, SessionChange, SessionStatus
from app.extensions import db
from app.i18n import CONTENT_LOCALES, RTL_LOCALES, ui_locale
from app.info.catalogue import seed_core_services
from app.info.pages import qr_svg
from app.models import (
    Activity,
    ActivitySession,
    ActivityTranslation,
    Service,
    SessionAttendance,
)
from app.programme import public
from app.programme.demo import seed_demo_programme
from app.programme.queries import sessions_between
from app.programme.weekly import NEXT_SHOWN, monday_of
from app.workdays import local_today

ARABIC_NAME = "مقهى اللغة"


def translated(app, locale: str, msgid: str) -> str:
    with app.test_request_context(), force_locale(locale):
        return _(msgid)


def label_in(app, locale: str, code) -> str:
    with app.test_request_context(), force_locale(locale):
        return code.label


class StatementCounter:
    """Counts SQL statements sent to the database while active (BEGIN is not one)."""

    def __init__(self):
        self.statements: list[str] = []

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self._count)

    def _count(self, _conn, _cursor, statement, *_args):
        if statement.strip().upper() != "BEGIN":  # SQLite's transaction start, not a query
            self.statements.append(statement)


@pytest.fixture
def org(make):
    return make.org()  # the first organisation: the one visitors see


@pytest.fixture
def site(make, org):
    return make.site(org=org, name="Öppna förskolan Norr", address="Storgatan 1, Demostad")


@pytest.fixture
def cafe(make, site):
    """A language café with its Swedish and Arabic texts, held today and a week from today
    (both always within "this week and next")."""
    activity = make.activity(site, kind=ActivityKind.LANGUAGE_CAFE, languages=["sv", "ar"])
    activity.translations[0].description = "Prata svenska över en kopp kaffe."
    activity.translations.append(
        ActivityTranslation(locale="ar", name=ARABIC_NAME, description="تحدّثوا السويدية.")
    )
    db.session.commit()
    return activity


@pytest.fixture
def today():
    return local_today()


# ---------------------------------------------------------------- the pages


def test_the_programme_speaks_every_locale_with_swedish_marked_where_it_falls_back(
    client, app, cafe, today, make
):
    make.activity_session(cafe, on=today + timedelta(days=7), start=time(13, 30), end=time(15))
    for code in CONTENT_LOCALES:
        response = client.get(f"/{code}/programme")
        assert response.status_code == 200, code
        page = response.get_data(as_text=True)
        direction = "rtl" if code in RTL_LOCALES else "ltr"
        assert f'<html lang="{ui_locale(code)}" dir="{direction}">' in page, code
        assert "13:30–15:00" in page and 'dir="ltr">13:30–15:00' in page, code
        assert 'src="/static/img/activities/language_cafe.svg' in page and 'alt=""' in page
        assert translated(app, ui_locale(code), "Veckans program") in page, code
        if code == "ar":
            assert f">{ARABIC_NAME}<" in page and 'lang="sv" dir="ltr">Språkcafé<' not in page
        elif code == "sv":
            assert 'class="programme-name">Språkcafé<' in page
            assert 'class="fallback-note"' not in page
        else:
            # No text in this locale: the Swedish one, marked as Swedish, with the note.
            assert 'class="programme-name" lang="sv" dir="ltr">Språkcafé<' in page, code
            assert 'class="fallback-note"' in page, code


@pytest.mark.parametrize("code", sorted(RTL_LOCALES))
def test_right_to_left_languages_get_rtl_pages_with_times_kept_left_to_right(
    client, cafe, today, make, code
):
    make.activity_session(cafe, on=today)
    for path in (f"/{code}/programme", f"/{code}/programme/{cafe.site_id}"):
        page = client.get(path).get_data(as_text=True)
        assert f'<html lang="{code}" dir="rtl">' in page, path
        assert '<span class="programme-time" dir="ltr">10:00–12:00</span>' in page, path


def test_a_cancelled_session_shows_publicly_with_its_translated_reason(
    client, app, cafe, today, make
):
    make.activity_session(
        cafe,
        on=today + timedelta(days=7),
        status=SessionStatus.CANCELLED,
        change_reason=SessionChange.STAFF_ILLNESS,
    )
    for code in ("sv", "ar", "so"):
        page = client.get(f"/{code}/programme/{cafe.site_id}").get_data(as_text=True)
        assert "programme-session is-cancelled" in page, code
        assert label_in(app, code, SessionStatus.CANCELLED) in page, code
        assert label_in(app, code, SessionChange.STAFF_ILLNESS) in page, code
    assert "Inställd. Skäl: Personalen är sjuk" in client.get("/sv/programme").get_data(
        as_text=True
    )


def test_a_moved_session_says_where_it_was_moved_from(client, app, cafe, today, make):
    planned = today + timedelta(days=6)
    make.activity_session(
        cafe,
        on=today + timedelta(days=7),
        moved_from=planned,
        change_reason=SessionChange.ROOM_UNAVAILABLE,
    )
    page = client.get(f"/sv/programme/{cafe.site_id}").get_data(as_text=True)
    with app.test_request_context(), force_locale("sv"):
        day = format_date(planned, "EEEE d MMMM")
    assert "programme-session is-moved" in page
    assert f"Flyttad från {day}. Skäl: Lokalen går inte att använda" in page


def test_the_programme_lists_every_active_site_and_leaves_out_past_days(
    client, make, org, cafe, today
):
    other = make.site(org=org, name="Öppna förskolan Söder")
    closed = make.site(org=org, name="Stängda förskolan", is_active=False)
    make.activity_session(make.activity(other, name="Sagostund"), on=today + timedelta(days=7))
    make.activity_session(make.activity(closed, name="Hemligt"), on=today)
    make.activity_session(cafe, on=today - timedelta(days=1), start=time(8), end=time(9))
    page = client.get("/en/programme").get_data(as_text=True)
    assert "Öppna förskolan Norr" in page and "Öppna förskolan Söder" in page
    assert "Sagostund" in page
    assert "Stängda förskolan" not in page and "Hemligt" not in page
    assert "08:00–09:00" not in page  # yesterday is over
    assert f'href="/en/programme/{other.id}"' in page


def index_sections(page: str) -> dict[str, list[str]]:
    """The index's sites by name, each with the times of its sessions in the order shown."""
    sections = page.split('<section class="programme-site"')[1:]
    found = {}
    for section in sections:
        name = re.search(r'class="programme-site-title"><a [^>]*>([^<]+)</a>', section)[1]
        found[name] = re.findall(r'class="programme-time" dir="ltr">([^<]+)<', section)
    return found


def test_the_index_shows_each_sites_next_few_sessions_in_order_from_today(
    client, make, org, cafe, today
):
    """The index lists NEXT_SHOWN sessions a site, the earliest first from today's (the
    database numbers them per site); the site's own page keeps the whole two weeks."""
    assert NEXT_SHOWN == 3
    site = cafe.site
    story = make.activity(site, name="Sagostund")
    ended = make.activity(site, name="Avslutad aktivitet", is_active=False)
    # Made out of order, so the order is the query's and not the insertion's.
    make.activity_session(cafe, on=today + timedelta(days=7), start=time(8), end=time(8, 30))
    make.activity_session(cafe, on=today + timedelta(days=1), start=time(13), end=time(13, 45))
    make.activity_session(cafe, on=today, start=time(14), end=time(15))
    make.activity_session(story, on=today, start=time(9), end=time(10))
    make.activity_session(story, on=today - timedelta(days=1), start=time(7), end=time(7, 30))
    make.activity_session(ended, on=today, start=time(6), end=time(6, 30))  # takes no place
    other = make.site(org=org, name="Öppna förskolan Söder")
    song = make.activity(other, name="Sångstund")
    for days in (4, 3, 2, 1):
        start, end = time(10 + days), time(10 + days, 30)
        make.activity_session(song, on=today + timedelta(days=days), start=start, end=end)
    page = client.get("/sv/programme").get_data(as_text=True)
    shown = index_sections(page)
    assert shown == {
        "Öppna förskolan Norr": ["09:00–10:00", "14:00–15:00", "13:00–13:45"],
        "Öppna förskolan Söder": ["11:00–11:30", "12:00–12:30", "13:00–13:30"],
    }
    assert "Sagostund" in page and '<span class="badge">Idag</span>' in page
    assert "Avslutad aktivitet" not in page and "07:00–07:30" not in page
    # Each site links to its whole programme and to its calendar.
    for one in (site, other):
        assert f'href="/sv/programme/{one.id}" aria-describedby="site-{one.id}">Hela' in page
        assert f'href="/sv/programme/{one.id}#subscribe"' in page
    # The site's own page still shows every session of the two weeks.
    whole = client.get(f"/sv/programme/{site.id}").get_data(as_text=True)
    for times in ("09:00–10:00", "14:00–15:00", "13:00–13:45", "08:00–08:30"):
        assert f'dir="ltr">{times}<' in whole, times
    assert "08:00–08:30" not in page


def test_a_site_with_nothing_coming_says_so_on_the_index(client, make, org, cafe, today):
    quiet = make.site(org=org, name="Öppna förskolan Tyst")
    later = make.activity(quiet, name="Sommarfest")
    make.activity_session(later, on=monday_of(today) + timedelta(weeks=2))  # after next week
    make.activity_session(later, on=today - timedelta(days=1))  # over
    make.activity_session(cafe, on=today)
    page = client.get("/sv/programme").get_data(as_text=True)
    section = page.split(f'aria-labelledby="site-{quiet.id}"')[1].split("</section>")[0]
    assert "Inga aktiviteter de närmaste två veckorna." in section
    assert "programme-session" not in section and "Sommarfest" not in page
    assert f'href="/sv/programme/{quiet.id}"' in section
    assert index_sections(page)["Öppna förskolan Norr"] == ["10:00–12:00"]


def test_public_pages_link_to_the_programme_and_the_site_page_shows_it(client, cafe, today, make):
    make.activity_session(cafe, on=today + timedelta(days=7))
    assert 'href="/so/programme"' in client.get("/so/").get_data(as_text=True)
    page = client.get(f"/sv/site/{cafe.site_id}").get_data(as_text=True)
    assert "Språkcafé" in page and f'href="/sv/programme/{cafe.site_id}"' in page
    # The language picker keeps the visitor on the programme.
    picker = client.get(f"/sv/programme/{cafe.site_id}").get_data(as_text=True)
    assert f'href="/ar/programme/{cafe.site_id}"' in picker
    # Outside kiosk mode the page offers the calendar feed to subscribe to.
    assert f'href="http://localhost/sv/programme/{cafe.site_id}.ics"' in picker
    assert 'class="programme-qr"' not in picker


def test_unknown_sites_and_locales_are_not_found(client, make, site):
    stranger = make.site(org=make.org(), name="Någon annans förskola")
    closed = make.site(org=site.organisation, name="Stängd", is_active=False)
    for site_id in (999, stranger.id, closed.id):
        for path in (
            f"/sv/programme/{site_id}",
            f"/sv/programme/{site_id}.ics",
            f"/sv/programme/{site_id}/poster",
        ):
            assert client.get(path).status_code == 404, path
    # A feed has no page to send a visitor to: an unknown locale is not found either.
    assert client.get(f"/xx/programme/{site.id}.ics").status_code == 404
    assert client.get(f"/zz-ZZ/programme/{site.id}.ics").status_code == 404
    # A page goes to the closest locale, as info's pages do.
    assert client.get("/ar-SE/programme").location == "/ar/programme"
    assert client.get(f"/xx/programme/{site.id}").location == f"/sv/programme/{site.id}"
    response = client.get(f"/AR/programme/{site.id}/poster?week=next&lang=x")
    assert response.location == f"/ar/programme/{site.id}/poster?week=next"


def test_the_programme_is_cacheable_for_visitors_and_light(client, cafe, today, make):
    make.activity_session(cafe, on=today)
    response = client.get("/sv/programme")
    assert response.cache_control.public and response.cache_control.max_age == 300
    page = response.get_data(as_text=True)
    assert "htmx" not in page and "app.js" not in page and "<form" not in page


def test_kiosk_mode_shows_the_programme(client, login, make, org, cafe, today):
    make.activity_session(cafe, on=today)
    staff = make.user(org=org, role=Role.STAFF, sites=[cafe.site])
    login(staff)
    assert client.post("/kiosk/start").status_code == 303
    assert "/ar/programme" in client.get("/ar/").get_data(as_text=True)
    for path in (
        "/ar/programme",
        f"/ar/programme/{cafe.site_id}",
        f"/sv/programme/{cafe.site_id}/poster",
    ):
        assert client.get(path).status_code == 200, path
    # The tablet is shared: the visitor takes the programme with her by its QR code.
    page = client.get(f"/ar/programme/{cafe.site_id}").get_data(as_text=True)
    assert qr_svg(f"http://localhost/ar/programme/{cafe.site_id}").decode() in page
    assert ".ics" not in page
    # The staff's programme stays out of reach.
    assert client.get("/programme/").location == "/kiosk/"


# ---------------------------------------------------------------- the calendar feed


def feed(client, path: str) -> icalendar.Calendar:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.data)


def test_the_feed_is_a_valid_calendar_with_one_event_per_session(client, cafe, today, make):
    monday = monday_of(today)
    first = make.activity_session(cafe, on=monday, start=time(9), end=time(11))
    cancelled = make.activity_session(
        cafe,
        on=monday + timedelta(days=9),
        status=SessionStatus.CANCELLED,
        change_reason=SessionChange.WEATHER,
    )
    make.activity_session(cafe, on=monday + timedelta(weeks=8))  # past the feed's eight weeks
    make.activity_session(cafe, on=monday - timedelta(days=1))  # before this week
    calendar = feed(client, f"/ar/programme/{cafe.site_id}.ics")
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Stockholm"]
    events = {e["UID"]: e for e in calendar.walk("VEVENT")}
    assert set(events) == {f"session-{first.id}@localhost", f"session-{cancelled.id}@localhost"}
    held = events[f"session-{first.id}@localhost"]
    assert held["SUMMARY"] == ARABIC_NAME
    assert held["STATUS"] == "CONFIRMED"
    assert held["LOCATION"] == "Öppna förskolan Norr, Storgatan 1, Demostad"
    start = held.decoded("DTSTART")
    assert (start.date(), start.time()) == (monday, time(9))
    assert str(held["DTSTART"].params["TZID"]) == "Europe/Stockholm"
    assert held.decoded("DTSTAMP").tzinfo is not None
    assert f"/ar/programme/{cafe.site_id}" in str(held["DESCRIPTION"])
    gone = events[f"session-{cancelled.id}@localhost"]
    assert gone["STATUS"] == "CANCELLED"
    assert ARABIC_NAME in str(gone["SUMMARY"])
    assert label_in(client.application, "ar", SessionChange.WEATHER) in str(gone["DESCRIPTION"])


def test_a_session_keeps_its_uid_when_it_is_moved(client, cafe, today, make):
    session = make.activity_session(cafe, on=monday_of(today) + timedelta(days=2))
    before = [e["UID"] for e in feed(client, f"/sv/programme/{cafe.site_id}.ics").walk("VEVENT")]
    session.moved_from, session.on_date = session.on_date, session.on_date + timedelta(days=1)
    db.session.commit()
    after = feed(client, f"/sv/programme/{cafe.site_id}.ics").walk("VEVENT")
    assert [e["UID"] for e in after] == before
    assert after[0].decoded("DTSTART").date() == session.on_date


def test_feed_times_stay_on_the_wall_clock_across_the_change_to_summer_time(
    client, cafe, make, monkeypatch
):
    """Sweden goes to summer time on Sunday 28 March 2027: a session at 10:00 is 09:00 UTC the
    Wednesday before and 08:00 UTC the Wednesday after, and the feed says so."""
    monkeypatch.setattr(public, "local_today", lambda: date(2027, 3, 22))
    winter = make.activity_session(cafe, on=date(2027, 3, 24))
    summer = make.activity_session(cafe, on=date(2027, 3, 31))
    calendar = feed(client, f"/sv/programme/{cafe.site_id}.ics")
    events = {e["UID"]: e for e in calendar.walk("VEVENT")}
    starts = {
        uid: e.decoded("DTSTART").astimezone(UTC).replace(tzinfo=None) for uid, e in events.items()
    }
    assert starts[f"session-{winter.id}@localhost"] == datetime(2027, 3, 24, 9, 0)
    assert starts[f"session-{summer.id}@localhost"] == datetime(2027, 3, 31, 8, 0)
    zone = calendar.walk("VTIMEZONE")[0]
    assert {c.name for c in zone.subcomponents} == {"STANDARD", "DAYLIGHT"}


# ---------------------------------------------------------------- the poster


def test_the_poster_shows_the_whole_week_with_a_qr_code_to_the_programme(client, cafe, today, make):
    monday = monday_of(today)
    make.activity_session(cafe, on=monday, start=time(8), end=time(9))
    make.activity_session(cafe, on=monday + timedelta(days=7), start=time(14), end=time(15))
    response = client.get(f"/ar/programme/{cafe.site_id}/poster")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    url = f"http://localhost/ar/programme/{cafe.site_id}"
    assert qr_svg(url).decode() in page and url in page
    assert '<html lang="ar" dir="rtl">' in page
    assert "08:00–09:00" in page and ARABIC_NAME in page  # Monday's too, already past
    assert "14:00–15:00" not in page
    assert 'class="poster"' in page and "poster-view" in page
    upcoming = client.get(f"/ar/programme/{cafe.site_id}/poster?week=next").get_data(as_text=True)
    assert "14:00–15:00" in upcoming and "08:00–09:00" not in upcoming


def test_a_fuller_week_gets_smaller_type_on_the_poster(client, cafe, today, make):
    """A4 holds the week by its type: two columns from POSTER_DENSE sessions, smaller type from
    POSTER_CROWDED (tests/e2e prints the demo's; the thresholds were measured there)."""
    monday = monday_of(today)
    path = f"/sv/programme/{cafe.site_id}/poster"
    assert 'class="poster"' in client.get(path).get_data(as_text=True)
    made = 0
    for wanted, density in (
        (public.POSTER_DENSE, "is-dense"),
        (public.POSTER_CROWDED, "is-crowded"),
    ):
        while made < wanted:
            make.activity_session(
                cafe, on=monday + timedelta(days=made % 5), start=time(8 + made // 5 % 4)
            )
            made += 1
        assert f'class="poster {density}"' in client.get(path).get_data(as_text=True)


# ---------------------------------------------------------------- bounded queries


def test_the_programme_page_runs_the_same_number_of_statements_however_many_sessions(
    app, client, make, org, cafe, today
):
    other = make.site(org=org)
    make.activity_session(cafe, on=today)
    client.get("/sv/programme")  # the first request of an app warms its caches
    with StatementCounter() as few:
        assert client.get("/sv/programme").status_code == 200
    with make.one_commit():
        for n in range(30):
            activity = make.activity(other if n % 2 else cafe.site, name=f"Aktivitet {n}")
            for days in (0, 1, 2, 7):
                make.activity_session(
                    activity, on=today + timedelta(days=days), start=time(8 + n % 8)
                )
    with StatementCounter() as many:
        page = client.get("/sv/programme").get_data(as_text=True)
    # The index reads each site's next few only; the site's page has all of its sessions.
    assert page.count('<li class="programme-session') == 2 * NEXT_SHOWN
    assert len(many.statements) == len(few.statements), many.statements
    assert len(few.statements) <= 4, few.statements
    with StatementCounter() as site_page:
        whole = client.get(f"/sv/programme/{cafe.site_id}").get_data(as_text=True)
    assert whole.count('<li class="programme-session') == 1 + 15 * 4
    # Visitors never see attendance, so the public pages do not read it.
    for statement in many.statements + site_page.statements:
        assert "session_attendance" not in statement, statement
    # Bounded in SQL: the database sends no more rows than the index shows.
    with app.test_request_context():
        sites = [cafe.site_id, other.id]
        rows = sessions_between(sites, today, today + timedelta(7), "sv", NEXT_SHOWN)
    assert Counter(row.session.site_id for row in rows) == dict.fromkeys(sites, NEXT_SHOWN)
    # The staff reads (the Today screen) still have it, read in the same query batch.
    assert all("attendance" not in inspect(row.session).unloaded for row in rows)


# ---------------------------------------------------------------- demo data


def test_the_demo_programme_fills_this_week_and_next_at_both_sites(client, make, org, today):
    north = make.site(org=org, name="Öppna förskolan Norr")
    south = make.site(org=org, name="Öppna förskolan Söder")
    seed_core_services(org)
    db.session.flush()
    seed_demo_programme(org)
    db.session.commit()
    activities = list(db.session.scalars(select(Activity)))
    assert {a.site_id for a in activities} == {north.id, south.id}
    kinds = {a.kind for a in activities}
    assert {
        ActivityKind.OPEN_SESSION,
        ActivityKind.SFI,
        ActivityKind.LANGUAGE_CAFE,
        ActivityKind.PARENTING_GROUP,
        ActivityKind.INFORMATION_MEETING,
    } <= kinds
    sfi = db.session.scalar(select(Service.id).where(Service.slug == "sfi"))
    assert all(a.service_id == sfi for a in activities if a.kind == ActivityKind.SFI)
    for activity in activities:
        assert {t.locale for t in activity.translations} >= {
            "sv",
            "en",
            "ar",
            "fa",
            "so",
            "ti",
            "uk",
            "ckb",
        }
    names = {t.name for a in activities for t in a.translations if t.locale == "sv"}
    assert "Föräldraskap i Sverige" in names
    sessions = list(db.session.scalars(select(ActivitySession)))
    cancelled = [s for s in sessions if s.status == SessionStatus.CANCELLED]
    moved = [s for s in sessions if s.moved_from is not None]
    assert len(cancelled) == 1 and cancelled[0].change_reason and cancelled[0].on_date > today
    assert len(moved) == 1 and moved[0].change_reason and moved[0].on_date > today
    monday = monday_of(today)
    for site in (north, south):
        for week in (monday, monday + timedelta(weeks=1)):
            held = [
                s
                for s in sessions
                if s.site_id == site.id and week <= s.on_date < week + timedelta(weeks=1)
            ]
            assert len(held) >= 3, (site.name, week)
    past = [s for s in sessions if s.on_date < today and s.status == SessionStatus.SCHEDULED]
    recorded = db.session.scalar(select(func.count()).select_from(SessionAttendance))
    assert past and recorded == len(past)
    # And visitors read it: Arabic texts on the sites' Arabic programmes, the index light on
    # a phone with each site's next few sessions.
    pages = "".join(
        client.get(f"/ar/programme/{site.id}").get_data(as_text=True) for site in (north, south)
    )
    assert "الوالدية في السويد" in pages or "SFI للآباء والأمهات في إجازة الوالدين" in pages
    index = client.get("/ar/programme").get_data(as_text=True)
    assert [len(times) for times in index_sections(index).values()] == [NEXT_SHOWN] * 2
    assert first_view_bytes(client, "/ar/programme") <= 30 * 1024


def first_view_bytes(client, path: str) -> int:
    """The page and what it loads (stylesheets, script, pictograms), each gzipped as a server
    would send it; the favicon is fetched once per site, not per page."""
    response = client.get(path)
    html = response.data
    total = len(gzip.compress(html, 9))
    for url in sorted(set(re.findall(r'(?:src|href)="(/static/[^"]*)"', html.decode()))):
        if "favicon" not in url:
            resource = client.get(url)
            assert resource.status_code == 200, url
            total += len(gzip.compress(resource.data, 9))
            resource.close()
    return total
