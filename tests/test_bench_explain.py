"""Every statement of every benchmarked page is planned on an index on a national data set
(issue 23): `bench.explain` on PostgreSQL.

The CI's PostgreSQL pass generates the national data set at a tenth of its size (25
organisations, 500 sites, 1,000,000 visits, 100,000 referrals; about a minute) into the database
`bench_explain` beside the test database, and reuses it while its plan matches. With
BENCH_EXPLAIN_URL set (e.g. to the `make bench NATIONAL=1` database), the full national data set
there is used instead: 10,000,000 visits and 1,000,000 referrals.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from app import crypto, privacy
from app.extensions import db
from app.models import ContactDetails, Organisation, User
from bench import bench_app, explain
from bench.generate import ensure_dataset, plan_national

TEST_URL = os.environ.get("TEST_DATABASE_URL", "")
FULL_URL = os.environ.get("BENCH_EXPLAIN_URL", "")

pytestmark = pytest.mark.skipif(
    not (TEST_URL.startswith("postgresql") or FULL_URL),
    reason="PostgreSQL only (the national data set): CI's PostgreSQL pass runs it",
)


def _database_beside_the_tests(name: str) -> str:
    url = make_url(TEST_URL)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def national():
    url = FULL_URL or _database_beside_the_tests("bench_explain")
    plan = plan_national(quick=not FULL_URL, seed=1)
    url, counts = ensure_dataset(url, plan, log=lambda _message: None)
    app = bench_app(url, WTF_CSRF_ENABLED=False)
    yield app, counts, plan
    with app.app_context():
        db.engine.dispose()


def test_the_national_data_set_is_25_organisations_of_20_sites(national):
    app, counts, plan = national
    assert counts["sites"] == 500 and counts["users"] == 25 * 50
    assert counts["visits"] == plan.visits * 25 and counts["referrals"] == plan.referrals * 25
    with app.app_context():
        s = db.session
        assert s.scalar(select(func.count(func.distinct(Organisation.slug)))) == 25
        assert s.scalar(select(func.count(func.distinct(User.email)))) == 25 * 50
        # A copy's contact details are sealed for its own consent ids: they open.
        key = crypto.keyring().current
        last = (
            s.execute(
                select(ContactDetails.__table__).order_by(ContactDetails.consent_id.desc()).limit(1)
            )
            .mappings()
            .one()
        )
        opened = privacy.opened_columns(last["consent_id"], key, dict(last))
        assert opened.first_name == f"Testperson {last['consent_id']}"


def test_the_check_finds_a_sequential_scan_of_a_large_table(national):
    app, _counts, _plan = national
    found = explain.seq_scans(
        app, [("SELECT * FROM visit WHERE recorded_by_id + 0 = %(n)s", {"n": 2})]
    )
    assert [table for table, _statement in found] == ["visit"]


def test_no_benchmarked_page_scans_a_large_table_sequentially(national):
    app, _counts, _plan = national
    findings, planned = explain.check(app)
    assert planned["queue"] >= 5 and planned["dashboard_year"] >= 5  # pages were planned
    assert [str(f) for f in findings] == []


def test_the_apps_connections_plan_for_short_statements_on_ssd(national):
    """app.database.POSTGRES_SETTINGS on every connection: without them the year's dashboard
    compiled for 0.7 s (JIT) and read every attendance row of the country."""
    app, _counts, _plan = national
    with app.app_context():
        assert db.session.scalar(text("SHOW jit")) == "off"
        assert db.session.scalar(text("SHOW random_page_cost")) == "1.1"
