"""Statistics: every figure on a small hand-made data set, small-count protection, the SVG
charts, CSV and XLSX cell by cell, bad input and access."""

import csv
import io
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import delete, event, select

from app.choices import Outcome, ReferralStatus, Role, Topic, TranslationStatus
from app.extensions import db
from app.models import (
    AnonymousInterest,
    AuditEvent,
    Organisation,
    Referral,
    Service,
    ServiceTranslation,
    Visit,
    VisitDayLanguage,
    VisitDaySummary,
    VisitMonthLanguage,
    VisitMonthSummary,
)
from app.stats import cache, charts, periods, queries, summary
from app.stats.report import Row, Table
from app.stats.suppression import (
    Cell,
    Mark,
    TableCounts,
    feasible_range,
    primary,
    protect_share,
    protect_table,
    protect_tables,
)
from app.workdays import local_today
from tests.factories import visit_form

MARCH = {"period": "month", "on": "2026-03-10"}


# -- the hand-made data set --------------------------------------------------------------------


def add_service(org, slug, sort_order=100):
    """A service with its Swedish name (the shared factory's `service` builder passes an
    `organisation` relationship that Service does not have)."""
    service = Service(organisation_id=org.id, slug=slug, sort_order=sort_order)
    service.translations.append(
        ServiceTranslation(locale="sv", name=slug.upper(), status=TranslationStatus.REVIEWED)
    )
    db.session.add(service)
    db.session.commit()
    return service


def add_referral(
    org, site, service, consent, created, status, outcome=None, contact_days=None, closed_days=None
):
    referral = Referral(
        organisation_id=org.id,
        site_id=site.id,
        service_id=service.id,
        consent_id=consent.id,
        language="ar",
        status=status,
        outcome=outcome,
        created_at=created,
        due_date=created.date(),
        first_contact_at=created + timedelta(days=contact_days)
        if contact_days is not None
        else None,
        closed_at=created + timedelta(days=closed_days) if closed_days is not None else None,
    )
    db.session.add(referral)
    return referral


@pytest.fixture
def world(make):
    """Organisation A with sites North and South and services SFI and Work; organisation B
    with data on the same days that must never be counted for A.

    Visits in March 2026 (10 groups):
      6 at North on 3 March: 1 woman, 1 child 1-3, returning, topic SFI, Arabic
      3 at South on 10 March: 2 women, 1 man, 1 child 0-1, new, topics Work+SFI, Somali+Arabic
      1 at North on 31 March: 1 other adult, 2 children 3-6, new, topic Housing, Tigrinya
    Referrals created in March 2026 (16): SFI 11 closed (6 started: contact 2 d, outcome 10 d;
      5 declined: contact 4 d, outcome 7 d); Work 5 (1 new; 2 contacted: contact 1 d;
      2 in progress, contact 3 d). Anonymous interest: SFI 2, Work 7.
    """
    org = make.org(name="Kommun A")
    north = make.site(org, name="Norr")
    south = make.site(org, name="Söder")
    sfi = add_service(org, "sfi", 1)
    work = add_service(org, "arbete", 2)
    admin = make.user(org, role=Role.ADMIN)
    coordinator = make.user(org, role=Role.COORDINATOR, sites=[north])
    staff = make.user(org, role=Role.STAFF, sites=[north])
    other = make.org(name="Kommun B")
    other_site = make.site(other, name="Annan")
    other_service = add_service(other, "annan")
    other_admin = make.user(other, role=Role.ADMIN)

    for _ in range(6):
        make.visit(
            north,
            on=date(2026, 3, 3),
            women=1,
            children_1_3=1,
            is_new=False,
            topics=Topic.SFI,
            languages=("ar",),
        )
    for _ in range(3):
        make.visit(
            south,
            on=date(2026, 3, 10),
            women=2,
            men=1,
            children_0_1=1,
            is_new=True,
            topics=Topic.WORK | Topic.SFI,
            languages=("so", "ar"),
        )
    make.visit(
        north,
        on=date(2026, 3, 31),
        women=0,
        other_adults=1,
        children_3_6=2,
        is_new=True,
        topics=Topic.HOUSING,
        languages=("ti",),
    )
    # Outside the period or the organisation: never counted for March at A.
    make.visit(north, on=date(2026, 2, 28), women=5, languages=("fa",))
    make.visit(north, on=date(2026, 4, 1), women=5, languages=("fa",))
    make.visit(other_site, on=date(2026, 3, 10), women=9, languages=("uk",))

    consent = make.referral_consent(north, [sfi], by=staff)  # created today: outside March
    for _ in range(6):
        add_referral(
            org,
            north,
            sfi,
            consent,
            datetime(2026, 3, 2, 10),
            ReferralStatus.CLOSED,
            Outcome.STARTED,
            contact_days=2,
            closed_days=10,
        )
    for _ in range(5):
        add_referral(
            org,
            south,
            sfi,
            consent,
            datetime(2026, 3, 3, 10),
            ReferralStatus.CLOSED,
            Outcome.DECLINED,
            contact_days=4,
            closed_days=7,
        )
    add_referral(org, north, work, consent, datetime(2026, 3, 20, 9), ReferralStatus.NEW)
    for _ in range(2):
        add_referral(
            org,
            north,
            work,
            consent,
            datetime(2026, 3, 20, 9),
            ReferralStatus.CONTACTED,
            contact_days=1,
        )
    for _ in range(2):
        add_referral(
            org,
            south,
            work,
            consent,
            datetime(2026, 3, 25, 9),
            ReferralStatus.IN_PROGRESS,
            contact_days=3,
        )
    add_referral(org, north, work, consent, datetime(2026, 4, 1, 0, 0), ReferralStatus.NEW)
    other_consent = make.referral_consent(other_site, [other_service], by=other_admin)
    add_referral(
        other, other_site, other_service, other_consent, datetime(2026, 3, 5, 9), ReferralStatus.NEW
    )
    for service, site, n in ((sfi, north, 2), (work, south, 7), (other_service, other_site, 4)):
        for _ in range(n):
            db.session.add(
                AnonymousInterest(
                    organisation_id=service.organisation_id,
                    site_id=site.id,
                    service_id=service.id,
                    language="so",
                    on_date=date(2026, 3, 5),
                )
            )
    db.session.commit()
    return {
        "org": org,
        "north": north,
        "south": south,
        "sfi": sfi,
        "work": work,
        "admin": admin,
        "coordinator": coordinator,
        "staff": staff,
        "other_site": other_site,
        "other_service": other_service,
    }


