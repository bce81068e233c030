"""The project report (issue 20, /stats/projects/<id>): every indicator on a small hand-made set
with exact expected figures by month, site, gender and service, small counts hidden as on the
dashboard (a suppressed cell, a secondarily hidden one, a hidden share), every actual
recomputed from the rows with plain ORM reads, the XLSX matching the page, the access rules,
and the statements the report sends."""

import io
import re
import shutil
from collections import Counter
from datetime import date, datetime
from html.parser import HTMLParser

import pytest
from flask_babel import format_percent
from openpyxl import load_workbook
from sqlalchemy import event, select

from app.choices import (
    FollowUpResult,
    FollowUpStatus,
    Funder,
    Gender,
    Indicator,
    Outcome,
    ReferralStatus,
    Role,
    SessionStatus,
)
from app.extensions import db
from app.models import (
    ActivitySession,
    AuditEvent,
    FollowUp,
    Project,
    ProjectTarget,
    Referral,
    SessionAttendance,
    Visit,
)
from app.stats import project_report
from app.stats.exports import HEADER_ROW, TITLE_ROW

START, END = date(2025, 1, 15), date(2025, 4, 30)
TODAY = date(2025, 4, 20)  # the session on 28 April has not been held yet
MONTHS = [date(2025, m, 1) for m in (1, 2, 3, 4)]
I = Indicator  # noqa: E741
TEXTS: dict[int, dict] = {}  # a consent text per organisation, per test's factory


# -- the hand-made set -------------------------------------------------------------------------


def attend(session, **counts) -> SessionAttendance:
    row = SessionAttendance(session_id=session.id, **counts)
    db.session.add(row)
    db.session.commit()
    return row


def refer(make, site, service, by, created: datetime, gender=None, outcome=None, results=()):
    """A referral created at `created` with the visitor's gender; closed with `outcome` if
    given, and a done follow-up per result (3, 6, 12 months)."""
    texts = TEXTS.setdefault(id(make), {})
    if site.organisation_id not in texts:
        texts[site.organisation_id] = make.consent_text(site.organisation)
    consent = make.referral_consent(site, [service], by, consent_text=texts[site.organisation_id])
    referral = consent.referrals[0]
    referral.created_at = created
    referral.gender = gender
    if outcome is not None:
        referral.status = ReferralStatus.CLOSED
        referral.outcome = outcome
        referral.closed_at = created
    for months, result in zip((3, 6, 12), results, strict=False):
        db.session.add(
            FollowUp(
                organisation_id=site.organisation_id,
                referral_id=referral.id,
                service_id=service.id,
                site_id=site.id,
                months=months,
                due_date=date(2025, 12, 1),
                status=FollowUpStatus.DONE,
                result=result,
                recorded_at=datetime(2025, 12, 1, 10),
            )
        )
    db.session.commit()
    return referral


def make_project(org, sites, services, activities, targets, **kw) -> Project:
    project = Project(
        organisation_id=org.id,
        name=kw.get("name", "Vägen till arbete"),
        funder=kw.get("funder", Funder.LANSSTYRELSEN_37A),
        starts_on=kw.get("starts_on", START),
        ends_on=kw.get("ends_on", END),
        sites=list(sites),
        services=list(services),
        activities=list(activities),
        targets=[
            ProjectTarget(indicator=ind, gender=gender, service_id=sid, target=target)
            for ind, gender, sid, target in targets
        ],
    )
    db.session.add(project)
    db.session.commit()
    return project


