"""The benchmark's data generator at a tiny size: right counts, plausible and private data."""

from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import case, create_engine, func, select

from app import crypto, privacy
from app.choices import (
    ActivityKind,
    ConsentPurpose,
    FollowUpResult,
    FollowUpStatus,
    Gender,
    Indicator,
    Outcome,
    OutreachPlace,
    ReferralStatus,
    SessionChange,
    SessionStatus,
    Topic,
)
from app.followup.records import due_date, local_close_date
from app.models import (
    Activity,
    ActivitySession,
    Consent,
    ConsentText,
    ContactDetails,
    FollowUp,
    InformationContact,
    Project,
    ProjectTarget,
    Referral,
    ReferralEvent,
    SessionAttendance,
    Site,
    User,
    Visit,
    VisitLanguage,
    project_activities,
    project_services,
    project_sites,
)
from app.workdays import is_working_day
from bench import bench_app
from bench.generate import Plan, generate


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench")
    url = f"sqlite:///{folder / 'tiny.db'}"
    plan = Plan(visits=2_000, referrals=300, seed=7)
    # The keys beside the data, never in the repo's instance/.
    keys = folder / "keys" / "contact-keys.json"
    counts = generate(url, plan, fresh_file=True, log=lambda _msg: None, key_file=keys)
    engine = create_engine(url)
    with engine.connect() as conn:
        yield conn, counts, plan
    engine.dispose()


def scalar(conn, query):
    return conn.scalar(query)


def test_counts_are_exactly_the_plan(generated):
    conn, counts, _plan = generated
    assert counts["visits"] == 2_000
    assert counts["referrals"] == 300
    assert counts["users"] == 50
    assert counts["sites"] == 20
    assert scalar(conn, select(func.count()).select_from(Visit)) == 2_000


def test_every_visit_has_languages_with_its_own_site_and_date(generated):
    conn, _counts, _plan = generated
    without = scalar(
        conn,
        select(func.count())
        .select_from(Visit)
        .where(~select(VisitLanguage.visit_id).where(VisitLanguage.visit_id == Visit.id).exists()),
    )
    assert without == 0
    mismatched = scalar(
        conn,
        select(func.count())
        .select_from(VisitLanguage)
        .join(Visit, Visit.id == VisitLanguage.visit_id)
        .where(
            (VisitLanguage.site_id != Visit.site_id)
            | (VisitLanguage.visit_date != Visit.visit_date)
        ),
    )
    assert mismatched == 0


def test_visits_hold_only_counts_and_categories(generated):
    conn, _counts, plan = generated
    rows = conn.execute(select(Visit)).all()
    assert all(r.women + r.men + r.other_adults >= 1 for r in rows)
    assert all(0 <= r.topics < 2 * max(Topic) for r in rows)
    assert all(r.visit_date <= plan.today for r in rows)
    assert all(r.visit_date.weekday() != 6 for r in rows)  # closed on Sundays
    weekdays = sum(r.visit_date.weekday() < 5 for r in rows)
    assert weekdays > 0.9 * len(rows)
    assert min(r.visit_date for r in rows) >= plan.today - timedelta(days=3 * 365)
    languages = set(conn.scalars(select(VisitLanguage.code).distinct()))
    assert {"ar", "so"} <= languages
    text_columns = {c.name for c in Visit.__table__.columns if c.type.python_type is str}
    assert text_columns == {"part_of_day", "outreach_place"}
    assert {r.outreach_place for r in rows} <= {None, *OutreachPlace}


def test_programme_sessions_attendance_and_outreach_are_consistent(generated):
    """Sessions at every site (today's too), cancelled ones with a coded reason, attendance
    only for held sessions that have been, visits counted to a held session of their own site
    and day, no two planned sessions in one room at once, outreach at coded places."""
    conn, counts, plan = generated
    assert counts["sessions"] > 0 and counts["attendance"] > 0
    assert counts["information_contacts"] > 0
    sessions = conn.execute(select(ActivitySession)).all()
    kinds = set(conn.scalars(select(Activity.kind).distinct()))
    assert {k.value for k in ActivityKind} <= kinds
    today = [s for s in sessions if s.on_date == plan.today]
    assert {s.site_id for s in today} == set(conn.scalars(select(Site.id)))
    for s in sessions:
        assert (s.status == SessionStatus.CANCELLED) <= (s.change_reason in set(SessionChange))
    attended = conn.execute(
        select(ActivitySession.status, ActivitySession.on_date).join(
            SessionAttendance, SessionAttendance.session_id == ActivitySession.id
        )
    ).all()
    assert all(st == SessionStatus.SCHEDULED and day < plan.today for st, day in attended)
    linked = conn.execute(
        select(
            Visit.site_id, Visit.visit_date, ActivitySession.site_id, ActivitySession.on_date
        ).join(ActivitySession, ActivitySession.id == Visit.session_id)
    ).all()
    assert linked and all(a == c and b == d for a, b, c, d in linked)
    planned: dict = {}
    for s in sessions:
        if s.status == SessionStatus.SCHEDULED:
            planned.setdefault((s.site_id, s.on_date, s.room), []).append(s)
    for same_room in planned.values():
        same_room.sort(key=lambda s: s.start_time)
        for a, b in zip(same_room, same_room[1:], strict=False):
            assert a.end_time <= b.start_time, (a.id, b.id)
    places = set(conn.scalars(select(InformationContact.place).distinct()))
    assert places and places <= set(OutreachPlace)