def figures(html_report):
    return {label: cell.text for label, cell in html_report.figures}


def table_texts(rep, key):
    table = rep.table(key)
    rows = [(row.label, row.cell.text) for row in table.rows]
    return rows, table.total.text if table.total is not None else None


def build(app, world, **filters):
    """The report as the dashboard builds it, in Swedish."""
    from app.stats import queries, report

    org = world["org"]
    sites = tuple(i for i, _n in queries.organisation_sites(org.id))
    site_id = filters.pop("site_id", None)
    f = queries.Filters(
        org.id,
        (site_id,) if site_id else sites,
        periods.preset(periods.PeriodKind.MONTH, date(2026, 3, 10)),
        site_id=site_id,
        **filters,
    )
    with app.test_request_context("/stats/"):
        services = queries.organisation_services(org.id, "sv")
        version = db.session.scalar(select(Organisation.stats_version).filter_by(id=org.id))
        return report.build(f, periods.Bucket.WEEK, 5, services, "sv", version)


# -- figures -----------------------------------------------------------------------------------


def test_headline_figures_of_the_month(app, world):
    rep = build(app, world)
    assert figures(rep) == {
        "Besöksgrupper": "10",
        "Vuxna": "16",
        "Barn": "11",
        "Hänvisningar": "16",
        "Andel som började (av avslutade)": "55\xa0%",
        "Mediandagar till första kontakt": "2,0",
        "Mediandagar till utfall": "10,0",
        "Intresse utan samtycke": "9",
    }


def test_visit_tables_count_gender_age_new_languages_and_topics(app, world):
    rep = build(app, world)
    assert table_texts(rep, "adults") == (
        [("Kvinnor", "12"), ("Män", "<5"), ("Annat kön", "<5")],
        "16",
    )
    assert table_texts(rep, "children") == (
        [("0–1 år", "<5"), ("1–3 år", "6"), ("3–6 år", "<5")],
        "11",
    )
    # 4 new beside 6 returning: the 6 is hidden too, or 10 - 6 would give the 4 away.
    assert table_texts(rep, "new_returning") == ([("Nya", "<5"), ("Återkommande", "×")], "10")
    assert table_texts(rep, "languages") == (
        [("Arabiska", "9"), ("Somaliska", "<5"), ("Tigrinja", "<5")],
        None,
    )
    rows, total = table_texts(rep, "topics")
    assert dict(rows) == {
        "Arbete": "<5",
        "Svenska / SFI": "9",
        "Samhälle / SO": "0",
        "Förskoleplats": "0",
        "Hälsa": "0",
        "Föräldraskap": "0",
        "Boende": "<5",
        "Ekonomi": "0",
        "Annat": "0",
    }
    assert total is None
    assert [r.cell.value for r in rep.table("topics").rows][:3] == [3, 9, 0]


def test_visit_trend_has_every_iso_week_of_the_month(app, world):
    rep = build(app, world)
    assert table_texts(rep, "visit_trend") == (
        [
            ("Vecka 9, 2026", "0"),
            ("Vecka 10, 2026", "6"),
            ("Vecka 11, 2026", "<5"),
            ("Vecka 12, 2026", "0"),
            ("Vecka 13, 2026", "0"),
            ("Vecka 14, 2026", "<5"),
        ],
        "10",
    )


def test_referral_tables_by_service_status_outcome_and_trend(app, world):
    rep = build(app, world)
    assert table_texts(rep, "services") == ([("SFI", "11"), ("ARBETE", "5")], "16")
    assert table_texts(rep, "statuses") == (
        [("Ny", "<5"), ("Kontaktad", "<5"), ("Pågår", "<5"), ("Avslutad", "11")],
        "16",
    )
    assert table_texts(rep, "outcomes") == (
        [
            ("Började", "6"),
            ("Tackade nej", "5"),
            ("Gick inte att nå", "0"),
            ("Inte behörig", "0"),
            ("Återkallad", "0"),
            ("Löpte ut", "0"),
            ("Ingen plats", "0"),
            ("Mottagaren sa nej", "0"),
        ],
        "11",
    )
    assert table_texts(rep, "referral_trend") == (
        [
            ("Vecka 9, 2026", "0"),
            ("Vecka 10, 2026", "11"),
            ("Vecka 11, 2026", "0"),
            ("Vecka 12, 2026", "<5"),
            ("Vecka 13, 2026", "<5"),
            ("Vecka 14, 2026", "0"),
        ],
        "16",
    )


def test_consent_refusals_count_anonymous_interest_with_protection(app, world):
    rep = build(app, world)
    # 2 beside 7 with the total 9 shown: the 7 is hidden so the 2 cannot be worked out.
    assert table_texts(rep, "interest") == ([("SFI", "<5"), ("ARBETE", "×")], "9")


def test_site_filter_counts_only_that_site(app, world):
    rep = build(app, world, site_id=world["south"].id)
    assert figures(rep)["Besöksgrupper"] == "<5"
    # 5 beside 2 with the total 7: the 5 goes too; the 2 is then 1 or 2, never exact.
    assert table_texts(rep, "services")[0] == [("SFI", "×"), ("ARBETE", "<5")]
    assert table_texts(rep, "interest")[0] == [("SFI", "0"), ("ARBETE", "7")]


