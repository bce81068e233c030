"""Statistics of the programme and of outreach (issue 19): every figure on a small hand-made
set, small counts hidden (stored exactly), the CSV and XLSX lines, the visit form's outreach
fields, and a dashboard whose statements do not grow with the sessions."""

import csv
import io
import re
from datetime import date, time, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, select

from app.choices import Role, SessionChange, SessionStatus
from app.extensions import db
from app.models import (
    AttendanceLanguage,
    InformationContact,
    SessionAttendance,
    Visit,
    VisitDaySummary,
    VisitMonthSummary,
)
from app.stats import periods, queries, report, summary
from app.workdays import local_today
from tests.factories import visit_form

MARCH = {"period": "month", "on": "2026-03-10"}


def attend(session, languages=(), **counts):
    row = SessionAttendance(session_id=session.id, **counts)
    row.languages = [AttendanceLanguage(code=code) for code in languages]
    db.session.add(row)
    return row


def inform(site, on, place, people):
    db.session.add(InformationContact(site_id=site.id, on_date=on, place=place, people=people))


@pytest.fixture
def world(make):
    """Kommun A (threshold 5), sites Norr and Söder; Kommun B's data on the same days.

    Sessions in March 2026 (7; April's and B's are not counted):
      Norr, Språkcafé (language café): 3 Mar 6 women, 1 man, 3 children 1-3, 2 new, ar+so,
        and a new visit counted to it (1 woman, 1 child 0-1, Dari); 10 Mar 4 women, ar;
        17 Mar cancelled (staff illness)
      Norr, Föräldragrupp (parenting group): 12 Mar 3 women, 2 men, 6 conversations, ar
      Söder, SFI: 5 Mar 10 women, 1 new, 2 conversations, ti+ar; 19 Mar cancelled (holiday);
        26 Mar held, nothing recorded
    Outreach: informed 6 at the SFI school (4 Mar), 3 at the child health clinic (11 Mar),
      4 at the library (24 Mar, Söder); new groups after outreach 3 on 5 Mar and 3 on 12 Mar
      (a returning group marked so is not one); visits at a library 6, a housing area 5,
      home visits 2.
    """
    org = make.org(name="Kommun A", suppression_threshold=5)
    north = make.site(org, name="Norr")
    south = make.site(org, name="Söder")
    admin = make.user(org, role=Role.ADMIN)
    staff = make.user(org, role=Role.STAFF, sites=[north])
    cafe = make.activity(north, "language_cafe", "Språkcafé")
    parents = make.activity(north, "parenting_group", "Föräldragrupp")
    sfi = make.activity(south, "sfi", "SFI")
    s1 = make.activity_session(cafe, on=date(2026, 3, 3))
    attend(s1, ("ar", "so"), women=6, men=1, children_1_3=3, new_people=2)
    make.visit(
        north,
        on=date(2026, 3, 3),
        women=1,
        children_0_1=1,
        is_new=True,
        session_id=s1.id,
        languages=("prs",),
    )
    attend(make.activity_session(cafe, on=date(2026, 3, 10)), ("ar",), women=4)
    make.activity_session(
        cafe,
        on=date(2026, 3, 17),
        status=SessionStatus.CANCELLED,
        change_reason=SessionChange.STAFF_ILLNESS,
    )
    p1 = make.activity_session(parents, on=date(2026, 3, 12), start=time(13), end=time(15))
    attend(p1, ("ar",), women=3, men=2, conversations=6)
    attend(
        make.activity_session(sfi, on=date(2026, 3, 5)),
        ("ti", "ar"),
        women=10,
        new_people=1,
        conversations=2,
    )
    make.activity_session(
        sfi, on=date(2026, 3, 19), status=SessionStatus.CANCELLED, change_reason="holiday"
    )
    make.activity_session(sfi, on=date(2026, 3, 26))
    attend(make.activity_session(cafe, on=date(2026, 4, 7)), ("ar",), women=9)  # April

    inform(north, date(2026, 3, 4), "sfi_school", 6)
    inform(north, date(2026, 3, 11), "child_health", 3)
    inform(south, date(2026, 3, 24), "library", 4)
    inform(north, date(2026, 4, 2), "library", 20)  # April
    for day in (date(2026, 3, 5), date(2026, 3, 12)):
        for _ in range(3):
            make.visit(north, on=day, is_new=True, after_outreach=True)
    make.visit(north, on=date(2026, 3, 12), is_new=False, after_outreach=True)
    for place, n in (("library", 6), ("housing_area", 5), ("home_visit", 2)):
        for _ in range(n):
            make.visit(south, on=date(2026, 3, 20), outreach_place=place)

    other = make.org(name="Kommun B")
    elsewhere = make.site(other, name="Annan förskola")
    theirs = make.activity(elsewhere, "sfi", "Deras SFI")
    attend(make.activity_session(theirs, on=date(2026, 3, 3)), ("ar",), women=30)
    inform(elsewhere, date(2026, 3, 4), "library", 40)
    db.session.commit()
    return {"org": org, "north": north, "south": south, "admin": admin, "staff": staff}