@pytest.fixture
def world(make):
    """Kommun A (threshold 5): Norr and Söder in the project, Väster outside it; SFI and AF
    are the project's services, SO is not; Kommun B has a site, a service and rows of its own.
    The period is 15 January to 30 April 2025 (half a January from the daily summaries).

    Visits (new groups count their women as reached):
      Norr: 10 Jan 3 women new (before); 20 Jan 2 women 1 man new; 3 Feb 4 women new (counted
        to the café's session); 10 Feb 1 woman returning; 11 Feb 3 women new; 30 Apr 2 women
        new; 1 May 5 women new (after). Söder: 5 Mar 3 women 1 man new; 6 Mar 2 women new;
        7 Mar 1 woman returning. Väster: 5 Feb 6 women new. Kommun B: 5 Feb 7 women new.
    Sessions (the project names the café at Norr and the group at Söder):
      café: 20 Dec 2024 (before); 22 Jan 3 women 1 man 2 conversations; 3 Feb 2 women 1 other
        1 conversation + the visit of 4 women; 12 Mar cancelled; 2 Apr 1 woman 2 men;
        28 Apr (after TODAY). group: 10 Mar 4 women 3 conversations; 17 Mar nothing recorded.
      Norr's other activity, not named: 20 Feb 9 women.
    Referrals (site, service, day, gender, started?, follow-up results):
      R1 Norr SFI 20 Jan woman started [in studies]; R2 Norr SFI 25 Jan woman started
      [still active, in work]; R3 Norr SFI 5 Feb woman started [in a work placement];
      R4 Norr SFI 6 Feb woman open; R5 Norr SFI 7 Feb man started [in work]; R6 Norr AF
      10 Feb woman started [placement, in work]; R7 Söder SFI 3 Mar woman started;
      R8 Söder SFI 4 Mar (not answered) started; R9 Söder AF 5 Mar man declined;
      R10 Söder AF 1 Apr other started [in studies]; R11 Söder SFI 15 Apr woman started;
      R12 Norr SFI 16 Apr woman started.
      Not counted: Norr SO 1 Feb; Väster SFI 1 Feb; Norr SFI 1 May; Norr SFI 14 Jan 23:00;
      Kommun B's.
    """
    org = make.org(name="Kommun A", suppression_threshold=5)
    north = make.site(org, name="Norr")
    south = make.site(org, name="Söder")
    west = make.site(org, name="Väster")
    sfi = make.service(org, slug="sfi")
    af = make.service(org, slug="af")
    so = make.service(org, slug="so")
    admin = make.user(org, role=Role.ADMIN)
    coordinator = make.user(org, role=Role.COORDINATOR)
    staff = make.user(org, role=Role.STAFF, sites=[north, south, west])

    for site, on, counts in [
        (north, date(2025, 1, 10), {"women": 3, "is_new": True}),
        (north, date(2025, 1, 20), {"women": 2, "men": 1, "is_new": True}),
        (north, date(2025, 2, 10), {"women": 1, "is_new": False}),
        (north, date(2025, 2, 11), {"women": 3, "is_new": True}),
        (north, date(2025, 4, 30), {"women": 2, "is_new": True}),
        (north, date(2025, 5, 1), {"women": 5, "is_new": True}),
        (south, date(2025, 3, 5), {"women": 3, "men": 1, "is_new": True}),
        (south, date(2025, 3, 6), {"women": 2, "is_new": True}),
        (south, date(2025, 3, 7), {"women": 1, "is_new": False}),
        (west, date(2025, 2, 5), {"women": 6, "is_new": True}),
    ]:
        make.visit(site, on=on, **counts)

    cafe = make.activity(north, "language_cafe", "Språkcafé")
    group = make.activity(south, "parenting_group", "Föräldragrupp")
    other = make.activity(north, "open_session", "Öppet")
    attend(make.activity_session(cafe, on=date(2024, 12, 20)), women=5)
    attend(make.activity_session(cafe, on=date(2025, 1, 22)), women=3, men=1, conversations=2)
    s_feb = make.activity_session(cafe, on=date(2025, 2, 3))
    attend(s_feb, women=2, other_adults=1, conversations=1)
    make.visit(north, on=date(2025, 2, 3), women=4, is_new=True, session_id=s_feb.id)
    make.activity_session(cafe, on=date(2025, 3, 12), status=SessionStatus.CANCELLED)
    attend(make.activity_session(cafe, on=date(2025, 4, 2)), women=1, men=2)
    make.activity_session(cafe, on=date(2025, 4, 28))
    attend(make.activity_session(group, on=date(2025, 3, 10)), women=4, conversations=3)
    make.activity_session(group, on=date(2025, 3, 17))
    attend(make.activity_session(other, on=date(2025, 2, 20)), women=9)

    W, M, O = Gender.WOMAN, Gender.MAN, Gender.OTHER  # noqa: N806, E741
    S = Outcome.STARTED  # noqa: N806
    R = FollowUpResult  # noqa: N806
    day = lambda m, d, h=10: datetime(2025, m, d, h)  # noqa: E731
    for site, service, created, gender, outcome, results in [
        (north, sfi, day(1, 20), W, S, [R.IN_STUDIES]),
        (north, sfi, day(1, 25), W, S, [R.STILL_ACTIVE, R.IN_WORK]),
        (north, sfi, day(2, 5), W, S, [R.IN_WORK_PLACEMENT]),
        (north, sfi, day(2, 6), W, None, []),
        (north, sfi, day(2, 7), M, S, [R.IN_WORK]),
        (north, af, day(2, 10), W, S, [R.IN_WORK_PLACEMENT, R.IN_WORK]),
        (south, sfi, day(3, 3), W, S, []),
        (south, sfi, day(3, 4), None, S, []),
        (south, af, day(3, 5), M, Outcome.DECLINED, []),
        (south, af, day(4, 1), O, S, [R.IN_STUDIES]),
        (south, sfi, day(4, 15), W, S, []),
        (north, sfi, day(4, 16), W, S, []),
        # not the project's
        (north, so, day(2, 1), W, S, [R.IN_WORK]),
        (west, sfi, day(2, 1), W, S, [R.IN_WORK]),
        (north, sfi, day(5, 1), W, S, [R.IN_WORK]),
        (north, sfi, day(1, 14, 23), W, S, [R.IN_WORK]),
    ]:
        refer(make, site, service, staff, created, gender, outcome, results)

    b = make.org(name="Kommun B")
    b_site = make.site(b, name="B-plats")
    b_service = make.service(b, slug="b-sfi")
    b_staff = make.user(b, role=Role.STAFF, sites=[b_site])
    make.visit(b_site, on=date(2025, 2, 5), women=7, is_new=True)
    refer(make, b_site, b_service, b_staff, day(2, 1), W, S, [R.IN_WORK])
    b_coordinator = make.user(b, role=Role.COORDINATOR)

    targets = [
        (I.WOMEN_REACHED, None, None, 40),
        (I.VISITS, None, None, 20),
        (I.SESSIONS_HELD, None, None, 10),
        (I.PARTICIPANTS, None, None, 30),
        (I.PARTICIPANTS, W, None, 20),
        (I.REFERRALS, None, sfi.id, 15),
        (I.STARTED, None, None, 20),
        (I.STARTED, W, sfi.id, 8),
        (I.WORK_OR_STUDIES, None, None, 10),
        (I.WORK_PLACEMENTS, W, None, 5),
        (I.CONVERSATIONS, None, None, 10),
    ]
    project = make_project(org, [north, south], [sfi, af], [cafe, group], targets)
    return {
        "org": org,
        "north": north,
        "south": south,
        "west": west,
        "sfi": sfi,
        "af": af,
        "admin": admin,
        "coordinator": coordinator,
        "staff": staff,
        "project": project,
        "b_coordinator": b_coordinator,
        "b_org": b,
    }