def test_service_filter_applies_to_referrals_and_interest_not_visits(app, world):
    rep = build(app, world, service_id=world["sfi"].id)
    assert figures(rep)["Besöksgrupper"] == "10"
    assert figures(rep)["Hänvisningar"] == "11"
    assert table_texts(rep, "services") == ([("SFI", "11")], "11")
    assert table_texts(rep, "interest") == ([("SFI", "<5")], "<5")


def test_median_of_an_even_count_is_the_mean_of_the_middle_two(app, make):
    from app.stats import queries

    org = make.org()
    site = make.site(org)
    service = add_service(org, "sfi")
    staff = make.user(org, sites=[site])
    consent = make.referral_consent(site, [service], by=staff)
    for days in (1, 2, 3, 4, 5, 6):
        add_referral(
            org,
            site,
            service,
            consent,
            datetime(2026, 3, 2, 8),
            ReferralStatus.CONTACTED,
            contact_days=days,
        )
    db.session.commit()
    f = queries.Filters(
        org.id, (site.id,), periods.preset(periods.PeriodKind.MONTH, date(2026, 3, 1))
    )
    first, outcome = queries.median_days(f, 6, 0)
    assert first == pytest.approx(3.5) and outcome is None
    assert queries.median_days(f, 0, 0) == (None, None)


def test_medians_over_fewer_than_five_referrals_are_hidden(app, world):
    rep = build(app, world, service_id=world["work"].id)
    assert figures(rep)["Mediandagar till första kontakt"] == "×"  # 4 contacted
    assert figures(rep)["Mediandagar till utfall"] == "–"  # none closed
    assert figures(rep)["Andel som började (av avslutade)"] == "–"


def dashboard_statements(client) -> list[str]:
    """The SQL of one view of March's dashboard."""
    seen = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get("/stats/", query_string=MARCH).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return seen


def test_dashboard_runs_a_bounded_number_of_queries(app, client, login, world, make):
    login(world["admin"])
    statements = lambda: dashboard_statements(client)  # noqa: E731

    def counting(seen):
        return [
            s
            for s in seen
            if not s.startswith("BEGIN") and not re.search(r"FROM \"?(user|organisation)\"?\s", s)
        ]

    before = counting(statements())
    for _ in range(20):
        make.visit(world["north"], on=date(2026, 3, 12), languages=("ar", "fa"))
    after = counting(statements())
    # The second view takes its referral figures from the cache (visits do not touch them).
    assert len(after) <= len(before) <= 12
    # No statement reads visit rows one by one: every visit query aggregates.
    assert all("count(" in s.lower() or "sum(" in s.lower() for s in after if "FROM visit" in s)


# -- the page ----------------------------------------------------------------------------------


def test_dashboard_shows_protected_figures_tables_and_accessible_charts(client, login, world):
    login(world["coordinator"])
    response = client.get("/stats/", query_string=MARCH)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'role="img" aria-labelledby="chart-adults-title chart-adults-desc"' in html
    assert '<title id="chart-adults-title">Vuxna efter kön</title>' in html
    assert '<desc id="chart-adults-desc">' in html
    assert '<th scope="row">Kvinnor</th><td class="num">12</td>' in html
    assert '<th scope="row">Män</th><td class="num">&lt;5</td>' in html
    assert 'fill="url(#chart-adults-hatch)"' in html  # hidden counts are hatched bars
    assert 'direction="ltr"' in html
    # Another organisation's site and service are neither counted nor offered ("Annan plats"
    # is an outreach place).
    assert ">Annan<" not in html and "ANNAN" not in html


def test_default_period_is_this_month(client, login, world):
    login(world["admin"])
    html = client.get("/stats/").get_data(as_text=True)
    today = local_today()
    assert re.search(
        r'<option[^>]*selected[^>]*value="month"|<option[^>]*value="month"[^>]*selected', html
    )
    month = periods.preset(periods.PeriodKind.MONTH, today)
    from flask_babel import format_date

    with client.application.test_request_context():
        assert f"{format_date(month.start)} – {format_date(month.end)}" in html


def test_arabic_dashboard_draws_bars_from_the_right(client, login, world, make):
    user = make.user(world["org"], role=Role.ADMIN, locale="ar")
    login(user)
    html = client.get("/stats/", query_string=MARCH).get_data(as_text=True)
    assert 'direction="rtl"' in html
    assert 'lang="ar" dir="rtl"' in html


def test_chart_mirrors_for_right_to_left_and_never_sizes_a_hidden_bar_by_its_value():
    table = Table(
        "t",
        "T",
        "L",
        "V",
        [Row("a", primary(40, 5)), Row("b", primary(3, 5)), Row("c", Cell(30, Mark.HIDDEN, 5))],
    )
    ltr = charts.bar_chart(table, "c", "d", False, lambda c: c.text)
    rtl = charts.bar_chart(table, "c", "d", True, lambda c: c.text)
    plot = charts.WIDTH - charts.LABEL_WIDTH - charts.VALUE_ROOM
    assert ltr.bars[0].bar_x == charts.LABEL_WIDTH and ltr.bars[0].bar_width == plot
    assert rtl.bars[0].bar_x + rtl.bars[0].bar_width == charts.WIDTH - charts.LABEL_WIDTH
    assert rtl.bars[0].label_x == charts.WIDTH - ltr.bars[0].label_x
    assert [b.bar_width for b in ltr.bars[1:]] == [charts.HIDDEN_BAR, charts.HIDDEN_BAR]
    assert [(b.text, b.hidden) for b in ltr.bars] == [("40", False), ("<5", True), ("×", True)]


def test_labels_are_escaped_in_charts_and_tables(client, login, world):
    translation = world["sfi"].translations[0]
    translation.name = '<script>alert("x")</script>'
    db.session.commit()
    login(world["admin"])
    html = client.get("/stats/", query_string=MARCH).get_data(as_text=True)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html