def build(app, world, site_id=None, bucket=periods.Bucket.WEEK):
    org = world["org"]
    sites = queries.organisation_sites(org.id)
    f = queries.Filters(
        org.id,
        (site_id,) if site_id else tuple(i for i, _n in sites),
        periods.preset(periods.PeriodKind.MONTH, date(2026, 3, 10)),
        site_id=site_id,
    )
    with app.test_request_context("/stats/"):
        return report.build(f, bucket, 5, [], "sv", org.stats_version, sites=sites)


def texts(section):
    return {label: value.text for label, value in section.figures}


def grid_texts(grid):
    rows = [[row.label, *(c.text for c in row.cells)] for row in grid.rows]
    totals = None if grid.totals is None else [c.text if c else None for c in grid.totals]
    return rows, totals


def grid(section, key):
    return next(g for g in section.grids if g.key == key)


def test_programme_figures_on_the_hand_made_set(app, world):
    """Headline figures; attendance by kind, site, week and language, each column protected on
    its own; cancellations by reason; a small group stored exactly but hidden."""
    rep = build(app, world)
    programme = rep.section("programme")
    assert texts(programme) == {
        "Tillfällen som hölls": "5",
        "Inställda tillfällen": "2",
        "Vuxna vid tillfällena": "27",  # 7 + the counted visit's 1, 4, 5, 10
        "Barn vid tillfällena": "<5",  # 3 + the counted visit's 1
        "Nya besökare vid tillfällena": "<5",  # 2 + the new visit's woman, 1
        "Enskilda samtal": "8",
        "Andel hållna tillfällen med minst en ny besökare": "40\xa0%",  # 2 of 5
    }
    assert grid(programme, "sessions_by_kind").headers == [
        "Hölls",
        "Inställda",
        "Vuxna",
        "Barn",
        "Nya besökare",
        "Enskilda samtal",
    ]
    # Kinds in the list's order. Conversations 2 (hidden) beside 6 and a total of 8: the 6 is
    # hidden too, else 8 - 6 gives the 2 away. Session counts are never hidden.
    assert grid_texts(grid(programme, "sessions_by_kind")) == (
        [
            ["SFI på öppna förskolan", "2", "1", "10", "0", "<5", "<5"],
            ["Språkcafé", "2", "1", "12", "<5", "<5", "0"],
            ["Föräldragrupp", "1", "0", "5", "0", "0", "×"],
        ],
        ["5", "2", "27", "<5", "<5", "8"],
    )
    assert grid_texts(grid(programme, "sessions_by_site")) == (
        [["Norr", "3", "1", "17", "<5", "<5", "×"], ["Söder", "2", "1", "10", "0", "<5", "<5"]],
        ["5", "2", "27", "<5", "<5", "8"],
    )
    rows, totals = grid_texts(grid(programme, "sessions_by_time"))
    assert rows == [
        ["Vecka 9, 2026", "0", "0", "0", "0", "0", "0"],
        ["Vecka 10, 2026", "2", "0", "18", "<5", "<5", "<5"],
        ["Vecka 11, 2026", "2", "0", "9", "0", "0", "×"],
        ["Vecka 12, 2026", "0", "2", "0", "0", "0", "0"],
        ["Vecka 13, 2026", "1", "0", "0", "0", "0", "0"],
        ["Vecka 14, 2026", "0", "0", "0", "0", "0", "0"],
    ]
    assert totals == ["5", "2", "27", "<5", "<5", "8"]
    cancellations = rep.table("cancellations")
    assert [(r.label, r.cell.text) for r in cancellations.rows][:2] == [
        ("Personalen är sjuk", "1"),
        ("Helgdag eller lov", "1"),
    ]
    assert cancellations.total.text == "2"
    rows, totals = grid_texts(grid(programme, "sessions_by_language"))
    # Held sessions where each was spoken, at the session or by a visit counted to it: no total.
    assert rows == [
        ["Arabiska", "4", "27", "<5", "<5", "8"],
        ["Dari", "1", "8", "<5", "<5", "0"],
        ["Somaliska", "1", "8", "<5", "<5", "0"],
        ["Tigrinja", "1", "10", "0", "<5", "<5"],
    ]
    assert totals is None
    stored = db.session.scalar(
        select(SessionAttendance.new_people)
        .join(SessionAttendance.session)
        .where(SessionAttendance.conversations == 2)
    )
    assert stored == 1  # the SFI session's one new person, exactly: "<5" in its kind's row


