"""The partners' inbound queue (issue 21): the workflow table of the receiving service, each
step's mapping onto the coordinators' status and the statistics' outcomes, a booked time
stored in UTC from Sweden's wall clock, the acknowledgement deadline across holidays (in
Python and SQL alike), the partner's scope (404 outside it), conflicts (409, nothing
overwritten), the audit of the contact read and the step, and a partner kept out of the
staff's pages."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from app.choices import (
    DeclineReason,
    EventKind,
    Outcome,
    PartnerStep,
    ReasonCode,
    ReferralStatus,
    Role,
)
from app.extensions import db
from app.models import AuditEvent, FollowUp, Referral, ReferralEvent, utcnow
from app.partners import workflow
from app.partners.workflow import ALLOWED, ack_overdue_clause, is_ack_overdue, record_step
from app.stats.periods import Bucket, Period, PeriodKind
from app.stats.queries import Filters, referral_counts
from app.workdays import add_working_days, local_today
from tests.security_world import sign_in_as

S = PartnerStep
FROM_STEPS = (None, S.RECEIVED, S.CONTACTED, S.BOOKED, S.STARTED, S.DECLINED)
# What each step does to a referral still NEW in the coordinators' queue.
STATUS_AFTER = {
    S.RECEIVED: (ReferralStatus.NEW, None),
    S.CONTACTED: (ReferralStatus.CONTACTED, None),
    S.BOOKED: (ReferralStatus.IN_PROGRESS, None),
    S.STARTED: (ReferralStatus.CLOSED, Outcome.STARTED),
    S.DECLINED: (ReferralStatus.CLOSED, Outcome.DECLINED_BY_SERVICE),
}


@dataclass
class World:
    org: object
    site: object
    x: object
    y: object
    staff: object
    partner: object
    partner_user: object
    text: object


@pytest.fixture
def world(make):
    org = make.org()
    site = make.site(org)
    x = make.service(org, slug="sfi")
    y = make.service(org, slug="forskola")
    staff = make.user(org, sites=[site], name="Stina Personal")
    partner = make.partner(org, [x], name="SFI-skolan")
    user = make.partner_user(partner, name="Petra")
    return World(org, site, x, y, staff, partner, user, make.consent_text(org))


def new_referral(make, w, service=None, **kw) -> Referral:
    consent = make.referral_consent(w.site, [service or w.x], w.staff, consent_text=w.text, **kw)
    return consent.referrals[0]


def future_day() -> date:
    return local_today() + timedelta(days=14)


def step_args(step: str) -> dict:
    if step == S.BOOKED:
        return {"day": future_day(), "at": time(9, 30), "place": "Skolgatan 1"}
    if step == S.DECLINED:
        return {"reason": DeclineReason.OTHER}
    return {}


def step_form(referral: Referral, step: str, **extra) -> dict:
    data = {"step": step, "version": referral.version}
    if step == S.BOOKED:
        data.update(day=future_day().isoformat(), time="09:30", place="Skolgatan 1")
    if step == S.DECLINED:
        data.update(reason=DeclineReason.OTHER)
    data.update(extra)
    return data


def at_step(referral: Referral, step: str | None, by) -> None:
    """Bring a referral to `step` the way a partner would (None: untouched)."""
    path = {
        None: [],
        S.RECEIVED: [S.RECEIVED],
        S.CONTACTED: [S.CONTACTED],
        S.BOOKED: [S.BOOKED],
        S.STARTED: [S.CONTACTED, S.STARTED],
        S.DECLINED: [S.DECLINED],
    }[step]
    for s in path:
        record_step(referral, s, by=by, **step_args(s))
    db.session.commit()


def snapshot(referral: Referral) -> tuple:
    db.session.refresh(referral)
    events = db.session.scalar(
        select(db.func.count()).where(ReferralEvent.referral_id == referral.id)
    )
    return (
        referral.status,
        referral.outcome,
        referral.partner_step,
        referral.received_at,
        referral.version,
        events,
    )


# ---------------------------------------------------------------- the workflow table


def test_the_table_names_every_step_and_final_steps_allow_nothing():
    assert set(ALLOWED) == {None, *PartnerStep}
    assert ALLOWED[S.STARTED] == ALLOWED[S.DECLINED] == frozenset()
    assert S.BOOKED in ALLOWED[S.BOOKED]  # a re-booking
    assert S.STARTED not in ALLOWED[None] | ALLOWED[S.RECEIVED]


@pytest.mark.parametrize("from_step", FROM_STEPS, ids=str)
@pytest.mark.parametrize("step", list(PartnerStep), ids=str)
def test_every_step_from_every_step(app, client, make, world, from_step, step):
    referral = new_referral(make, world)
    at_step(referral, from_step, world.partner_user)
    sign_in_as(client, world.partner_user)
    before = snapshot(referral)
    response = client.post(f"/inbound/referrals/{referral.id}/step", data=step_form(referral, step))
    if step not in ALLOWED[from_step]:
        assert response.status_code == 409
        assert "Det steget går inte att göra nu." in response.get_data(as_text=True)
        assert snapshot(referral) == before
        return
    assert response.status_code == 303, response.get_data(as_text=True)[:400]
    db.session.refresh(referral)
    assert referral.partner_step == step
    assert referral.received_at is not None
    last = db.session.scalars(
        select(ReferralEvent)
        .where(ReferralEvent.referral_id == referral.id, ReferralEvent.kind == EventKind.PARTNER)
        .order_by(ReferralEvent.id.desc())
    ).first()
    assert (last.result, last.by_id) == (step, world.partner_user.id)
    if from_step is None:
        assert (referral.status, referral.outcome) == STATUS_AFTER[step]
    elif step in (S.STARTED, S.DECLINED):
        assert referral.status == ReferralStatus.CLOSED
    elif step == S.BOOKED:
        assert referral.status == ReferralStatus.IN_PROGRESS
    elif step == S.CONTACTED and from_step == S.BOOKED:
        assert referral.status == ReferralStatus.CONTACTED  # the booking fell through


@pytest.mark.parametrize("step", list(PartnerStep), ids=str)
def test_a_referral_closed_by_a_coordinator_allows_no_step(client, make, world, step):
    referral = new_referral(make, world)
    referral.close(Outcome.DECLINED, by_id=world.staff.id, at=utcnow())
    db.session.commit()
    sign_in_as(client, world.partner_user)
    before = snapshot(referral)
    response = client.post(f"/inbound/referrals/{referral.id}/step", data=step_form(referral, step))
    assert response.status_code == 409
    assert snapshot(referral) == before


@pytest.mark.parametrize(
    ("reason", "outcome"),
    [
        (DeclineReason.NOT_ELIGIBLE, Outcome.NOT_ELIGIBLE),
        (DeclineReason.NO_PLACE, Outcome.NO_PLACE),
        (DeclineReason.COULD_NOT_REACH, Outcome.UNREACHABLE),
        (DeclineReason.OTHER, Outcome.DECLINED_BY_SERVICE),
    ],
    ids=str,
)
def test_each_decline_reason_closes_with_its_outcome(client, make, world, reason, outcome):
    referral = new_referral(make, world)
    sign_in_as(client, world.partner_user)
    response = client.post(
        f"/inbound/referrals/{referral.id}/step",
        data=step_form(referral, S.DECLINED, reason=reason),
    )
    assert response.status_code == 303
    db.session.refresh(referral)
    assert (referral.status, referral.outcome, referral.reason_code) == (
        ReferralStatus.CLOSED,
        outcome,
        reason,
    )
    assert referral.closed_at is not None


def test_started_closes_as_started_and_plans_the_follow_ups(client, make, world):
    referral = new_referral(make, world)
    at_step(referral, S.CONTACTED, world.partner_user)
    assert referral.first_contact_at is not None  # counted as a first contact
    sign_in_as(client, world.partner_user)
    client.post(f"/inbound/referrals/{referral.id}/step", data=step_form(referral, S.STARTED))
    db.session.refresh(referral)
    assert referral.outcome == Outcome.STARTED
    assert db.session.scalars(select(FollowUp).where(FollowUp.referral_id == referral.id)).all()


@pytest.mark.parametrize(
    ("day", "local", "utc"),
    [
        (date(2027, 7, 15), time(9, 30), datetime(2027, 7, 15, 7, 30)),  # CEST, UTC+2
        (date(2027, 1, 15), time(9, 30), datetime(2027, 1, 15, 8, 30)),  # CET, UTC+1
    ],
    ids=["summer", "winter"],
)
def test_a_booking_is_stored_in_utc_from_swedish_time(make, world, day, local, utc):
    referral = new_referral(make, world)
    event = record_step(
        referral, S.BOOKED, by=world.partner_user, day=day, at=local, place="Skolgatan 1"
    )
    db.session.commit()
    assert referral.appointment_at == utc
    assert referral.appointment_place == "Skolgatan 1"
    assert referral.follow_up_date == day
    assert (referral.status, referral.reason_code) == (
        ReferralStatus.IN_PROGRESS,
        ReasonCode.BOOKED,
    )
    assert (event.on_date, event.result) == (day, S.BOOKED)


def test_a_booking_through_the_form_and_a_rebooking(client, make, world):
    referral = new_referral(make, world)
    sign_in_as(client, world.partner_user)
    url = f"/inbound/referrals/{referral.id}/step"
    assert client.post(url, data=step_form(referral, S.BOOKED)).status_code == 303
    db.session.refresh(referral)
    later = future_day() + timedelta(days=7)
    data = step_form(referral, S.BOOKED, day=later.isoformat(), time="13:00", place="Rum 4")
    assert client.post(url, data=data).status_code == 303
    db.session.refresh(referral)
    assert referral.appointment_place == "Rum 4"
    assert referral.follow_up_date == later
    page = client.get(f"/inbound/referrals/{referral.id}").get_data(as_text=True)
    assert "Rum 4" in page


@pytest.mark.parametrize(
    ("changes", "field_message"),
    [
        ({"day": ""}, "Fyll i ett datum."),
        ({"day": "15/7"}, "Skriv datumet som ÅÅÅÅ-MM-DD."),
        ({"day": "2020-01-01"}, "Datumet har redan passerat."),
        ({"time": ""}, "Fyll i en tid."),
        ({"time": "25:99"}, "Skriv tiden som TT:MM, till exempel 09:30."),
        ({"place": "  "}, "Skriv var besöket är."),
        ({"place": "x" * 201}, "Skriv högst 200 tecken."),
    ],
)
def test_an_invalid_booking_is_422_beside_the_field(client, make, world, changes, field_message):
    referral = new_referral(make, world)
    sign_in_as(client, world.partner_user)
    before = snapshot(referral)
    response = client.post(
        f"/inbound/referrals/{referral.id}/step", data=step_form(referral, S.BOOKED, **changes)
    )
    assert response.status_code == 422
    assert field_message in response.get_data(as_text=True)
    assert snapshot(referral) == before


def test_a_place_loses_control_characters(client, make, world):
    referral = new_referral(make, world)
    sign_in_as(client, world.partner_user)
    data = step_form(referral, S.BOOKED, place="Rum\u202e 4\n\tplan 2")
    assert client.post(f"/inbound/referrals/{referral.id}/step", data=data).status_code == 303
    db.session.refresh(referral)
    assert referral.appointment_place == "Rum 4 plan 2"


@pytest.mark.parametrize("reason", ["", "moved_away"])
def test_a_decline_without_a_listed_reason_is_422(client, make, world, reason):
    referral = new_referral(make, world)
    sign_in_as(client, world.partner_user)
    response = client.post(
        f"/inbound/referrals/{referral.id}/step",
        data=step_form(referral, S.DECLINED, reason=reason),
    )
    assert response.status_code == 422
    db.session.refresh(referral)
    assert referral.status == ReferralStatus.NEW


def test_an_unknown_step_is_422_and_a_missing_version_400(client, make, world):
    referral = new_referral(make, world)
    sign_in_as(client, world.partner_user)
    url = f"/inbound/referrals/{referral.id}/step"
    assert client.post(url, data={"step": "closed", "version": referral.version}).status_code == 422
    assert client.post(url, data={"step": S.RECEIVED}).status_code == 400


# ---------------------------------------------------------------- conflicts


def test_a_stale_version_is_409_and_overwrites_nothing(client, make, world):
    referral = new_referral(make, world)
    stale = step_form(referral, S.DECLINED)
    at_step(referral, S.CONTACTED, world.partner_user)  # someone else, meanwhile
    sign_in_as(client, world.partner_user)
    before = snapshot(referral)
    response = client.post(f"/inbound/referrals/{referral.id}/step", data=stale)
    assert response.status_code == 409
    assert "Någon annan hann ändra hänvisningen." in response.get_data(as_text=True)
    assert snapshot(referral) == before


# ---------------------------------------------------------------- overdue for acknowledgement


def test_the_ack_deadline_skips_christmas_and_the_weekend(make, world):
    # Made on Wednesday 23 December 2026: 24, 25, 26 December are holidays (Christmas Eve
    # counted as one), 27 a Sunday; three working days later is Tuesday 29 December.
    assert world.org.partner_ack_working_days == 3
    referral = new_referral(make, world)
    referral.ack_due_date = add_working_days(date(2026, 12, 23), 3)
    db.session.commit()
    assert referral.ack_due_date == date(2026, 12, 30)

    def in_sql(today):
        return (
            db.session.scalar(
                select(Referral.id).where(Referral.id == referral.id, ack_overdue_clause(today))
            )
            is not None
        )

    for today, overdue in [
        (date(2026, 12, 24), False),
        (date(2026, 12, 28), False),
        (date(2026, 12, 30), False),  # due today: not yet late
        (date(2026, 12, 31), True),
    ]:
        assert is_ack_overdue(referral, today) is overdue, today
        assert in_sql(today) is overdue, today


def test_overdue_only_while_unacknowledged_open_and_received_by_an_active_partner(make, world):
    late = date(2030, 1, 1)
    referral = new_referral(make, world)
    other = new_referral(make, world, service=world.y)  # nobody receives service Y

    def both(r):
        python = is_ack_overdue(r, late)
        sql = db.session.scalar(
            select(Referral.id).where(Referral.id == r.id, ack_overdue_clause(late))
        )
        assert python is (sql is not None)
        return python

    assert both(referral) and not both(other)
    world.partner.is_active = False
    db.session.commit()
    assert not both(referral)
    world.partner.is_active = True
    record_step(referral, S.RECEIVED, by=world.partner_user)
    db.session.commit()
    assert not both(referral)
    second = new_referral(make, world)
    second.close(Outcome.DECLINED, by_id=world.staff.id, at=utcnow())
    db.session.commit()
    assert not both(second)


def test_the_overdue_tab_lists_and_counts_the_late_ones(client, make, world):
    late = new_referral(make, world)
    late.ack_due_date = local_today() - timedelta(days=1)
    on_time = new_referral(make, world)
    db.session.commit()
    sign_in_as(client, world.partner_user)
    page = client.get("/inbound/?tab=overdue").get_data(as_text=True)
    assert f'/inbound/referrals/{late.id}"' in page
    assert f'/inbound/referrals/{on_time.id}"' not in page
    assert "Ej kvitterad i tid" in page


# ---------------------------------------------------------------- the list and the page


def test_the_list_shows_tabs_with_counts_and_no_contact_details(client, make, world):
    first = new_referral(make, world, first_name="Amina", language="so", interpreter_needed=True)
    second = new_referral(make, world)
    at_step(second, S.RECEIVED, world.partner_user)
    sign_in_as(client, world.partner_user)
    page = client.get("/inbound/").get_data(as_text=True)
    assert f'/inbound/referrals/{first.id}"' in page
    assert f'/inbound/referrals/{second.id}"' not in page  # received: in progress
    assert "Amina" not in page and "+46701234567" not in page
    assert "SFI" in page and world.site.name in page
    from app.partners.queries import tab_counts

    counts = {c.tab: c.total for c in tab_counts(world.partner_user, local_today())}
    assert counts == {"new": 1, "in_progress": 1, "overdue": 0, "closed": 0}
    progress = client.get("/inbound/?tab=in_progress").get_data(as_text=True)
    assert f'/inbound/referrals/{second.id}"' in progress


def test_the_referral_page_shows_what_the_partner_needs_and_audits_the_read(client, make, world):
    referral = new_referral(make, world, first_name="Amina", email="amina@example.test")
    coordinator = make.user(
        world.org, role=Role.COORDINATOR, services=[world.x], name="Kalle Koordinator"
    )
    from app.queue import workflow as queue

    queue.change_status(referral, ReferralStatus.CONTACTED, by=coordinator)
    db.session.commit()
    sign_in_as(client, world.partner_user)
    page = client.get(f"/inbound/referrals/{referral.id}").get_data(as_text=True)
    assert "Amina" in page and "+46701234567" in page and "amina@example.test" in page
    assert "Kalle" not in page and "Stina" not in page  # staff names never shown
    reads = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "partner_contact_read")
    ).all()
    assert [(e.object_id, e.user_id) for e in reads] == [
        (referral.consent_id, world.partner_user.id)
    ]


def test_a_step_is_audited_with_codes_only(client, make, world):
    referral = new_referral(make, world)
    sign_in_as(client, world.partner_user)
    client.post(
        f"/inbound/referrals/{referral.id}/step",
        data=step_form(referral, S.DECLINED, reason=DeclineReason.NO_PLACE),
    )
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "partner_step"))
    assert (event.object_id, event.user_id) == (referral.id, world.partner_user.id)
    assert "no_place" in str(event.detail) and "declined" in str(event.detail)


# ---------------------------------------------------------------- scope


def test_out_of_scope_referrals_are_404(client, make, world):
    other_service = new_referral(make, world, service=world.y)
    other_org = make.org()
    other_site = make.site(other_org)
    other_x = make.service(other_org, slug="sfi")
    other_staff = make.user(other_org, sites=[other_site])
    foreign = make.referral_consent(other_site, [other_x], other_staff).referrals[0]
    withdrawn = new_referral(make, world)
    withdrawn.consent.withdrawn_at = utcnow()
    erased = new_referral(make, world)
    erased.consent.erased_at = utcnow()
    db.session.commit()
    sign_in_as(client, world.partner_user)
    for r in (other_service, foreign, withdrawn, erased):
        assert client.get(f"/inbound/referrals/{r.id}").status_code == 404
        data = step_form(r, S.RECEIVED)
        assert client.post(f"/inbound/referrals/{r.id}/step", data=data).status_code == 404
        db.session.refresh(r)
        assert r.partner_step is None
    page = client.get("/inbound/").get_data(as_text=True)
    assert all(f'/inbound/referrals/{r.id}"' not in page for r in (other_service, foreign))


@pytest.mark.parametrize("path", ["/queue/", "/stats/", "/visits/", "/admin/"])
def test_a_partner_cannot_open_staff_pages(client, world, path):
    sign_in_as(client, world.partner_user)
    assert client.get(path, follow_redirects=True).status_code in (403, 404)


def test_a_partner_sees_only_the_inbound_queue_in_the_menu(client, world):
    sign_in_as(client, world.partner_user)
    page = client.get("/inbound/").get_data(as_text=True)
    nav = page[page.index('class="mainnav"') : page.index("</nav>")]
    assert "/inbound/" in nav
    for other in ("/queue/", "/stats/", "/visits", "/kiosk", "/admin/"):
        assert other not in nav


def test_staff_cannot_open_the_inbound_queue(client, world):
    sign_in_as(client, world.staff)
    assert client.get("/inbound/").status_code == 403


# ---------------------------------------------------------------- the coordinators' side


def test_a_step_moves_the_referral_in_the_queue_and_counts_in_the_statistics(client, make, world):
    referral = new_referral(make, world)
    coordinator = make.user(world.org, role=Role.COORDINATOR, services=[world.x])
    sign_in_as(client, world.partner_user)
    client.post(
        f"/inbound/referrals/{referral.id}/step",
        data=step_form(referral, S.DECLINED, reason=DeclineReason.NO_PLACE),
    )
    sign_in_as(client, coordinator)
    closed = client.get(f"/queue/services/{world.x.id}?tab=closed").get_data(as_text=True)
    assert f"/queue/referrals/{referral.id}" in closed
    today = local_today()
    figures, *_ = referral_counts(
        Filters(
            world.org.id,
            (world.site.id,),
            Period(PeriodKind.YEAR, today - timedelta(days=365), today + timedelta(days=1)),
        ),
        Bucket.MONTH,
    )
    assert figures["outcome_no_place"] == 1
    assert figures["status_closed"] == 1


def test_workflow_error_is_the_queues(make, world):
    referral = new_referral(make, world)
    at_step(referral, S.DECLINED, world.partner_user)
    from app.queue.workflow import WorkflowError

    with pytest.raises(WorkflowError):
        workflow.record_step(referral, S.RECEIVED, by=world.partner_user)


@pytest.mark.parametrize("locale", ["ar", "so", "uk"])  # English labels are the words
def test_pages_show_labels_not_codes(client, make, world, locale):
    booked = new_referral(make, world)
    at_step(booked, S.BOOKED, world.partner_user)
    declined = new_referral(make, world)
    record_step(declined, S.DECLINED, by=world.partner_user, reason=DeclineReason.NO_PLACE)
    world.partner_user.locale = locale
    db.session.commit()
    sign_in_as(client, world.partner_user)
    pages = [
        client.get(url).get_data(as_text=True)
        for url in (
            "/inbound/?tab=in_progress",
            "/inbound/?tab=closed",
            f"/inbound/referrals/{booked.id}",
            f"/inbound/referrals/{declined.id}",
        )
    ]
    codes = {"booked", "declined", "no_place", "in_progress", "closed", "started", "partner"}
    for html in pages:
        text = " ".join(part.split(">", 1)[-1] for part in html.split("<"))
        assert not {word for word in codes if f" {word} " in f" {text} "}


def test_htmx_gets_the_working_part_alone(client, make, world):
    referral = new_referral(make, world)
    sign_in_as(client, world.partner_user)
    response = client.post(
        f"/inbound/referrals/{referral.id}/step",
        data=step_form(referral, S.RECEIVED),
        headers={"HX-Request": "true"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="inbound-work"' in html
    assert "<html" not in html and "+46701234567" not in html


def test_withdrawal_erases_the_booked_time_and_place_and_the_partner_loses_sight(
    client, make, world
):
    """Erasure covers the receiving side: her booked time and place go with her contact
    details, and the partner's pages no longer find the referral."""
    from app import privacy

    referral = new_referral(make, world)
    record_step(referral, S.BOOKED, by=world.partner_user, **step_args(S.BOOKED))
    db.session.commit()
    privacy.withdraw(referral.consent, by=world.staff)
    db.session.expire_all()
    kept = db.session.get(Referral, referral.id)
    assert (kept.appointment_at, kept.appointment_place) == (None, None)
    assert (kept.status, kept.outcome) == (ReferralStatus.CLOSED, Outcome.WITHDRAWN)
    sign_in_as(client, world.partner_user)
    assert client.get(f"/inbound/referrals/{referral.id}").status_code == 404
    assert "Skolgatan 1" not in client.get("/inbound/?tab=closed").get_data(as_text=True)