# -- exports -----------------------------------------------------------------------------------


def expected_lines(site="Alla platser", today=None):
    return [
        ["Statistik", "Kommun A"],
        ["Period", "2026-03-01 – 2026-03-31"],
        ["Plats", site],
        ["Tjänst", "Alla tjänster"],
        [
            "Skydd för små antal",
            "Antal från 1 till 4 visas som <5. × betyder dolt, så att ett "
            "litet antal inte kan räknas fram.",
        ],
        ["Utdrag gjort", (today or local_today()).isoformat()],
        [],
        ["Sammanfattning", "Värde"],
        ["Besöksgrupper", "10"],
        ["Vuxna", "16"],
        ["Barn", "11"],
        ["Hänvisningar", "16"],
        ["Andel som började (av avslutade)", "55\xa0%"],
        ["Mediandagar till första kontakt", "2,0"],
        ["Mediandagar till utfall", "10,0"],
        ["Intresse utan samtycke", "9"],
        [],
        ["Besöksgrupper, nya och återkommande"],
        ["Grupp", "Antal grupper"],
        ["Nya", "<5"],
        ["Återkommande", "×"],
        ["Totalt", "10"],
        [],
        ["Vuxna efter kön"],
        ["Kön", "Antal vuxna"],
        ["Kvinnor", "12"],
        ["Män", "<5"],
        ["Annat kön", "<5"],
        ["Totalt", "16"],
        [],
        ["Barn efter ålder"],
        ["Ålder", "Antal barn"],
        ["0–1 år", "<5"],
        ["1–3 år", "6"],
        ["3–6 år", "<5"],
        ["Totalt", "11"],
        [],
        ["Språk i besöksgrupperna"],
        ["Språk", "Antal grupper"],
        ["Arabiska", "9"],
        ["Somaliska", "<5"],
        ["Tigrinja", "<5"],
        ["En grupp kan tala flera språk."],
        [],
        ["Ämnen som togs upp"],
        ["Ämne", "Antal grupper"],
        ["Arbete", "<5"],
        ["Svenska / SFI", "9"],
        ["Samhälle / SO", "0"],
        ["Förskoleplats", "0"],
        ["Hälsa", "0"],
        ["Föräldraskap", "0"],
        ["Boende", "<5"],
        ["Ekonomi", "0"],
        ["Annat", "0"],
        ["En grupp kan ta upp flera ämnen."],
        [],
        ["Besöksgrupper över tid"],
        ["Vecka", "Antal grupper"],
        ["Vecka 9, 2026", "0"],
        ["Vecka 10, 2026", "6"],
        ["Vecka 11, 2026", "<5"],
        ["Vecka 12, 2026", "0"],
        ["Vecka 13, 2026", "0"],
        ["Vecka 14, 2026", "<5"],
        ["Totalt", "10"],
        [],
        ["Hänvisningar per tjänst"],
        ["Tjänst", "Antal hänvisningar"],
        ["SFI", "11"],
        ["ARBETE", "5"],
        ["Totalt", "16"],
        [],
        ["Hänvisningar per status"],
        ["Status", "Antal hänvisningar"],
        ["Ny", "<5"],
        ["Kontaktad", "<5"],
        ["Pågår", "<5"],
        ["Avslutad", "11"],
        ["Totalt", "16"],
        [],
        ["Utfall av avslutade hänvisningar"],
        ["Utfall", "Antal hänvisningar"],
        ["Började", "6"],
        ["Tackade nej", "5"],
        ["Gick inte att nå", "0"],
        ["Inte behörig", "0"],
        ["Återkallad", "0"],
        ["Löpte ut", "0"],
        ["Ingen plats", "0"],
        ["Mottagaren sa nej", "0"],
        ["Totalt", "11"],
        [],
        ["Hänvisningar över tid"],
        ["Vecka", "Antal hänvisningar"],
        ["Vecka 9, 2026", "0"],
        ["Vecka 10, 2026", "11"],
        ["Vecka 11, 2026", "0"],
        ["Vecka 12, 2026", "<5"],
        ["Vecka 13, 2026", "<5"],
        ["Vecka 14, 2026", "0"],
        ["Totalt", "16"],
        [],
        ["Intresse utan samtycke per tjänst"],
        ["Tjänst", "Antal tillfällen"],
        ["SFI", "<5"],
        ["ARBETE", "×"],
        ["Totalt", "9"],
        ["Besökare som ville veta mer men inte lämnade samtycke."],
    ]


def test_csv_export_matches_the_page_cell_by_cell_and_is_audited(client, login, world):
    login(world["admin"])
    response = client.post("/stats/export.csv", data=MARCH)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="statistik-2026-03-01--2026-03-31.csv"'
    )
    assert response.data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    lines = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    # The programme's and outreach's lines follow (tests/test_programme_stats.py).
    assert lines[: len(expected_lines())] == expected_lines()
    event_ = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export"))
    assert event_.object_type == "stats" and event_.user_id == world["admin"].id
    assert event_.detail == {
        "format": "csv",
        "period": "2026-03-01--2026-03-31",
        "site_id": None,
        "service_id": None,
    }


