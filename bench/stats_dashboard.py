"""Benchmark: a year's statistics dashboard on SQLite with a million visits.

    .venv/bin/python bench/stats_dashboard.py [visits] [referrals]

Builds a throwaway database under /tmp (migrated like production), bulk-inserts one year of
visits (with their languages), referrals and anonymous interest across 20 sites, then times
the dashboard: the report alone (all SQL) and the whole page through the test client.
"""

import os
import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from itertools import count
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from app.auth.passwords import hash_password  # noqa: E402
from app.choices import ConsentMethod, Outcome, ReferralStatus, Role  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import (  # noqa: E402
    AnonymousInterest,
    Consent,
    ConsentText,
    Organisation,
    Referral,
    Service,
    Site,
    User,
    Visit,
    VisitDayLanguage,
    VisitDaySummary,
    VisitLanguage,
)
from app.stats import summary  # noqa: E402

YEAR = 2025
LANGUAGES = ["ar", "fa", "so", "ti", "uk", "ckb", "sv", "en", "prs", "ps"]
CHUNK = 50_000


def populate(visits: int, referrals: int) -> None:
    rng = random.Random(8)
    org = Organisation(name="Bench kommun", slug="bench")
    db.session.add(org)
    db.session.flush()
    sites = [Site(organisation_id=org.id, name=f"Plats {i}") for i in range(20)]
    services = [Service(organisation_id=org.id, slug=f"tjanst-{i}") for i in range(8)]
    db.session.add_all(sites + services)
    db.session.flush()
    text = ConsentText(organisation_id=org.id, version=1, locale="sv", body="Samtycke")
    db.session.add(text)
    db.session.flush()
    consent = Consent(
        organisation_id=org.id,
        site_id=sites[0].id,
        consent_text_id=text.id,
        locale_shown="sv",
        method=ConsentMethod.TABLET,
        reference_code="BENCH-0001",
    )
    user = User(
        organisation_id=org.id,
        email="admin@bench.test",
        name="Admin",
        role=Role.ADMIN,
        password_hash=hash_password("bench password 2025"),
        session_token="x" * 64,
    )
    db.session.add_all([consent, user])
    db.session.commit()
    site_ids = [s.id for s in sites]
    service_ids = [s.id for s in services]
    start = date(YEAR, 1, 1)

    visit_rows, language_rows = [], []
    for i in range(1, visits + 1):
        # Visits are recorded on the day, so rows arrive in date order, as in production.
        day = start + timedelta(days=(i - 1) * 365 // visits)
        site = rng.choice(site_ids)
        visit_rows.append(
            {
                "id": i,
                "site_id": site,
                "visit_date": day,
                "part_of_day": "morning",
                "women": rng.randint(0, 2),
                "men": rng.randint(0, 1),
                "other_adults": 0,
                "children_0_1": rng.randint(0, 1),
                "children_1_3": rng.randint(0, 2),
                "children_3_6": rng.randint(0, 1),
                "is_new": rng.random() < 0.2,
                "topics": rng.randrange(512),
                "created_at": datetime(YEAR, 1, 1),
            }
        )
        for code in rng.sample(LANGUAGES, rng.randint(1, 2)):
            language_rows.append({"visit_id": i, "code": code, "site_id": site, "visit_date": day})
        if len(visit_rows) >= CHUNK:
            db.session.execute(insert(Visit), visit_rows)
            db.session.execute(insert(VisitLanguage), language_rows)
            visit_rows, language_rows = [], []
    if visit_rows:
        db.session.execute(insert(Visit), visit_rows)
        db.session.execute(insert(VisitLanguage), language_rows)

    referral_rows = []
    for _ in range(referrals):
        created = datetime(YEAR, 1, 1) + timedelta(minutes=rng.randrange(365 * 24 * 60))
        status = rng.choice(list(ReferralStatus))
        contact = created + timedelta(hours=rng.randrange(24 * 14)) if status != "new" else None
        closed = created + timedelta(days=rng.randrange(1, 90)) if status == "closed" else None
        referral_rows.append(
            {
                "organisation_id": org.id,
                "site_id": rng.choice(site_ids),
                "service_id": rng.choice(service_ids),
                "consent_id": consent.id,
                "language": rng.choice(LANGUAGES),
                "status": status,
                "outcome": rng.choice(list(Outcome)) if closed else None,
                "created_at": created,
                "due_date": created.date(),
                "first_contact_at": contact,
                "closed_at": closed,
            }
        )
    db.session.execute(insert(Referral), referral_rows)
    interest_rows = [
        {
            "organisation_id": org.id,
            "site_id": rng.choice(site_ids),
            "service_id": rng.choice(service_ids),
            "language": rng.choice(LANGUAGES),
            "on_date": start + timedelta(days=rng.randrange(365)),
        }
        for _ in range(referrals // 5)
    ]
    db.session.execute(insert(AnonymousInterest), interest_rows)
    db.session.commit()


def timed(label: str, fn, repeat: int = 2) -> None:
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - began)
    print(f"{label:<48} {best * 1000:8.0f} ms (best of {repeat})", flush=True)


def main() -> None:
    visits = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    referrals = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    # BENCH_DIR reuses a database built by an earlier run (inserting takes minutes).
    reuse = os.environ.get("BENCH_DIR")
    workdir = Path(reuse) if reuse else Path(tempfile.mkdtemp(prefix="stats-bench-"))
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'bench.db'}",
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        if not reuse:
            upgrade(directory=str(ROOT / "migrations"))
            began = time.perf_counter()
            populate(visits, referrals)
            print(
                f"inserted {visits} visits, {referrals} referrals in {time.perf_counter() - began:.0f} s"
            )
        # The visits were bulk-inserted past the write path: build the daily summaries the
        # dashboard reads (a database from before they existed gets the tables first).
        db.metadata.create_all(
            db.engine, tables=[VisitDaySummary.__table__, VisitDayLanguage.__table__]
        )
        began = time.perf_counter()
        summary.rebuild(db.session)
        db.session.commit()
        print(f"rebuilt the daily visit summaries in {time.perf_counter() - began:.1f} s")
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
    client = app.test_client()
    client.post("/login", data={"email": "admin@bench.test", "password": "bench password 2025"})
    with app.app_context():
        from app.stats import queries, report
        from app.stats.periods import Bucket, PeriodKind, preset

        org_id = db.session.scalar(db.select(Organisation.id))
        sites = tuple(i for i, _n in queries.organisation_sites(org_id))
        services = queries.organisation_services(org_id, "sv")
        year = preset(PeriodKind.YEAR, date(YEAR, 6, 1))
        every_site = queries.Filters(org_id, sites, year)
        one_site = queries.Filters(org_id, sites[:1], year, site_id=sites[0])
        fresh = count()  # a new stats version each call: times the counting, not the cache
        with app.test_request_context("/stats/"):
            timed(
                "report, a year, all 20 sites",
                lambda: report.build(every_site, Bucket.MONTH, 5, services, "sv", next(fresh)),
            )
            timed(
                "report, a year, one site",
                lambda: report.build(one_site, Bucket.MONTH, 5, services, "sv", next(fresh)),
            )
            timed(
                "report, a year by week, all sites",
                lambda: report.build(every_site, Bucket.WEEK, 5, services, "sv", next(fresh)),
            )
            timed("  query visit_figures", lambda: queries.visit_figures(every_site, Bucket.WEEK))
            timed("  query visit_languages", lambda: queries.visit_languages(every_site))
            timed(
                "  query referral_counts (by service, interest, trend)",
                lambda: queries.referral_counts(every_site, Bucket.MONTH),
            )
            timed(
                "  query median_days (both medians)",
                lambda: queries.median_days(every_site, 1000, 1000),
            )
    timed(
        "GET /stats/?period=year (whole page)",
        lambda: client.get(f"/stats/?period=year&on={YEAR}-06-01"),
    )
    timed(
        "POST /stats/export.xlsx (a year)",
        lambda: client.post("/stats/export.xlsx", data={"period": "year", "on": f"{YEAR}-06-01"}),
    )
    print(f"database: {workdir / 'bench.db'} (delete when done)")


if __name__ == "__main__":
    main()