def test_referral_statuses_and_outcomes_are_consistent(generated):
    conn, _counts, _plan = generated
    rows = conn.execute(select(Referral)).all()
    assert {r.status for r in rows} <= set(ReferralStatus)
    for r in rows:
        closed = r.status == ReferralStatus.CLOSED
        assert (r.outcome is not None) == closed
        assert (r.closed_at is not None) == closed
        assert r.outcome is None or r.outcome in set(Outcome)
    assert any(r.status != ReferralStatus.CLOSED for r in rows)
    assert any(r.status == ReferralStatus.CLOSED for r in rows)
    created = scalar(
        conn,
        select(func.count(func.distinct(ReferralEvent.referral_id))).where(
            ReferralEvent.kind == "created"
        ),
    )
    assert created == len(rows)


def test_contact_details_only_for_open_referrals_or_coming_follow_ups_and_obviously_fake(
    generated,
):
    """Kept while a referral is open, or for a follow-up agreement (not withdrawn) while a
    follow-up is open or was recorded less than the retention period (30 days) ago, never
    more than 400 days after the last close: the daily purge's rule."""
    conn, _counts, plan = generated
    open_consents = set(
        conn.scalars(
            select(Referral.consent_id).where(Referral.status != ReferralStatus.CLOSED).distinct()
        )
    )
    details = conn.execute(select(ContactDetails)).all()
    kept = {d.consent_id for d in details}
    assert open_consents <= kept
    for_follow_ups = kept - open_consents
    assert for_follow_ups  # the tiny set has some
    now = datetime.combine(plan.today, datetime.min.time())
    still_open = func.max(case((FollowUp.status == FollowUpStatus.OPEN, 1), else_=0))
    rows = conn.execute(
        select(Consent.id, still_open, func.max(FollowUp.recorded_at), func.max(Referral.closed_at))
        .join(Referral, Referral.consent_id == Consent.id)
        .join(FollowUp, FollowUp.referral_id == Referral.id)
        .where(
            Consent.id.in_(for_follow_ups),
            Consent.follow_up_text_id.is_not(None),
            Consent.withdrawn_at.is_(None),
        )
        .group_by(Consent.id)
    ).all()
    assert {r[0] for r in rows} == for_follow_ups
    for _id, pending, last_recorded, last_close in rows:
        assert pending or last_recorded + timedelta(days=30) > now
        assert last_close + timedelta(days=400) > now
    erased = set(conn.scalars(select(Consent.id).where(Consent.erased_at.is_not(None))))
    assert not erased & kept
    database = Path(conn.engine.url.database)
    keys = database.parent / "keys" / "contact-keys.json"
    with bench_app(str(conn.engine.url), CONTACT_KEY_FILE=str(keys)).app_context():
        ring = crypto.keyring()
        for d in details:
            values = {c: getattr(d, c) for c in privacy.SEALED_COLUMNS.values()}
            contact = privacy.opened_columns(d.consent_id, ring.get(d.key_id), values)
            assert contact.first_name.startswith("Testperson ")
            assert contact.phone_e164 is None or contact.phone_e164.startswith("+467017406")
            assert contact.email is None or contact.email.endswith("@example.invalid")
    assert b"Testperson" not in database.read_bytes()  # encrypted like real contact details
    assert scalar(conn, select(func.count()).select_from(Consent)) > 0


def test_target_group_facts_are_one_visitors_and_mostly_women(generated):
    conn, _counts, _plan = generated
    rows = conn.execute(
        select(
            Referral.consent_id,
            Referral.gender,
            Referral.has_child_0_6,
            Referral.parental_leave,
            Referral.sfi_interrupted_before,
        )
    ).all()
    by_consent: dict = {}
    for consent_id, *facts in rows:
        by_consent.setdefault(consent_id, set()).add(tuple(facts))
    assert all(len(facts) == 1 for facts in by_consent.values())  # one visitor, one answer
    genders = [r.gender for r in rows]
    assert set(genders) <= {None, *Gender}
    assert genders.count(Gender.WOMAN) > 0.75 * len(rows)
    assert 0 < genders.count(Gender.MAN) < 0.25 * len(rows)
    assert sum(r.has_child_0_6 is True for r in rows) > 0.7 * len(rows)
    assert any(r.parental_leave is None for r in rows)  # optional: sometimes not answered