def build(app, project, today=TODAY, locale="sv"):
    with app.test_request_context():
        report = project_report.build(project, 5, locale, today)
        texts = {
            "targets": [
                (t.indicator_label, t.gender_label, t.service_label, t.target, t.actual.text)
                for t in report.targets
            ],
            "shares": [t.share.text for t in report.targets],
            "sentences": [t.sentence for t in report.targets],
            "percent": {n: format_percent(n / 100) for n in (40, 50, 60, 70, 75)},
        }
    return report, texts


def column_texts(grid) -> list[list[str]]:
    return [[c.text if c is not None else "–" for c in row.cells] for row in grid.rows]


# -- exact figures -----------------------------------------------------------------------------


def test_every_indicator_by_month_site_gender_and_service_on_the_hand_made_set(app, world):
    report, _texts = build(app, world["project"])
    raw = report.raw
    assert dict(raw.total) == {
        I.WOMEN_REACHED: 16,
        I.VISITS: 8,
        I.SESSIONS_HELD: 5,
        I.PARTICIPANTS: 18,
        I.CONVERSATIONS: 6,
        I.REFERRALS: 12,
        I.STARTED: 10,
        I.WORK_OR_STUDIES: 5,
        I.WORK_PLACEMENTS: 2,
    }
    by_month = {ind: [raw.month[ind][m] for m in MONTHS] for ind in Indicator}
    assert by_month == {
        I.WOMEN_REACHED: [2, 7, 5, 2],
        I.VISITS: [1, 3, 3, 1],
        I.SESSIONS_HELD: [1, 1, 2, 1],
        I.PARTICIPANTS: [4, 7, 4, 3],
        I.REFERRALS: [2, 4, 3, 3],
        I.STARTED: [2, 3, 2, 3],
        I.WORK_OR_STUDIES: [2, 2, 0, 1],
        I.WORK_PLACEMENTS: [0, 2, 0, 0],
        I.CONVERSATIONS: [2, 1, 3, 0],
    }
    north, south = world["north"].id, world["south"].id
    by_site = {ind: [raw.site[ind][s] for s in (north, south)] for ind in Indicator}
    assert by_site == {
        I.WOMEN_REACHED: [11, 5],
        I.VISITS: [5, 3],
        I.SESSIONS_HELD: [3, 2],
        I.PARTICIPANTS: [14, 4],
        I.REFERRALS: [7, 5],
        I.STARTED: [6, 4],
        I.WORK_OR_STUDIES: [4, 1],
        I.WORK_PLACEMENTS: [2, 0],
        I.CONVERSATIONS: [3, 3],
    }
    genders = (Gender.WOMAN, Gender.MAN, Gender.OTHER, None)
    by_gender = {ind: [raw.gender[ind][g] for g in genders] for ind in project_report.GENDERED}
    assert by_gender == {
        I.PARTICIPANTS: [14, 3, 1, 0],
        I.REFERRALS: [8, 2, 1, 1],
        I.STARTED: [7, 1, 1, 1],
        I.WORK_OR_STUDIES: [3, 1, 1, 0],
        I.WORK_PLACEMENTS: [2, 0, 0, 0],
    }
    sfi, af = world["sfi"].id, world["af"].id
    assert [raw.service[I.REFERRALS][s] for s in (sfi, af)] == [9, 3]
    assert [raw.service[I.STARTED][s] for s in (sfi, af)] == [8, 2]
    assert raw.service_gender[I.STARTED][(sfi, Gender.WOMAN)] == 6