def test_outreach_and_one_site_on_the_hand_made_set(app, world):
    """Informed → visited per week and per month (monthly summaries), by place; one site."""
    outreach = build(app, world).section("outreach")
    assert texts(outreach) == {
        "Informerade personer": "13",
        "Nya grupper som kom efter att vi informerat": "6",  # not the returning one
        "Besök på andra platser": "13",
    }
    assert grid_texts(grid(outreach, "outreach_by_time")) == (
        [
            ["Vecka 9, 2026", "0", "0"],
            ["Vecka 10, 2026", "6", "<5"],
            ["Vecka 11, 2026", "<5", "<5"],
            ["Vecka 12, 2026", "0", "0"],
            ["Vecka 13, 2026", "<5", "0"],
            ["Vecka 14, 2026", "0", "0"],
        ],
        ["13", "6"],
    )
    # Home visits 2 beside a housing area 5 and a total of 13: the 5 is hidden too.
    assert grid_texts(grid(outreach, "outreach_by_place")) == (
        [
            ["SFI-skolan", "6", "0"],
            ["Barnavårdscentralen (BVC)", "<5", "0"],
            ["Biblioteket", "<5", "6"],
            ["Trossamfund", "0", "0"],
            ["Bostadsområdet", "0", "×"],
            ["Hembesök", "0", "<5"],
            ["Annan plats", "0", "0"],
        ],
        ["13", "13"],
    )
    outreach = build(app, world, bucket=periods.Bucket.MONTH).section("outreach")
    assert grid_texts(grid(outreach, "outreach_by_time")) == (
        [["mars 2026", "13", "6"]],
        ["13", "6"],
    )
    programme = build(app, world, site_id=world["south"].id).section("programme")
    assert texts(programme)["Tillfällen som hölls"] == "2"
    assert texts(programme)["Vuxna vid tillfällena"] == "10"
    # One held session of two: a share over fewer than five sessions is not shown.
    assert texts(programme)["Andel hållna tillfällen med minst en ny besökare"] == "×"
    outreach = build(app, world, site_id=world["south"].id).section("outreach")
    assert texts(outreach)["Informerade personer"] == "<5"


def test_summaries_count_outreach_and_rebuild_agrees(app, world):
    def outreach_columns():
        rows = db.session.execute(
            select(
                VisitMonthSummary.site_id,
                VisitMonthSummary.month,
                VisitMonthSummary.after_outreach_groups,
                VisitMonthSummary.outreach_library,
                VisitMonthSummary.outreach_home_visit,
            ).order_by(VisitMonthSummary.site_id, VisitMonthSummary.month)
        ).all()
        days = db.session.scalar(
            select(VisitDaySummary.after_outreach_groups.label("n")).where(
                VisitDaySummary.site_id == world["north"].id,
                VisitDaySummary.visit_date == date(2026, 3, 12),
            )
        )
        return [tuple(r) for r in rows], days

    written = outreach_columns()
    assert written[1] == 3
    assert (world["south"].id, date(2026, 3, 1), 0, 6, 2) in written[0]
    summary.rebuild(db.session)
    db.session.commit()
    assert outreach_columns() == written