def test_xlsx_export_matches_the_page_cell_by_cell_with_numbers_as_numbers(client, login, world):
    login(world["coordinator"])
    data = dict(MARCH, site_id=world["north"].id)
    response = client.post("/stats/export.xlsx", data=data)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="statistik-2026-03-01--2026-03-31.xlsx"'
    )
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.title == "Statistik"
    cells = [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
    assert cells[:6] == [
        ["Statistik", "Kommun A"],
        ["Period", "2026-03-01 – 2026-03-31"],
        ["Plats", "Norr"],
        ["Tjänst", "Alla tjänster"],
        [
            "Skydd för små antal",
            "Antal från 1 till 4 visas som <5. × betyder dolt, så att ett "
            "litet antal inte kan räknas fram.",
        ],
        ["Utdrag gjort", local_today().isoformat()],
    ]
    # North: 7 groups (1 new, 6 returning), 6 women + 1 other adult, 6 + 2 children.
    summary = {row[0]: row[1] for row in cells[8:16]}
    assert summary["Besöksgrupper"] == 7 and isinstance(summary["Besöksgrupper"], int)
    assert summary["Vuxna"] == 7
    assert summary["Barn"] == 8
    assert summary["Hänvisningar"] == 9  # 6 started, 1 new, 2 contacted
    assert summary["Andel som började (av avslutade)"] == 1  # 6 started of 6 closed
    assert cells[17:22] == [
        ["Besöksgrupper, nya och återkommande"],
        ["Grupp", "Antal grupper"],
        ["Nya", "<5"],
        ["Återkommande", "×"],
        ["Totalt", 7],
    ]
    # 1 other adult beside 6 women: the 6 is hidden too, as the total 7 would give the 1 away.
    assert cells[23:29] == [
        ["Vuxna efter kön"],
        ["Kön", "Antal vuxna"],
        ["Kvinnor", "×"],
        ["Män", 0],
        ["Annat kön", "<5"],
        ["Totalt", 7],
    ]
    assert sheet["A18"].font.bold and not sheet["A20"].font.bold
    event_ = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export"))
    assert event_.detail["format"] == "xlsx" and event_.detail["site_id"] == world["north"].id


def test_xlsx_export_of_the_whole_organisation_equals_the_csv(client, login, world):
    login(world["admin"])
    sheet = load_workbook(io.BytesIO(client.post("/stats/export.xlsx", data=MARCH).data)).active
    rows = [[str(c) for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
    expected = expected_lines()
    # Shares and medians are numbers in the workbook; everything else reads the same.
    expected[12][1], expected[13][1], expected[14][1] = str(6 / 11), "2", "10"
    assert rows[: len(expected)] == expected
    assert sheet["B13"].number_format == "0%"


def test_export_neutralises_spreadsheet_formulas_in_names(client, login, world):
    translation = world["sfi"].translations[0]
    translation.name = '=HYPERLINK("http://x")'
    db.session.commit()
    login(world["admin"])
    text = client.post("/stats/export.csv", data=MARCH).data.decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    sheet = load_workbook(io.BytesIO(client.post("/stats/export.xlsx", data=MARCH).data)).active
    values = [c for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert '\'=HYPERLINK("http://x")' in values


def test_export_with_a_bad_period_shows_the_form_and_audits_nothing(client, login, world):
    login(world["admin"])
    response = client.post(
        "/stats/export.csv", data={"period": "custom", "start": "2026-03-10", "end": "2026-03-01"}
    )
    assert response.status_code == 422
    assert "Slutdatumet kan inte vara före startdatumet." in response.get_data(as_text=True)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export")) is None


# -- bad input and access ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {"period": "custom", "start": "2026-03-10", "end": "2026-03-01"},
            "Slutdatumet kan inte vara före startdatumet.",
        ),
        (
            {"period": "custom", "start": "2020-01-01", "end": "2025-01-01"},
            "Perioden kan vara högst fem år.",
        ),
        (
            {"period": "custom", "start": "2026-13-01", "end": "2026-03-01"},
            "Skriv datumet som ÅÅÅÅ-MM-DD.",
        ),
        ({"period": "month", "on": "igår"}, "Skriv datumet som ÅÅÅÅ-MM-DD."),
        ({"period": "custom", "end": "2026-03-01"}, "Välj ett startdatum."),
        ({"period": "custom", "start": "2026-03-01"}, "Välj ett slutdatum."),
        ({"period": "decade"}, "Välj ett av alternativen."),
        ({"bucket": "day"}, "Välj ett av alternativen."),
    ],
)
def test_bad_periods_get_a_message_beside_the_field(client, login, world, query, message):
    login(world["admin"])
    response = client.get("/stats/", query_string=query)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"<li>{message}</li>" in html
    assert "Vuxna efter kön" not in html  # no figures for a period that is not one


def test_five_years_to_the_day_before_is_accepted(client, login, world):
    login(world["admin"])
    query = {"period": "custom", "start": "2021-03-01", "end": "2026-02-28"}
    assert client.get("/stats/", query_string=query).status_code == 200


@pytest.mark.parametrize("param", ["site_id", "service_id"])
def test_another_organisations_or_unknown_ids_are_not_found(client, login, world, param):
    login(world["admin"])
    foreign = world["other_site"].id if param == "site_id" else world["other_service"].id
    for value in (foreign, 99999, "abc"):
        assert client.get("/stats/", query_string={param: value}).status_code == 404
        assert client.post("/stats/export.csv", data={param: value}).status_code == 404


def test_staff_are_forbidden_and_strangers_sent_to_sign_in(client, login, world):
    assert client.get("/stats/").status_code == 302
    assert "/login" in client.get("/stats/").location
    assert client.post("/stats/export.csv").status_code == 302
    login(world["staff"])
    assert client.get("/stats/").status_code == 403
    assert client.post("/stats/export.xlsx").status_code == 403


def test_periods_cover_week_quarter_year_and_step_back_and_forth():
    day = date(2026, 3, 10)  # a Tuesday
    week = periods.preset(periods.PeriodKind.WEEK, day)
    assert (week.start, week.end) == (date(2026, 3, 9), date(2026, 3, 15))
    quarter = periods.preset(periods.PeriodKind.QUARTER, day)
    assert (quarter.start, quarter.end) == (date(2026, 1, 1), date(2026, 3, 31))
    assert periods.preset(periods.PeriodKind.YEAR, day).end == date(2026, 12, 31)
    assert quarter.shifted(-1).start == date(2025, 10, 1)
    assert periods.preset(periods.PeriodKind.MONTH, date(2026, 12, 5)).shifted(1).end == date(
        2027, 1, 31
    )
    custom = periods.Period(periods.PeriodKind.CUSTOM, date(2026, 3, 1), date(2026, 3, 10))
    assert custom.shifted(1).start == date(2026, 3, 11)
    assert periods.too_long(date(2024, 2, 29), date(2029, 3, 1))
    assert not periods.too_long(date(2024, 2, 29), date(2029, 2, 28))


# -- suppression (pure) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"), [(0, "0"), (1, "<5"), (4, "<5"), (5, "5"), (123, "123")]
)
def test_primary_suppression_hides_one_to_four_and_shows_zero_and_five(value, text):
    cell = primary(value, 5)
    assert cell.text == text
    assert cell.public_value == (None if text == "<5" else value)