def test_small_counts_are_hidden_as_on_the_dashboard(app, world):
    report, _texts = build(app, world["project"])
    month = report.grid("project_month")
    assert [row.label for row in month.rows] == [
        "januari 2025",
        "februari 2025",
        "mars 2025",
        "april 2025",
    ]
    # Columns in Indicator order: women reached, visits, sessions, participants, referrals,
    # started, work or studies, placements, conversations. Sessions are not people: exact.
    assert column_texts(month) == [
        ["<5", "<5", "1", "<5", "<5", "<5", "<5", "0", "<5"],
        ["7", "<5", "1", "7", "<5", "<5", "<5", "<5", "<5"],
        ["5", "<5", "2", "<5", "<5", "<5", "0", "0", "<5"],
        ["<5", "<5", "1", "<5", "<5", "<5", "<5", "0", "0"],
    ]
    assert [c.text for c in month.totals] == ["16", "8", "5", "18", "12", "10", "5", "<5", "6"]
    site = report.grid("project_site")
    assert [row.label for row in site.rows] == ["Norr", "Söder"]
    # Norr's visits (5), participants (14) and started (6) are hidden (×): with the total
    # shown, Söder's small count could otherwise be worked out.
    assert column_texts(site) == [
        ["11", "×", "3", "×", "7", "×", "<5", "<5", "<5"],
        ["5", "<5", "2", "<5", "5", "<5", "<5", "0", "<5"],
    ]
    gender = report.grid("project_gender")
    assert [row.label for row in gender.rows] == ["Kvinna", "Man", "Annat kön", "Ej besvarat"]
    assert column_texts(gender) == [
        ["14", "8", "×", "<5", "<5"],
        ["<5", "<5", "<5", "<5", "0"],
        ["<5", "<5", "<5", "<5", "0"],
        ["–", "<5", "<5", "0", "0"],
    ]
    assert [c.text for c in gender.totals] == ["18", "12", "10", "5", "<5"]
    service = report.grid("project_service")
    assert [row.label for row in service.rows] == ["AF", "SFI"]
    assert column_texts(service) == [["<5", "<5"], ["×", "×"]]