# -- the dashboard and the exports -------------------------------------------------------------


def test_dashboard_shows_the_programme_and_outreach(client, login, world):
    login(world["admin"])
    html = client.get("/stats/", query_string=MARCH).get_data(as_text=True)
    assert '<h2 id="stats-programme-heading">Programmet</h2>' in html
    assert '<h2 id="stats-outreach-heading">Uppsökande arbete</h2>' in html
    assert (
        '<tr><th scope="row">Föräldragrupp</th><td class="num">1</td><td class="num">0</td>'
        '<td class="num">5</td><td class="num">0</td><td class="num">0</td>'
        '<td class="num">×</td></tr>'
    ) in html
    assert '<title id="chart-cancellations-title">Inställda tillfällen per orsak</title>' in html
    assert "Deras SFI" not in html and "Annan förskola" not in html


def csv_lines(client, **data):
    response = client.post("/stats/export.csv", data=dict(MARCH, **data))
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))


def test_csv_has_the_programme_and_outreach_tables_as_on_the_page(client, login, world):
    login(world["admin"])
    lines = csv_lines(client)
    start = lines.index(["Inställda tillfällen per orsak"])
    assert lines[start : start + 10] == [
        ["Inställda tillfällen per orsak"],
        ["Orsak", "Antal tillfällen"],
        ["Personalen är sjuk", "1"],
        ["Helgdag eller lov", "1"],
        ["Lokalen går inte att använda", "0"],
        ["Samarbetspartnern kan inte komma", "0"],
        ["Vädret", "0"],
        ["Annat skäl", "0"],
        ["Totalt", "2"],
        [],
    ]
    start = lines.index(["Programmet", "Värde"])
    assert lines[start + 1 : start + 8] == [
        ["Tillfällen som hölls", "5"],
        ["Inställda tillfällen", "2"],
        ["Vuxna vid tillfällena", "27"],
        ["Barn vid tillfällena", "<5"],
        ["Nya besökare vid tillfällena", "<5"],
        ["Enskilda samtal", "8"],
        ["Andel hållna tillfällen med minst en ny besökare", "40\xa0%"],
    ]
    start = lines.index(["Tillfällen och deltagare per typ av aktivitet"])
    assert lines[start + 1 : start + 6] == [
        [
            "Typ av aktivitet",
            "Hölls",
            "Inställda",
            "Vuxna",
            "Barn",
            "Nya besökare",
            "Enskilda samtal",
        ],
        ["SFI på öppna förskolan", "2", "1", "10", "0", "<5", "<5"],
        ["Språkcafé", "2", "1", "12", "<5", "<5", "0"],
        ["Föräldragrupp", "1", "0", "5", "0", "0", "×"],
        ["Totalt", "5", "2", "27", "<5", "<5", "8"],
    ]
    start = lines.index(["Tillfällen och deltagare per språk"])
    assert lines[start + 1] == [
        "Språk",
        "Tillfällen som hölls",
        "Vuxna",
        "Barn",
        "Nya besökare",
        "Enskilda samtal",
    ]
    assert lines[start + 6] == ["Ett tillfälle räknas under varje språk som talades där."]
    start = lines.index(["Uppsökande arbete", "Värde"])
    assert lines[start + 1 : start + 4] == [
        ["Informerade personer", "13"],
        ["Nya grupper som kom efter att vi informerat", "6"],
        ["Besök på andra platser", "13"],
    ]
    start = lines.index(["Uppsökande arbete per plats"])
    assert lines[start + 1 : start + 3] == [
        ["Plats", "Informerade personer", "Besöksgrupper där"],
        ["SFI-skolan", "6", "0"],
    ]
    assert lines[start + 9] == ["Totalt", "13", "13"]


def test_xlsx_has_the_same_lines_with_shown_counts_as_numbers(client, login, world):
    login(world["admin"])
    lines = csv_lines(client)
    response = client.post("/stats/export.xlsx", data=MARCH)
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    start = next(i for i, row in enumerate(rows) if row[0] == "Tillfällen och deltagare per plats")
    assert [c for c in rows[start + 1] if c is not None] == lines[start + 1]
    assert rows[start + 2][:7] == ["Norr", 3, 1, 17, "<5", "<5", "×"]
    assert sheet.cell(row=start + 2, column=1).font.bold  # the column headers
    share = next(
        row for row in rows if row[0] == "Andel hållna tillfällen med minst en ny besökare"
    )
    assert share[1] == pytest.approx(0.4)