def test_threshold_is_the_organisations_setting():
    assert primary(2, 3).text == "<3"
    assert primary(3, 3).text == "3"
    assert primary(9, 10).text == "<10"


def test_one_small_cell_beside_a_total_takes_the_next_smallest_with_it():
    cells, total = protect_table([3, 10, 20], 33, 5)
    assert [c.text for c in cells] == ["<5", "×", "20"]
    assert total.text == "33"


def test_two_small_cells_that_cannot_be_told_apart_need_no_secondary():
    cells, total = protect_table([2, 2, 9, 30], 43, 5)
    assert [c.text for c in cells] == ["<5", "<5", "9", "30"]


def test_a_secondary_cell_that_still_pins_the_small_one_takes_another():
    # 1 + 5 = 6: knowing the hidden pair is 6 and the 5 is at least 5, the 1 is exact.
    cells, total = protect_table([1, 5, 8, 40], 54, 5)
    assert [c.text for c in cells] == ["<5", "×", "×", "40"]


def test_when_nothing_is_left_to_hide_the_total_is_hidden():
    cells, total = protect_table([4, 4], 8, 5)
    assert [c.text for c in cells] == ["<5", "<5"]
    assert total.text == "×"


def test_zero_cells_stay_zero_and_a_small_total_hides_itself():
    cells, total = protect_table([0, 3, 0], 3, 5)
    assert [c.text for c in cells] == ["0", "<5", "0"]
    assert total.text == "<5"


def test_a_hidden_total_is_hidden_in_every_table_that_publishes_it():
    protected = protect_tables(
        [
            TableCounts("new_returning", (4, 4), 8, "groups"),
            TableCounts("trend", (8, 0), 8, "groups"),
        ],
        5,
    )
    assert [c.text for c in protected.tables["trend"][0]] == ["×", "0"]
    assert protected.tables["trend"][1].text == "×"
    assert protected.figure("groups", 8).text == "×"


def test_a_cell_equal_to_another_tables_hidden_total_is_hidden_too():
    protected = protect_tables(
        [
            TableCounts("statuses", (20, 6), 26, "referrals", cell_keys=((1, "closed"),)),
            TableCounts("outcomes", (1, 5), 6, "closed"),
        ],
        5,
    )
    assert protected.tables["outcomes"][1].text == "×"
    statuses, total = protected.tables["statuses"]
    assert [c.text for c in statuses] == ["×", "×"] and total.text == "26"


def test_a_share_is_shown_only_when_both_counts_are():
    assert protect_share(primary(6, 5), primary(12, 5)) == 0.5
    assert protect_share(primary(3, 5), primary(12, 5)) is None
    assert protect_share(Cell(6, Mark.HIDDEN, 5), primary(12, 5)) is None


def possible_values(values, marks, total, threshold):
    """Brute force: every value each hidden cell could take, given the total and the shown
    cells (small cells 1..t-1, secondary cells at least t)."""
    hidden = [i for i, m in enumerate(marks) if m is not Mark.SHOWN]
    known = total - sum(v for v, m in zip(values, marks) if m is Mark.SHOWN)
    ranges = {
        i: range(1, threshold) if marks[i] is Mark.SMALL else range(threshold, known + 1)
        for i in hidden
    }
    result = {}
    for i in hidden:
        sums = {0}
        for j in hidden:
            if j != i:
                sums = {s + v for s in sums for v in ranges[j] if s + v <= known}
        result[i] = {v for v in ranges[i] if known - v in sums}
    return result


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=14), min_size=1, max_size=5),
    st.integers(min_value=2, max_value=6),
)
def test_no_hidden_cell_can_be_worked_out_from_the_total(values, threshold):
    cells, total = protect_table(values, sum(values), threshold)
    assert all(c.value == v for c, v in zip(cells, values))
    assert all((c.mark is Mark.SMALL) == (0 < c.value < threshold) for c in cells)
    assert all(c.shown for c in cells if c.value == 0)
    if total.shown:
        marks = [c.mark for c in cells]
        for i, options in possible_values(values, marks, sum(values), threshold).items():
            assert values[i] in options
            assert len(options) >= 2, (values, marks)


def test_feasible_range_of_a_hidden_cell():
    small, hidden, shown = Mark.SMALL, Mark.HIDDEN, Mark.SHOWN
    assert feasible_range(0, [4, 9], [small, shown], 5) == (4, 4)  # alone: exact
    assert feasible_range(0, [4, 6], [small, hidden], 5) == (1, 4)  # beside a hidden 6
    assert feasible_range(1, [4, 6], [small, hidden], 5) == (6, 9)
    assert feasible_range(0, [4, 4], [small, small], 5) == (4, 4)  # 4 + 4: exact


# -- the daily visit summaries -----------------------------------------------------------------