def test_actual_against_target_with_a_share_hidden_when_its_count_is(app, world):
    report, texts = build(app, world["project"])
    pct = texts["percent"]
    assert texts["targets"] == [
        ("Nya kvinnor som besökt", "Alla", "Alla tjänster", 40, "16"),
        ("Besök (grupper)", "Alla", "Alla tjänster", 20, "8"),
        ("Genomförda aktivitetstillfällen", "Alla", "Alla tjänster", 10, "5"),
        ("Deltagare på aktiviteter (vuxna, per tillfälle)", "Alla", "Alla tjänster", 30, "18"),
        ("Deltagare på aktiviteter (vuxna, per tillfälle)", "Kvinna", "Alla tjänster", 20, "14"),
        ("Hänvisningar", "Alla", "SFI", 15, "×"),
        ("Hänvisningar som ledde till start", "Alla", "Alla tjänster", 20, "10"),
        ("Hänvisningar som ledde till start", "Kvinna", "SFI", 8, "6"),
        ("I arbete eller studier efter insatsen", "Alla", "Alla tjänster", 10, "5"),
        ("I praktik efter insatsen", "Kvinna", "Alla tjänster", 5, "<5"),
        ("Enskilda samtal", "Alla", "Alla tjänster", 10, "6"),
    ]
    assert texts["shares"] == [
        pct[40],
        pct[40],
        pct[50],
        pct[60],
        pct[70],
        "×",
        pct[50],
        pct[75],
        pct[50],
        "×",
        pct[60],
    ]
    # The true values stay inside the server: only the protected text leaves it.
    hidden = report.targets[5]
    assert hidden.actual.value == 9 and hidden.actual.public_value is None
    assert hidden.share.number is None
    small = report.targets[9]
    assert small.actual.value == 2 and small.share.number is None
    assert texts["sentences"][0] == f"Nya kvinnor som besökt: 16 av 40 ({pct[40]})"
    assert texts["sentences"][4] == (
        f"Kvinnor som deltog i aktiviteter (per tillfälle): 14 av 20 ({pct[70]})"
    )
    assert texts["sentences"][5] == "Personer som hänvisades till SFI: × av 15 (×)"
    # Women who started at SFI: Kommun A's started SFI total is hidden on the service table,
    # so from its gender split nothing can be worked out (the dashboard's rule).
    assert texts["sentences"][7] == (
        f"Kvinnor som hänvisades till SFI och började: 6 av 8 ({pct[75]})"
    )
    assert texts["sentences"][9] == "Kvinnor i praktik efter insatsen: <5 av 5 (×)"


def test_a_project_without_activities_counts_every_activity_at_its_sites(app, world, make):
    project = make_project(
        world["org"], [world["north"]], [], [], [(I.SESSIONS_HELD, None, None, 5)], name="P2"
    )
    report, _texts = build(app, project)
    # Norr: the café's 22 Jan, 3 Feb, 2 Apr and the other activity's 20 Feb.
    assert report.raw.total[I.SESSIONS_HELD] == 4
    assert report.raw.total[I.PARTICIPANTS] == 4 + 7 + 3 + 9
    # No services named: every service of the organisation, SO too (Norr's R on 1 Feb).
    assert report.raw.total[I.REFERRALS] == 7 + 1


# -- traceable: every actual recomputed from the rows -----------------------------------------