def dashboard_statements(client, period=MARCH) -> list[str]:
    seen = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get("/stats/", query_string=period).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    # The signed-in user and her organisation are read again after a commit: not the figures.
    return [
        s
        for s in seen
        if not s.startswith("BEGIN") and not re.search(r"FROM \"?(user|organisation)\"?\s", s)
    ]


def test_dashboard_statements_do_not_grow_with_the_sessions(client, login, world, make):
    login(world["admin"])
    dashboard_statements(client)  # the referral figures are cached from then on
    before = dashboard_statements(client)
    cafe = make.activity(world["north"], "open_session", "Öppet")
    for day in range(1, 29):
        session = make.activity_session(cafe, on=date(2026, 3, day), start=time(8), end=time(9))
        attend(session, ("ar", "so"), women=2, children_1_3=1)
        make.visit(world["north"], on=session.on_date, session_id=session.id, is_new=True)
        inform(world["south"], session.on_date, "library", 2)
    db.session.commit()
    after = dashboard_statements(client)
    assert len(after) == len(before)
    programme = [s for s in after if "activity_session" in s or "information_contact" in s]
    assert len(programme) == 2  # sessions with their languages, the people informed
    # Nothing reads sessions or contacts one by one: each statement aggregates.
    assert all("count(" in s.lower() or "sum(" in s.lower() for s in programme)