def summary_tables() -> tuple[set, set, set, set]:
    """The four summary tables (days, day languages, months, month languages) as sets of rows;
    rows summed to zero (every visit deleted) count as nothing, as they do on the dashboard."""
    db.session.expire_all()
    days = db.session.execute(select(VisitDaySummary).where(VisitDaySummary.groups != 0))
    languages = db.session.execute(select(VisitDayLanguage).where(VisitDayLanguage.groups != 0))
    months = db.session.execute(select(VisitMonthSummary).where(VisitMonthSummary.groups != 0))
    month_languages = db.session.execute(
        select(VisitMonthLanguage).where(VisitMonthLanguage.groups != 0)
    )
    return (
        {
            (row.site_id, row.visit_date, *(getattr(row, n) for n in summary.SUMMED))
            for (row,) in days
        },
        {(row.site_id, row.visit_date, row.code, row.groups) for (row,) in languages},
        {(row.site_id, row.month, *(getattr(row, n) for n in summary.SUMMED)) for (row,) in months},
        {(row.site_id, row.month, row.code, row.groups) for (row,) in month_languages},
    )


def rebuilt_tables() -> tuple[set, set]:
    summary.rebuild(db.session)
    try:
        return summary_tables()
    finally:
        db.session.rollback()


def recorded_visit(**overrides) -> dict:
    return visit_form(**{"form_key": None, **overrides})


def test_visits_created_edited_and_deleted_in_the_views_keep_the_summaries_exact(
    client, make, login
):
    site = make.site()
    staff = make.user(sites=[site])
    login(staff)
    yesterday = (local_today() - timedelta(days=1)).isoformat()
    forms = [
        recorded_visit(form_key="a", topics=["work", "sfi"], languages=["ar", "so"]),
        recorded_visit(form_key="b", women="2", men="1", is_new="returning", topics=["health"]),
        recorded_visit(form_key="c", visit_date=yesterday, children_0_1="2", languages=["ti"]),
    ]
    for data in forms:
        assert client.post(f"/sites/{site.id}/visits", data=data).status_code == 303
    first, second, third = db.session.scalars(select(Visit).order_by(Visit.id)).all()
    assert summary_tables() == rebuilt_tables()
    assert summary_tables()[0]  # something was summarised

    # An edit moves the figures: other counts, topics, languages and even the day.
    edited = recorded_visit(
        women="0",
        men="2",
        other_adults="1",
        is_new="returning",
        topics=["housing"],
        languages=["so", "uk"],
        visit_date=yesterday,
    )
    assert client.post(f"/sites/{site.id}/visits/{first.id}/edit", data=edited).status_code == 303
    assert summary_tables() == rebuilt_tables()

    # The same day and language before and after: one row taking the difference.
    same_day = recorded_visit(women="3", is_new="new", topics=["health", "other"])
    assert (
        client.post(f"/sites/{site.id}/visits/{second.id}/edit", data=same_day).status_code == 303
    )
    assert summary_tables() == rebuilt_tables()

    assert client.post(f"/sites/{site.id}/visits/{second.id}/delete").status_code in (200, 303)
    assert client.post(f"/sites/{site.id}/visits/{third.id}/delete").status_code in (200, 303)
    assert summary_tables() == rebuilt_tables()
    days, languages, months, _month_languages = summary_tables()
    assert len(days) == 1 and {row[2] for row in languages} == {"so", "uk"}
    assert [row[2:] for row in months] == [row[2:] for row in days]


def test_an_edit_refused_as_bad_input_leaves_the_summaries_alone(client, make, login):
    site = make.site()
    staff = make.user(sites=[site])
    login(staff)
    client.post(f"/sites/{site.id}/visits", data=recorded_visit(form_key="x"))
    visit = db.session.scalar(select(Visit))
    before = summary_tables()
    bad = recorded_visit(women="0", children_1_3="0")
    assert client.post(f"/sites/{site.id}/visits/{visit.id}/edit", data=bad).status_code == 422
    assert summary_tables() == before == rebuilt_tables()


def test_stats_rebuild_command_recomputes_the_summaries(app, make):
    site = make.site()
    make.visit(site, women=2, topics=Topic.WORK.value, languages=("ar", "fa"))
    for model in (VisitDaySummary, VisitDayLanguage, VisitMonthSummary, VisitMonthLanguage):
        db.session.execute(delete(model))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["stats-rebuild"])
    assert result.exit_code == 0, result.output
    days, languages, months, month_languages = summary_tables()
    assert len(days) == len(months) == 1 and len(languages) == len(month_languages) == 2
    (row,) = days
    assert dict(zip(summary.SUMMED, row[2:], strict=True))["topic_work"] == 1


def test_the_summary_has_a_column_for_every_topic():
    columns = set(VisitDaySummary.__table__.c.keys())
    assert {f"topic_{topic.code}" for topic in Topic} <= columns


# -- the referral figures' cache ----------------------------------------------------------------


def referral_statements(client) -> list[str]:
    """The statements of one dashboard view that read referrals or anonymous interest."""
    return [
        s
        for s in dashboard_statements(client)
        if re.search(r"FROM \"?(referral|anonymous_interest)\"?\s", s)
    ]


def stats_version(org) -> int:
    return db.session.scalar(select(Organisation.stats_version).filter_by(id=org.id))


def test_referral_figures_are_counted_once_until_a_referral_changes(app, client, login, world):
    login(world["admin"])
    assert referral_statements(client)  # counted
    assert referral_statements(client) == []  # the same figures again: from the cache
    version = stats_version(world["org"])
    referral = db.session.scalar(
        select(Referral).where(Referral.service_id == world["work"].id, Referral.status == "new")
    )
    referral.status, referral.outcome = ReferralStatus.CLOSED, Outcome.STARTED
    referral.closed_at = referral.created_at + timedelta(days=3)
    db.session.commit()
    assert stats_version(world["org"]) == version + 1
    assert referral_statements(client)  # counted again, with the change in it
    rows, _total = table_texts(build(app, world), "outcomes")
    assert ("Började", "7") in rows  # 6 started before, and this one