def recompute(project: Project, today: date) -> dict:
    """Each indicator from the rows, in Python: visits (not their summaries), sessions with
    their attendance and the visits counted to them, referrals with their follow-ups."""
    sites = {s.id for s in project.sites}
    services = {s.id for s in project.services}
    activities = {a.id for a in project.activities}
    start, end = project.starts_on, project.ends_on
    months = lambda d: date(d.year, d.month, 1)  # noqa: E731
    out = {"total": Counter(), "month": Counter(), "site": Counter(), "gender": Counter()}

    def add(ind, day, site, value, gender="-"):
        out["total"][ind] += value
        out["month"][(ind, months(day))] += value
        out["site"][(ind, site)] += value
        if gender != "-":
            out["gender"][(ind, gender)] += value

    for v in db.session.scalars(select(Visit)):
        if v.site_id in sites and start <= v.visit_date <= end:
            add(I.VISITS, v.visit_date, v.site_id, 1)
            add(I.WOMEN_REACHED, v.visit_date, v.site_id, v.women if v.is_new else 0)
    for s in db.session.scalars(select(ActivitySession)):
        held = s.status == SessionStatus.SCHEDULED and s.on_date <= today
        if not (held and s.site_id in sites and start <= s.on_date <= end):
            continue
        if activities and s.activity_id not in activities:
            continue
        a = s.attendance
        counted = [v for v in db.session.scalars(select(Visit).where(Visit.session_id == s.id))]
        women = (a.women if a else 0) + sum(v.women for v in counted)
        men = (a.men if a else 0) + sum(v.men for v in counted)
        other = (a.other_adults if a else 0) + sum(v.other_adults for v in counted)
        add(I.SESSIONS_HELD, s.on_date, s.site_id, 1)
        add(I.CONVERSATIONS, s.on_date, s.site_id, a.conversations if a else 0)
        add(I.PARTICIPANTS, s.on_date, s.site_id, women, Gender.WOMAN)
        add(I.PARTICIPANTS, s.on_date, s.site_id, men, Gender.MAN)
        add(I.PARTICIPANTS, s.on_date, s.site_id, other, Gender.OTHER)
    for r in db.session.scalars(select(Referral)):
        day = r.created_at.date()
        if not (r.organisation_id == project.organisation_id and start <= day <= end):
            continue
        if r.site_id not in sites or (services and r.service_id not in services):
            continue
        results = {
            f.result
            for f in db.session.scalars(select(FollowUp).where(FollowUp.referral_id == r.id))
        }
        started = r.status == ReferralStatus.CLOSED and r.outcome == Outcome.STARTED
        work = bool(results & {FollowUpResult.IN_WORK, FollowUpResult.IN_STUDIES})
        placement = FollowUpResult.IN_WORK_PLACEMENT in results
        for ind, yes in (
            (I.REFERRALS, True),
            (I.STARTED, started),
            (I.WORK_OR_STUDIES, work),
            (I.WORK_PLACEMENTS, placement),
        ):
            add(ind, day, r.site_id, int(yes), r.gender)
    return out


def test_every_figure_is_recomputed_from_the_rows(app, world):
    project = world["project"]
    report, _texts = build(app, project)
    expected = recompute(project, TODAY)
    raw = report.raw
    for ind in Indicator:
        assert raw.total[ind] == expected["total"][ind], ind
        for m in MONTHS:
            assert raw.month[ind][m] == expected["month"][(ind, m)], (ind, m)
        for site in project.sites:
            assert raw.site[ind][site.id] == expected["site"][(ind, site.id)], (ind, site.name)
    for ind in project_report.GENDERED:
        for g in (Gender.WOMAN, Gender.MAN, Gender.OTHER, None):
            assert raw.gender[ind][g] == expected["gender"][(ind, g)], (ind, g)
    # And each target's actual is the count it names.
    for line in report.targets:
        if line.service_id is None and line.gender is None:
            assert line.actual.value == expected["total"][line.indicator]
        elif line.service_id is None:
            assert line.actual.value == expected["gender"][(line.indicator, line.gender)]


# -- the page, the workbook, the print view ----------------------------------------------------