def test_the_year_dashboard_with_the_programme_runs_a_fixed_few_statements(
    client, login, world, make
):
    """The year's dashboard (the bench's dashboard_year, target at most 10 statements): every
    statement it runs, the signed-in user's included, is counted, on the first view (the
    referral figures computed) and once they are cached, with sessions, counted visits,
    languages and outreach in many months of the year."""
    year = {"period": "year", "on": "2026-03-10"}
    cafe = make.activity(world["north"], "open_session", "Öppet")
    for month in range(1, 13):
        for day in (3, 17):
            on = date(2026, month, day)
            session = make.activity_session(cafe, on=on, start=time(8), end=time(9))
            attend(session, ("ar", "so"), women=2, children_1_3=1)
            make.visit(world["north"], on=on, session_id=session.id, is_new=True)
            inform(world["south"], on, "library", 2)
    db.session.commit()
    login(world["admin"])

    def every_statement() -> list[str]:
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get("/stats/", query_string=year).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return [s for s in seen if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT"))]

    first = every_statement()
    cached = every_statement()
    # 7 once the referral figures are cached (the bench counts 8 with its sign-in's reload),
    # 2 more to compute them (the counts by service, the interest and the trend in one; the
    # medians in the other; it was 4): none grows with the sessions, visits or months.
    assert len(cached) <= 7, cached
    assert len(first) <= len(cached) + 2, first
    programme = [s for s in cached if "activity_session" in s or "information_contact" in s]
    assert len(programme) == 2


def test_a_future_session_is_neither_held_nor_cancelled(app, make):
    org = make.org(name="Kommun C")
    site = make.site(org, name="Mitt")
    activity = make.activity(site)
    make.activity_session(activity, on=local_today() + timedelta(days=1))
    make.activity_session(activity, on=local_today())
    db.session.commit()
    f = queries.Filters(org.id, (site.id,), periods.preset(periods.PeriodKind.YEAR, local_today()))
    with app.test_request_context("/stats/"):
        rep = report.build(f, periods.Bucket.MONTH, 5, [], "sv", 0)
    figures = texts(rep.section("programme"))
    assert figures["Tillfällen som hölls"] == "1" and figures["Inställda tillfällen"] == "0"


# -- the visit form's outreach fields ----------------------------------------------------------


@pytest.fixture
def recorder(make, login):
    org = make.org()
    site = make.site(org)
    staff = make.user(org, role=Role.STAFF, sites=[site])
    login(staff)
    return site


def post_visit(client, site, **fields):
    return client.post(f"/sites/{site.id}/visits", data=visit_form(**fields))


def test_a_visit_at_an_outreach_place_after_outreach_is_stored_and_summed(client, recorder):
    response = post_visit(client, recorder, outreach_place="home_visit", after_outreach="1")
    assert response.status_code in (200, 303), response.data[:300]
    visit = db.session.scalar(select(Visit))
    assert (visit.outreach_place, visit.after_outreach, visit.is_new) == ("home_visit", True, True)
    day = db.session.get(VisitDaySummary, (recorder.id, visit.visit_date))
    assert (day.after_outreach_groups, day.outreach_home_visit, day.outreach_library) == (1, 1, 0)


def test_the_open_preschool_is_the_default_place(client, recorder):
    post_visit(client, recorder)
    visit = db.session.scalar(select(Visit))
    assert visit.outreach_place is None and visit.after_outreach is False


@pytest.mark.parametrize(
    "fields,field,message",
    [
        ({"outreach_place": "moon"}, "outreach_place", "Välj ett av alternativen."),
        ({"after_outreach": "yes"}, "after_outreach", "Välj ett av alternativen."),
        (
            {"after_outreach": "1", "is_new": "returning"},
            "after_outreach",
            "Bara en ny grupp kan ha kommit efter att vi informerat. Välj Ny besökare.",
        ),
    ],
)
def test_a_tampered_or_contradictory_outreach_field_is_refused(
    client, recorder, fields, field, message
):
    response = post_visit(client, recorder, **fields)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html and f'id="{field}-error"' in html
    assert db.session.scalar(select(Visit)) is None


def test_the_refusal_is_translated(client, recorder):
    client.post("/locale", data={"locale": "en", "next": "/"})
    html = post_visit(client, recorder, outreach_place="moon").get_data(as_text=True)
    assert "Välj ett av alternativen." not in html


def test_the_edit_form_shows_the_stored_place_and_keeps_it(client, recorder):
    post_visit(client, recorder, outreach_place="library", after_outreach="1")
    visit = db.session.scalar(select(Visit))
    html = client.get(f"/sites/{recorder.id}/visits/{visit.id}/edit").get_data(as_text=True)
    assert '<details class="outreach-where" open>' in html
    assert 'name="outreach_place" value="library" checked' in html
    assert 'name="after_outreach" value="1" id="after_outreach" checked' in html


def test_codes_of_the_same_value_keep_their_own_labels(app):
    """ "other" is a kind, a reason and a place; "morning" a part of the day and a best time."""
    from app.choices import ActivityKind, BestTime, OutreachPlace, PartOfDay

    with app.test_request_context("/"):
        others = {ActivityKind.OTHER.label, SessionChange.OTHER.label, OutreachPlace.OTHER.label}
        assert others == {"Annan aktivitet", "Annat skäl", "Annan plats"}
        assert (PartOfDay.MORNING.label, BestTime.MORNING.label) == (
            "Förmiddag",
            "Förmiddag (9–12)",
        )


def test_migration_0009_fills_the_outreach_counts_of_existing_summaries(app, make):
    from pathlib import Path

    from flask_migrate import downgrade, upgrade

    site = make.site()
    make.visit(
        site, on=date(2026, 3, 3), is_new=True, after_outreach=True, outreach_place="library"
    )
    make.visit(site, on=date(2026, 3, 3), is_new=True, after_outreach=True)
    make.visit(site, on=date(2026, 3, 9), outreach_place="home_visit")
    db.session.commit()

    def counts():
        return [
            db.session.execute(
                select(
                    model.after_outreach_groups,
                    model.outreach_library,
                    model.outreach_home_visit,
                ).order_by(*model.__table__.primary_key.columns)
            ).all()
            for model in (VisitDaySummary, VisitMonthSummary)
        ]

    kept = counts()
    assert kept == [[(2, 1, 0), (0, 0, 1)], [(2, 1, 1)]]
    db.session.remove()
    migrations = str(Path(__file__).resolve().parent.parent / "migrations")
    try:
        downgrade(directory=migrations, revision="0008")  # drops the outreach columns
    finally:
        upgrade(directory=migrations)  # adds them and fills them from the visits
    assert counts() == kept