def test_anonymous_interest_raises_the_version_of_its_own_organisation_only(app, world):
    ours, theirs = stats_version(world["org"]), stats_version(world["other_service"].organisation)
    db.session.add(
        AnonymousInterest(
            organisation_id=world["org"].id,
            site_id=world["north"].id,
            service_id=world["sfi"].id,
            language="ar",
            on_date=date(2026, 3, 6),
        )
    )
    db.session.commit()
    assert stats_version(world["org"]) == ours + 1
    assert stats_version(world["other_service"].organisation) == theirs
    rows, total = table_texts(build(app, world), "interest")
    assert total == "10"  # SFI 3 (now hidden as <5), Work 7


def test_a_change_the_statistics_do_not_count_keeps_the_cache(app, world):
    version = stats_version(world["org"])
    referral = db.session.scalar(select(Referral).where(Referral.status == "new"))
    referral.assignee_id = world["coordinator"].id
    referral.follow_up_date = date(2026, 4, 2)
    db.session.commit()
    assert stats_version(world["org"]) == version
    referral.status = ReferralStatus.CONTACTED
    db.session.commit()
    assert stats_version(world["org"]) == version + 1


def test_the_counted_columns_are_the_ones_the_queries_read():
    """A column the statistics start to count must also empty the cache when it changes."""
    source = (Path(__file__).resolve().parent.parent / "app/stats/queries.py").read_text()
    read = set(re.findall(r"\bReferral\.(\w+)", source))
    assert read == set(cache.COUNTED)


def test_no_bulk_statement_changes_referrals_behind_the_cache():
    """The version is raised by ORM events, which a bulk UPDATE or DELETE passes by."""
    app_dir = Path(__file__).resolve().parent.parent / "app"
    bulk = re.compile(r"\b(update|delete|insert)\(\s*(Referral|AnonymousInterest)\b")
    found = [
        f"{path.relative_to(app_dir)}: {match.group(0)}"
        for path in app_dir.rglob("*.py")
        for match in bulk.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_a_rolled_back_change_leaves_the_version_as_it_was(app, world):
    version = stats_version(world["org"])
    referral = db.session.scalar(select(Referral).where(Referral.status == "new"))
    referral.status = ReferralStatus.CONTACTED
    db.session.flush()
    db.session.rollback()
    assert stats_version(world["org"]) == version


# -- monthly summaries for whole months ----------------------------------------------------------


@pytest.mark.parametrize(
    "start,end,months,days",
    [
        ("2026-01-01", "2026-12-31", ("2026-01-01", "2026-12-01"), []),
        ("2026-03-09", "2026-03-15", None, [("2026-03-09", "2026-03-15")]),
        ("2026-03-01", "2026-03-31", ("2026-03-01", "2026-03-01"), []),
        (
            "2026-02-20",
            "2026-04-01",
            ("2026-03-01", "2026-03-01"),
            [("2026-02-20", "2026-02-28"), ("2026-04-01", "2026-04-01")],
        ),
        ("2026-02-20", "2026-03-30", None, [("2026-02-20", "2026-03-30")]),
        ("2024-02-01", "2024-02-29", ("2024-02-01", "2024-02-01"), []),  # a leap year's February
    ],
)
def test_a_period_is_read_as_whole_months_and_the_days_around_them(start, end, months, days):
    period = periods.Period(
        periods.PeriodKind.CUSTOM, date.fromisoformat(start), date.fromisoformat(end)
    )
    as_dates = lambda pair: tuple(date.fromisoformat(d) for d in pair)  # noqa: E731
    assert queries.whole_months(period) == (
        as_dates(months) if months else None,
        [as_dates(pair) for pair in days],
    )


def test_months_and_days_together_count_the_same_as_the_visits(app, world):
    """20 Feb – 1 Apr by month reads February's days, March's month row and April's day: the
    figures must be those of the visits themselves."""
    org = world["org"]
    sites = (world["north"].id, world["south"].id)
    period = periods.Period(periods.PeriodKind.CUSTOM, date(2026, 2, 20), date(2026, 4, 1))
    f = queries.Filters(org.id, sites, period)
    with app.test_request_context("/stats/"):
        totals, trend = queries.visit_figures(f, periods.Bucket.MONTH)
        languages = dict(queries.visit_languages(f))
        by_week, _trend = queries.visit_figures(f, periods.Bucket.WEEK)
    in_period = [
        v
        for v in db.session.scalars(select(Visit).where(Visit.site_id.in_(sites)))
        if period.start <= v.visit_date <= period.end
    ]
    assert totals == by_week  # the daily path agrees
    assert totals["visit_groups"] == len(in_period) == 12  # 10 in March, 28 Feb, 1 Apr
    assert totals["women"] == sum(v.women for v in in_period)
    assert dict(trend) == {date(2026, 2, 1): 1, date(2026, 3, 1): 10, date(2026, 4, 1): 1}
    spoken = [row.code for v in in_period for row in v.languages]
    assert languages == {code: spoken.count(code) for code in set(spoken)}


def test_migration_0004_fills_the_monthly_summaries_from_the_daily_ones(app, make):
    from flask_migrate import downgrade, upgrade

    site = make.site()
    make.visit(site, on=date(2026, 3, 3), women=2, languages=("ar",))
    make.visit(site, on=date(2026, 3, 20), women=1, topics=Topic.SFI.value, languages=("ar", "so"))
    make.visit(site, on=date(2026, 4, 1), men=1, is_new=True, languages=("so",))
    db.session.commit()
    kept = summary_tables()
    db.session.remove()
    migrations = str(Path(__file__).resolve().parent.parent / "migrations")
    try:
        downgrade(directory=migrations, revision="0003")  # drops the monthly tables
    finally:
        upgrade(directory=migrations)  # creates and fills them again
    assert summary_tables() == kept
    months = {row[1]: row for row in kept[2]}
    assert set(months) == {date(2026, 3, 1), date(2026, 4, 1)}
    assert months[date(2026, 3, 1)][2] == 2  # two groups in March