class Tables(HTMLParser):
    """Every table's cells on a page, by the table's id, as text rows."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.current: str | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.current = dict(attrs).get("id")
            self.tables[self.current] = []
        elif tag == "tr" and self.current:
            self.tables[self.current].append([])
        elif tag in ("td", "th") and self.current:
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.tables[self.current][-1].append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "table":
            self.current = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def page_tables(html: str) -> dict[str, list[list[str]]]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


def sheet_rows(sheet) -> list[list]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def as_page_text(app, value) -> str:
    """A workbook cell as the page writes it: numbers with a non-breaking space between
    thousands, shares as percents in Swedish."""
    if isinstance(value, float):
        with app.test_request_context():
            return format_percent(value)
    if value is None:
        return ""
    if isinstance(value, float):
        return format_percent(value)
    if isinstance(value, int):
        return f"{value:,}".replace(",", "\xa0")
    return str(value)


def test_the_report_page_shows_every_table_with_captions_and_links(client, login, world):
    login(world["coordinator"])
    project = world["project"]
    response = client.get(f"/stats/projects/{project.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Vägen till arbete" in html and "Länsstyrelsen (§ 37 a)" in html
    assert f'href="/stats/projects/{project.id}?format=xlsx"' in html
    assert f'href="/stats/projects/{project.id}/print"' in html
    for key in ("project_targets", "project_month", "project_site", "project_gender"):
        assert f'<table class="stats-table project-table" id="{key}">' in html
        assert f'role="region" aria-labelledby="{key}-caption"' in html
        assert f'<caption id="{key}-caption" class="visually-hidden">' in html
    assert 'scope="col"' in html and 'scope="row"' in html
    assert "Personer som hänvisades till SFI: × av 15 (×)" in html
    assert "Kvinnor i praktik efter insatsen: &lt;5 av 5 (×)" in html


def test_the_xlsx_matches_the_screen_and_the_report(app, client, login, world):
    login(world["coordinator"])
    project = world["project"]
    html = client.get(f"/stats/projects/{project.id}").get_data(as_text=True)
    response = client.get(f"/stats/projects/{project.id}?format=xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    exported = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "export", AuditEvent.object_type == "project")
    ).all()
    assert [(e.object_id, e.user_id) for e in exported] == [(project.id, world["coordinator"].id)]
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Mål och utfall", "Per månad", "Per plats", "Per kön", "Per tjänst"]
    report, _texts = build(app, project, today=date.today())
    screen = page_tables(html)
    for name, key in zip(
        book.sheetnames,
        ["project_targets", "project_month", "project_site", "project_gender", "project_service"],
        strict=True,
    ):
        sheet = book[name]
        rows = sheet_rows(sheet)
        title = rows[TITLE_ROW - 1][0]
        assert title == "Vägen till arbete · Länsstyrelsen (§ 37 a) · 2025-01-15 – 2025-04-30"
        assert sheet.cell(TITLE_ROW, 1).font.b and sheet.cell(HEADER_ROW, 1).font.b
        assert sheet.cell(HEADER_ROW + 1, 1).font.b is not True
        assert sheet.column_dimensions["A"].width >= 20
        on_screen = screen[key]
        table = rows[HEADER_ROW - 1 : HEADER_ROW - 1 + len(on_screen)]
        width = len(on_screen[0])
        in_book = [[" ".join(as_page_text(app, v).split()) for v in r[:width]] for r in table]
        assert in_book == on_screen, name
    # Numbers as numbers, protected cells as the page's marks, shares as numbers.
    targets = book["Mål och utfall"]
    first = [targets.cell(HEADER_ROW + 1, c).value for c in range(1, 8)]
    assert first[3:6] == [40, 16, pytest.approx(0.4)]
    assert targets.cell(HEADER_ROW + 1, 6).number_format == "0%"
    assert [targets.cell(HEADER_ROW + 1 + n, 7).value for n in range(len(report.targets))] == [
        t.sentence for t in report.targets
    ]
    # Against the report object too: each grid's cells, protected the same way.
    for grid in report.grids:
        rows = sheet_rows(book[grid.title])
        body = rows[HEADER_ROW : HEADER_ROW + len(grid.rows)]
        for line, row in zip(body, grid.rows, strict=True):
            assert line[0] == row.label
            for value, cell in zip(line[1:], row.cells, strict=False):
                if cell is None:
                    assert value == "–" or value is None
                else:
                    assert value == (cell.value if cell.shown else cell.text)
    assert "×" in [v for row in sheet_rows(book["Per plats"]) for v in row]


def test_the_list_shows_the_organisations_projects_only(client, login, world, make):
    other = make_project(world["b_org"], [], [], [], [], name="Kommun B:s projekt")
    login(world["admin"])
    html = client.get("/stats/projects").get_data(as_text=True)
    assert f'href="/stats/projects/{world["project"].id}"' in html
    assert "Vägen till arbete" in html
    assert "Kommun B:s projekt" not in html and f"/stats/projects/{other.id}" not in html


@pytest.mark.parametrize("suffix", ["", "?format=xlsx", "/print"])
def test_another_organisations_project_is_404_and_staff_403(client, login, world, suffix):
    project = world["project"]
    login(world["b_coordinator"])
    assert client.get(f"/stats/projects/{project.id}{suffix}").status_code == 404
    assert client.get(f"/stats/projects/99999{suffix}").status_code == 404
    client.post("/logout")
    login(world["staff"])
    assert client.get(f"/stats/projects/{project.id}{suffix}").status_code == 403
    assert client.get("/stats/projects").status_code == 403


def test_the_print_view_holds_every_table(client, login, world):
    login(world["admin"])
    project = world["project"]
    response = client.get(f"/stats/projects/{project.id}/print")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "project_print.css" in html and 'media="print"' in html
    # On paper the targets are their sentences; then every table.
    assert "Kvinnor i praktik efter insatsen: &lt;5 av 5 (×)" in html
    assert set(page_tables(html)) == {
        "project_month",
        "project_site",
        "project_gender",
        "project_service",
    }


# -- statements --------------------------------------------------------------------------------


def statements_of(action) -> list[str]:
    seen: list[str] = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    db.session.commit()
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return [s for s in seen if not s.strip().upper().startswith("BEGIN")]


def test_the_report_is_at_most_ten_statements(app, client, login, world):
    project = world["project"]
    project_id = project.id
    with app.test_request_context():
        built = statements_of(lambda: project_report.build(project, 5, "sv", TODAY))
    # The scope, visits, sessions, referrals and their follow-up results (and the project's
    # own row, read again after the commit that starts the count).
    figures = [s for s in built if not s.startswith("SELECT project.")]
    assert len(figures) == 5, built
    login(world["coordinator"])
    url = f"/stats/projects/{project_id}"
    page = statements_of(lambda: client.get(url))
    assert len(page) <= 10, page
    workbook = statements_of(lambda: client.get(url + "?format=xlsx"))
    # The workbook adds its audit row (and the chain's head) to the same reads.
    reads = [s for s in workbook if not re.match(r"\s*(INSERT|UPDATE)", s)]
    assert len(reads) <= 10, reads


# -- valid HTML --------------------------------------------------------------------------------


def test_the_list_report_and_print_pages_are_valid_html(app, client, tmp_path):
    """The Nu HTML Checker (as tests/test_html_valid.py runs it) on the demo's projects."""
    from app.admin.commands import create_demo
    from tests.test_html_valid import checker_errors

    if shutil.which("java") is None:
        pytest.skip("Java not found: the Nu HTML Checker runs on it (apt-get install default-jre)")
    logins = {role: (email, password) for role, email, password in create_demo()}
    db.session.commit()
    email, password = logins["coordinator"]
    assert client.post("/login", data={"email": email, "password": password}).status_code == 303
    project_id = db.session.scalar(select(Project.id).order_by(Project.id))
    paths = [
        "/stats/projects",
        f"/stats/projects/{project_id}",
        f"/stats/projects/{project_id}/print",
    ]
    for number, path in enumerate(paths):
        response = client.get(path)
        assert response.status_code == 200, path
        (tmp_path / f"{number}.html").write_bytes(response.data)
    errors = checker_errors(sorted(tmp_path.glob("*.html")))
    assert not errors, "\n".join(errors)