def test_follow_up_consent_names_a_published_follow_up_text_in_the_shown_locale(generated):
    conn, _counts, _plan = generated
    rows = conn.execute(
        select(
            Consent.locale_shown, ConsentText.locale, ConsentText.purpose, ConsentText.version
        ).join(ConsentText, ConsentText.id == Consent.follow_up_text_id)
    ).all()
    consents = scalar(conn, select(func.count()).select_from(Consent))
    assert 0.3 * consents < len(rows) < 0.6 * consents
    assert all(
        shown == locale and p == ConsentPurpose.FOLLOW_UP and version == 1  # the first version
        for shown, locale, p, version in rows
    )


def test_follow_ups_at_3_6_and_12_months_of_every_start_with_results_where_due(generated):
    """Due on the first working day on or after 3, 6 and 12 calendar months after the close
    (the app's own due_date);
    results only where due, coded; cancelled only after a withdrawal."""
    conn, counts, plan = generated
    started = conn.execute(
        select(Referral.id, Referral.closed_at).where(Referral.outcome == Outcome.STARTED)
    ).all()
    assert counts["follow_ups"] == 3 * len(started)
    closed = dict(started)
    rows = conn.execute(
        select(FollowUp, Consent.withdrawn_at)
        .join(Referral, Referral.id == FollowUp.referral_id)
        .join(Consent, Consent.id == Referral.consent_id)
    ).all()
    results = set()
    for f in rows:
        referral = SimpleNamespace(closed_at=closed[f.referral_id])
        assert f.due_date == due_date(local_close_date(referral), f.months)  # the app's rule
        assert f.months in (3, 6, 12) and is_working_day(f.due_date)
        if f.status == FollowUpStatus.DONE:
            assert f.due_date <= plan.today and f.recorded_at is not None
            results.add(f.result)
            assert (f.reason_code is not None) == (f.result == FollowUpResult.INTERRUPTED)
            assert f.sfi_level is None or f.result == FollowUpResult.COMPLETED
        else:
            assert f.result is None
        if f.status == FollowUpStatus.CANCELLED:
            assert f.withdrawn_at is not None and f.withdrawn_at.date() < f.due_date
    assert {FollowUpResult.STILL_ACTIVE, FollowUpResult.IN_WORK} <= results
    statuses = {f.status for f in rows}
    assert {FollowUpStatus.OPEN, FollowUpStatus.DONE} <= statuses


def test_two_projects_cover_sites_services_activities_with_targets(generated):
    conn, counts, _plan = generated
    assert counts["projects"] == 2
    projects = conn.execute(select(Project).order_by(Project.id)).all()
    assert [p.name.split(" 20")[0] for p in projects] == [
        "Vägen till arbete",
        "Föräldrar i Sverige",
    ]
    for p in projects:
        assert p.starts_on < p.ends_on
        sites = set(
            conn.scalars(select(project_sites.c.site_id).where(project_sites.c.project_id == p.id))
        )
        assert sites and scalar(
            conn,
            select(func.count())
            .select_from(project_services)
            .where(project_services.c.project_id == p.id),
        )
        activity_sites = set(
            conn.scalars(
                select(Activity.site_id)
                .join(project_activities, project_activities.c.activity_id == Activity.id)
                .where(project_activities.c.project_id == p.id)
            )
        )
        assert activity_sites and activity_sites <= sites
        targets = conn.execute(select(ProjectTarget).where(ProjectTarget.project_id == p.id)).all()
        assert {t.indicator for t in targets} == set(Indicator)
        assert all(t.target > 0 for t in targets)
        assert any(t.gender == Gender.WOMAN for t in targets)
        assert any(t.service_id is not None for t in targets)


def test_same_seed_gives_the_same_data(generated, tmp_path):
    conn, _counts, plan = generated
    url = f"sqlite:///{tmp_path / 'again.db'}"
    again = Plan(visits=2_000, referrals=300, seed=7, today=plan.today)
    generate(url, again, log=lambda _m: None, key_file=tmp_path / "keys" / "contact-keys.json")
    engine = create_engine(url)
    query = select(Visit.site_id, Visit.visit_date, Visit.topics).order_by(Visit.id).limit(50)
    with engine.connect() as other:
        assert other.execute(query).all() == conn.execute(query).all()
        later = select(FollowUp.referral_id, FollowUp.months, FollowUp.result).order_by(FollowUp.id)
        assert other.execute(later).all() == conn.execute(later).all()
        assert other.scalar(select(func.count()).select_from(User)) == 50
    engine.dispose()
