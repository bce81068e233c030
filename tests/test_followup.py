"""Follow-ups (issue 20): planned when a referral closes as started, at the organisation's
intervals in calendar months moved to the next working day; a coded result recorded once,
refused after withdrawal or for a referral that never started; a new referral in one step
after an interruption; scoped like the queue; listed in the queue's own tab; and anonymous
rows that outlive the contact details."""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select

from app import privacy
from app.choices import (
    ConsentPurpose,
    FollowUpResult,
    FollowUpStatus,
    InterruptionReason,
    Outcome,
    ReferralStatus,
    Role,
)
from app.extensions import db
from app.followup import records
from app.models import (
    AuditEvent,
    ContactDetails,
    FollowUp,
    Organisation,
    Referral,
    ReferralEvent,
    utcnow,
)
from app.workdays import is_working_day, local_today

R = FollowUpResult
HX = {"HX-Request": "true"}


@dataclass
class World:
    org: object
    site: object
    service: object
    staff: object
    coordinator: object
    text: object


@pytest.fixture
def world(make):
    org = make.org()
    site = make.site(org)
    service = make.service(org, slug="sfi")
    staff = make.user(org, sites=[site])
    coordinator = make.user(org, role=Role.COORDINATOR, services=[service], name="Sara Samordnare")
    return World(org, site, service, staff, coordinator, make.consent_text(org))


def refer(make, w: World, **kw) -> Referral:
    consent = make.referral_consent(w.site, [w.service], by=w.staff, consent_text=w.text, **kw)
    return consent.referrals[0]


def close(referral: Referral, outcome=Outcome.STARTED, at: datetime | None = None) -> Referral:
    referral.close(outcome, by_id=None, at=at or utcnow())
    db.session.commit()
    return referral


def follow_ups_of(referral_id: int) -> list[FollowUp]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(FollowUp).where(FollowUp.referral_id == referral_id).order_by(FollowUp.months)
        )
    )


def fresh(follow_up_id: int) -> FollowUp:
    db.session.expire_all()
    return db.session.get(FollowUp, follow_up_id)


def post_result(client, follow_up, **data):
    data.setdefault("version", follow_up.version)
    return client.post(f"/queue/follow-ups/{follow_up.id}", data=data)


def state(follow_up_id: int) -> tuple:
    f = fresh(follow_up_id)
    return (f.status, f.result, f.sfi_level, f.reason_code, f.version, f.new_referral_id)


def referral_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Referral))


# ------------------------------------------------------------------ planning


def test_closing_as_started_in_the_queue_plans_three_six_and_twelve_months(
    client, make, login, world
):
    referral = refer(make, world)
    login(world.coordinator)
    response = client.post(
        f"/queue/referrals/{referral.id}/status",
        data={"version": referral.version, "to_status": "closed", "outcome": "started"},
    )
    assert response.status_code == 303
    planned = follow_ups_of(referral.id)
    assert [f.months for f in planned] == [3, 6, 12]
    today = local_today()
    for f in planned:
        nominal = today + relativedelta(months=f.months)
        # On the nominal date, or the first working day after it (at most a long Easter away).
        assert nominal <= f.due_date <= nominal + timedelta(days=5)
        assert is_working_day(f.due_date)
        assert all(
            not is_working_day(nominal + timedelta(days=n))
            for n in range((f.due_date - nominal).days)
        )
        assert (f.organisation_id, f.service_id, f.site_id) == (
            world.org.id,
            world.service.id,
            world.site.id,
        )
        assert (f.status, f.result, f.recorded_at) == (FollowUpStatus.OPEN, None, None)


@pytest.mark.parametrize(
    "closed_on,months,expected",
    [
        (date(2026, 3, 31), 3, date(2026, 6, 30)),  # a Tuesday: stays
        (date(2026, 9, 24), 3, date(2026, 12, 28)),  # Christmas Eve, Day, Boxing Day, a weekend
        (date(2026, 3, 19), 3, date(2026, 6, 22)),  # Midsummer Eve, Midsummer Day, Sunday
        (date(2026, 8, 31), 6, date(2027, 3, 1)),  # 28 February 2027 is a Sunday
        (date(2027, 8, 31), 6, date(2028, 2, 29)),  # a leap year's last day of February
        (date(2026, 1, 2), 12, date(2027, 1, 4)),  # 2 January 2027 is a Saturday
    ],
)
def test_the_due_date_is_calendar_months_later_moved_to_the_next_working_day(
    make, world, closed_on, months, expected
):
    world.org.follow_up_months = str(months)
    referral = close(refer(make, world))
    records.plan(referral, closed_on=closed_on)
    db.session.commit()
    assert [(f.months, f.due_date) for f in follow_ups_of(referral.id)] == [(months, expected)]


def test_the_close_counts_from_its_date_in_sweden_not_in_utc(make, world):
    # 23:30 UTC on 18 March is half past midnight on 19 March in Stockholm: three months
    # after the 19th is Midsummer Eve, so the follow-up moves to Monday 22 June.
    referral = close(refer(make, world), at=datetime(2026, 3, 18, 23, 30))
    records.plan(referral)
    db.session.commit()
    assert [(f.months, f.due_date) for f in follow_ups_of(referral.id)][0] == (
        3,
        date(2026, 6, 22),
    )


def test_the_organisations_own_intervals_are_used(client, make, login, world):
    world.org.follow_up_months = "1, 12,24"
    db.session.commit()
    referral = refer(make, world)
    login(world.coordinator)
    client.post(
        f"/queue/referrals/{referral.id}/status",
        data={"version": referral.version, "to_status": "closed", "outcome": "started"},
    )
    assert [f.months for f in follow_ups_of(referral.id)] == [1, 12, 24]


def test_a_setting_written_past_the_form_falls_back_to_the_defaults(make, world):
    """The settings form refuses what `parse_months` refuses; a value written some other way
    must not fail a close, nor plan a follow-up ten years out."""
    world.org.follow_up_months = "12, 1,120"
    assert records.intervals(world.org) == [3, 6, 12]
    assert records.parse_months("3, 6,12") == [3, 6, 12]
    assert records.parse_months("6,3") is None and records.parse_months("37") is None


def test_planning_twice_adds_nothing(make, world):
    referral = close(refer(make, world))
    first = records.plan(referral, closed_on=date(2026, 3, 31))
    db.session.commit()
    again = records.plan(referral, closed_on=date(2026, 3, 31))
    db.session.commit()
    assert (len(first), again, len(follow_ups_of(referral.id))) == (3, [], 3)


@pytest.mark.parametrize("outcome", [Outcome.DECLINED, Outcome.UNREACHABLE, Outcome.NOT_ELIGIBLE])
def test_no_follow_ups_for_a_referral_that_did_not_start(client, make, login, world, outcome):
    referral = refer(make, world)
    login(world.coordinator)
    response = client.post(
        f"/queue/referrals/{referral.id}/status",
        data={"version": referral.version, "to_status": "closed", "outcome": outcome},
    )
    assert response.status_code == 303
    assert db.session.get(Referral, referral.id).outcome == outcome
    assert follow_ups_of(referral.id) == []
    assert records.plan(db.session.get(Referral, referral.id)) == []


def test_no_follow_ups_when_consent_is_withdrawn(make, world):
    referral = refer(make, world)
    privacy.withdraw(referral.consent, by=world.staff)
    assert follow_ups_of(referral.id) == []


# ------------------------------------------------------------------ recording


RESULTS = [
    (R.STILL_ACTIVE, {}),
    (R.COMPLETED, {}),
    (R.COMPLETED, {"sfi_level": "C"}),
    (R.INTERRUPTED, {"reason_code": InterruptionReason.HEALTH}),
    (R.IN_WORK, {}),
    (R.IN_STUDIES, {}),
    (R.IN_WORK_PLACEMENT, {}),
    (R.UNREACHABLE, {}),
]


@pytest.mark.parametrize("result,extra", RESULTS)
def test_each_coded_result_is_stored_once_with_who_and_when(
    client, make, login, world, result, extra
):
    follow_up = make.follow_up(refer(make, world))
    login(world.coordinator)
    response = post_result(client, follow_up, result=result, **extra)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"/queue/services/{world.service.id}?tab=follow_up"
    )
    f = fresh(follow_up.id)
    assert (f.status, f.result) == (FollowUpStatus.DONE, result)
    assert (f.sfi_level, f.reason_code) == (extra.get("sfi_level"), extra.get("reason_code"))
    assert f.recorded_by_id == world.coordinator.id
    assert f.recorded_at is not None and f.new_referral_id is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "follow_up_recorded"))
    assert (event.object_type, event.object_id, event.user_id) == (
        "follow_up",
        follow_up.id,
        world.coordinator.id,
    )
    assert event.detail["result"] == result
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Uppföljningen är sparad." in page


@pytest.mark.parametrize(
    "data,field,message",
    [
        ({"result": R.INTERRUPTED}, "reason_code", "Välj varför hon avbröt."),
        (
            {"result": R.IN_WORK, "reason_code": InterruptionReason.MOVED},
            "reason_code",
            "En orsak anges bara när hon har avbrutit.",
        ),
        (
            {"result": R.STILL_ACTIVE, "sfi_level": "B"},
            "sfi_level",
            "Kursen anges bara när hon har gått klart.",
        ),
        ({"result": R.COMPLETED, "sfi_level": "E"}, "sfi_level", "Välj en kurs i listan."),
        (
            {"result": R.INTERRUPTED, "reason_code": "religion"},
            "reason_code",
            "Välj en orsak i listan.",
        ),
        ({"result": "married"}, "result", "Välj ett resultat."),
        ({}, "result", "Välj ett resultat."),
        (
            {"result": R.IN_STUDIES, "re_refer": "y"},
            "re_refer",
            "En ny hänvisning görs bara efter ett avbrott.",
        ),
    ],
)
def test_a_result_that_does_not_hang_together_is_refused_beside_its_field(
    client, make, login, world, data, field, message
):
    follow_up = make.follow_up(refer(make, world))
    before = state(follow_up.id)
    count = referral_count()
    login(world.coordinator)
    response = post_result(client, follow_up, **data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'<ul class="field-errors" id="{field}-error"><li>{message}</li></ul>' in page
    assert state(follow_up.id) == before
    assert referral_count() == count


def test_the_write_refuses_what_the_form_refuses(make, world):
    follow_up = make.follow_up(refer(make, world))
    with pytest.raises(records.FollowUpInvalid) as refused:
        records.record(follow_up, result=R.INTERRUPTED, by=world.coordinator)
    assert refused.value.field == "reason_code"
    with pytest.raises(records.FollowUpInvalid):
        records.record(
            follow_up, result=R.IN_WORK, reason_code=InterruptionReason.WORK, by=world.coordinator
        )
    db.session.rollback()
    assert state(follow_up.id)[:2] == (FollowUpStatus.OPEN, None)


def test_recording_twice_is_a_conflict_and_the_first_result_stands(client, make, login, world):
    follow_up = make.follow_up(refer(make, world))
    login(world.coordinator)
    assert post_result(client, follow_up, result=R.IN_WORK).status_code == 303
    after_first = state(follow_up.id)
    # The same form again (its version is now old), and a fresh one with the current version.
    stale = post_result(client, follow_up, version=1, result=R.IN_STUDIES)
    assert stale.status_code == 409
    assert "Någon annan hann ändra uppföljningen." in stale.get_data(as_text=True)
    current = post_result(client, follow_up, version=after_first[4], result=R.IN_STUDIES)
    assert current.status_code == 409
    assert "Uppföljningen är redan gjord. Resultatet ändras inte." in current.get_data(as_text=True)
    assert state(follow_up.id) == after_first
    recorded = select(func.count()).where(AuditEvent.action == "follow_up_recorded")
    assert db.session.scalar(recorded) == 1


def test_a_result_on_an_out_of_date_form_overwrites_nothing(client, make, login, world):
    follow_up = make.follow_up(refer(make, world))
    follow_up.due_date = local_today() + timedelta(days=1)  # someone else's change: version 2
    db.session.commit()
    before = state(follow_up.id)
    login(world.coordinator)
    response = post_result(client, follow_up, version=1, result=R.IN_WORK)
    assert response.status_code == 409
    assert state(follow_up.id) == before


def test_a_cancelled_follow_up_is_refused(client, make, login, world):
    follow_up = make.follow_up(refer(make, world), status=FollowUpStatus.CANCELLED)
    before = state(follow_up.id)
    login(world.coordinator)
    response = post_result(client, follow_up, result=R.IN_WORK)
    assert response.status_code == 409
    assert "Samtycket är återkallat, så uppföljningen är inställd." in response.get_data(
        as_text=True
    )
    assert state(follow_up.id) == before


def test_a_follow_up_after_withdrawal_is_refused(client, make, login, world):
    referral = refer(make, world)
    follow_up = make.follow_up(referral)
    privacy.withdraw(referral.consent, by=world.staff)
    login(world.coordinator)
    response = post_result(client, fresh(follow_up.id), result=R.IN_WORK)
    assert response.status_code == 409
    f = fresh(follow_up.id)
    assert (f.result, f.recorded_at) == (None, None)
    assert f.status in (FollowUpStatus.OPEN, FollowUpStatus.CANCELLED)


def test_a_result_for_a_referral_that_never_started_is_refused(client, make, login, world):
    referral = close(refer(make, world), Outcome.DECLINED)
    follow_up = make.follow_up(referral)  # not planned by the app: a stray row
    login(world.coordinator)
    response = post_result(client, follow_up, result=R.IN_WORK)
    assert response.status_code == 409
    assert "Hänvisningen ledde inte till en start." in response.get_data(as_text=True)
    assert state(follow_up.id)[:2] == (FollowUpStatus.OPEN, None)
    with pytest.raises(records.FollowUpRefused):
        records.record(fresh(follow_up.id), result=R.IN_WORK, by=world.coordinator)


# ------------------------------------------------------------------ a new referral in one step


def test_an_interruption_makes_a_new_referral_on_the_same_consent(client, make, login, world):
    referral = refer(make, world, interpreter_needed=True)
    referral.gender = "woman"
    db.session.commit()
    follow_up = make.follow_up(referral)
    version_before = db.session.get(Organisation, world.org.id).stats_version
    login(world.coordinator)
    response = post_result(
        client,
        follow_up,
        result=R.INTERRUPTED,
        reason_code=InterruptionReason.PARENTAL_LEAVE,
        re_refer="y",
    )
    assert response.status_code == 303
    f = fresh(follow_up.id)
    new = db.session.get(Referral, f.new_referral_id)
    assert new is not None and new.id != referral.id
    assert (new.status, new.outcome) == (ReferralStatus.NEW, None)
    assert (new.consent_id, new.service_id, new.site_id, new.organisation_id) == (
        referral.consent_id,
        referral.service_id,
        referral.site_id,
        referral.organisation_id,
    )
    assert (new.language, new.interpreter_needed, new.gender) == ("ar", True, "woman")
    assert new.created_by_id == world.coordinator.id
    assert new.due_date > local_today() and new.follow_up_date == new.due_date
    kinds = db.session.scalars(
        select(ReferralEvent.kind).where(ReferralEvent.referral_id == new.id)
    ).all()
    assert kinds == ["created"]
    created = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "referral_created", AuditEvent.object_id == new.id
        )
    )
    assert created.user_id == world.coordinator.id
    assert db.session.get(Organisation, world.org.id).stats_version > version_before
    # It waits in the service's queue as a new referral.
    queue = client.get(f"/queue/services/{world.service.id}?tab=new").get_data(as_text=True)
    assert f'id="referral-{new.id}"' in queue


def test_no_new_referral_once_the_contact_details_are_erased(client, make, login, world):
    referral = close(refer(make, world), at=utcnow() - timedelta(days=60))
    follow_up = make.follow_up(referral)
    assert privacy.purge_expired()["erased"] == 1  # retention ended: details gone
    before = (state(follow_up.id), referral_count())
    login(world.coordinator)
    page = client.get(f"/queue/follow-ups/{follow_up.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "En ny hänvisning behöver ett nytt samtycke." in text
    assert f'href="/sites/{world.site.id}/referrals/new"' in text
    assert 'name="re_refer"' not in text
    response = post_result(
        client,
        follow_up,
        result=R.INTERRUPTED,
        reason_code=InterruptionReason.MOVED,
        re_refer="y",
    )
    assert response.status_code == 409
    assert "En ny hänvisning behöver ett nytt samtycke." in response.get_data(as_text=True)
    assert (state(follow_up.id), referral_count()) == before
    # Without the new referral the interruption itself is recorded.
    done = post_result(
        client, follow_up, result=R.INTERRUPTED, reason_code=InterruptionReason.MOVED
    )
    assert done.status_code == 303
    assert fresh(follow_up.id).reason_code == InterruptionReason.MOVED


def test_no_second_new_referral_while_one_is_open(client, make, login, world):
    referral = refer(make, world)
    six, twelve = make.follow_up(referral, months=6), make.follow_up(referral, months=12)
    login(world.coordinator)
    data = {"result": R.INTERRUPTED, "reason_code": InterruptionReason.HEALTH, "re_refer": "y"}
    assert post_result(client, six, **data).status_code == 303
    count = referral_count()
    assert post_result(client, twelve, **data).status_code == 409
    assert referral_count() == count
    assert fresh(twelve.id).status == FollowUpStatus.OPEN


# ------------------------------------------------------------------ the page and the contact


def test_the_page_shows_the_task_and_no_contact_without_the_follow_up_agreement(
    client, make, login, world
):
    referral = refer(make, world)
    make.follow_up(referral, months=3, status=FollowUpStatus.DONE, result=R.STILL_ACTIVE)
    follow_up = make.follow_up(referral, months=6, due_date=date(2026, 9, 30))
    login(world.coordinator)
    response = client.get(f"/queue/follow-ups/{follow_up.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Uppföljning efter 6 månader" in page
    assert "SFI" in page and world.site.name in page
    assert "30 sep. 2026" in page
    assert "Går kvar i SFI, SO eller tjänsten" in page  # the 3-month result
    assert (
        "Hon har inte sagt ja till att bli kontaktad igen. Fyll i det du vet från tjänsten." in page
    )
    assert f"/queue/referrals/{referral.id}/contact" not in page
    assert "Fatima" not in page
    for name in ("result", "sfi_level", "reason_code", "re_refer"):
        assert f'name="{name}"' in page
    assert '<label for="sfi_level">' in page and '<label for="reason_code">' in page


def test_with_the_follow_up_agreement_the_page_offers_the_audited_contact_reveal(
    client, make, login, world
):
    referral = refer(make, world)
    text = make.consent_text(world.org, version=2, purpose=ConsentPurpose.FOLLOW_UP)
    referral.consent.follow_up_text_id = text.id
    db.session.commit()
    follow_up = make.follow_up(referral)
    login(world.coordinator)
    page = client.get(f"/queue/follow-ups/{follow_up.id}").get_data(as_text=True)
    assert f'action="/queue/referrals/{referral.id}/contact"' in page
    assert "Hon har inte sagt ja" not in page
    assert "Fatima" not in page  # only after the explicit, audited request
    shown = client.post(f"/queue/referrals/{referral.id}/contact", headers=HX)
    assert "Fatima" in shown.get_data(as_text=True)
    reads = select(func.count()).where(AuditEvent.action == "contact_read")
    assert db.session.scalar(reads) == 1


# ------------------------------------------------------------------ scope and roles


def test_another_organisations_follow_up_is_not_found(app, make, login, world):
    other = make.org()
    other_site = make.site(other)
    other_service = make.service(other, slug="sfi-annan")
    other_staff = make.user(other, sites=[other_site])
    consent = make.referral_consent(other_site, [other_service], by=other_staff)
    theirs = make.follow_up(consent.referrals[0])
    admin = make.user(world.org, role=Role.ADMIN)
    for user in (world.coordinator, admin):
        client = app.test_client()
        login(user, c=client)
        assert client.get(f"/queue/follow-ups/{theirs.id}").status_code == 404
        assert post_result(client, theirs, result=R.IN_WORK).status_code == 404
    assert fresh(theirs.id).status == FollowUpStatus.OPEN


def test_a_coordinator_of_another_service_does_not_find_it(app, client, make, login, world):
    follow_up = make.follow_up(refer(make, world))
    so = make.service(world.org, slug="so")
    so_coordinator = make.user(world.org, role=Role.COORDINATOR, services=[so])
    login(so_coordinator)
    assert client.get(f"/queue/follow-ups/{follow_up.id}").status_code == 404
    assert post_result(client, follow_up, result=R.IN_WORK).status_code == 404
    assert client.get("/queue/follow-ups/999999").status_code == 404
    staff = app.test_client()
    login(world.staff, c=staff)
    assert staff.get(f"/queue/follow-ups/{follow_up.id}").status_code == 403
    assert fresh(follow_up.id).status == FollowUpStatus.OPEN


# ------------------------------------------------------------------ the queue's tab


def listed(page: str) -> list[int]:
    """The follow-ups a list shows, in its order."""
    return [int(i) for i in re.findall(r'<li class="queue-item[^"]*" id="follow-up-(\d+)"', page)]


def test_the_tab_lists_open_follow_ups_by_due_date_paginated(client, make, login, world):
    referral = refer(make, world)
    today = local_today()
    # 26 open ones, due from 30 days ago onwards in a shuffled order, and two that are not open.
    for n in range(26):
        make.follow_up(referral, months=n + 1, due_date=today + timedelta(days=(n * 7) % 26 - 10))
    make.follow_up(referral, months=40, due_date=today - timedelta(days=99), status="done")
    make.follow_up(referral, months=41, due_date=today - timedelta(days=98), status="cancelled")
    login(world.coordinator)
    first = client.get(f"/queue/services/{world.service.id}?tab=follow_up")
    assert first.status_code == 200
    page = first.get_data(as_text=True)
    assert "26 uppföljningar att göra" in page
    ids = listed(page)
    assert len(ids) == 25
    due = [fresh(i).due_date for i in ids]
    assert due == sorted(due)
    assert due[0] == today - timedelta(days=10)
    assert page.count("Försenad") >= 10
    assert 'aria-current="page"' in page.split('id="queue-count-follow_up"')[0].rsplit("<li", 1)[1]
    assert "6 månader" in page
    assert "Fyll i resultatet" in page
    second = client.get(f"/queue/services/{world.service.id}?tab=follow_up&page=2")
    rest = listed(second.get_data(as_text=True))
    assert len(rest) == 1 and fresh(rest[0]).due_date >= due[-1]
    # The tab's count: open ones and how many of them are overdue.
    count = page.split('id="queue-count-follow_up"')[1].split("</span>\n</span>")[0]
    assert "26" in count and "10 försenade" in count


def test_the_other_tabs_still_list_referrals(client, make, login, world):
    referral = refer(make, world)
    login(world.coordinator)
    page = client.get(f"/queue/services/{world.service.id}").get_data(as_text=True)
    assert f'id="referral-{referral.id}"' in page
    assert "Uppföljning" in page and 'id="queue-count-follow_up"' in page
    bogus = client.get(f"/queue/services/{world.service.id}?tab=nonsense")
    assert f'id="referral-{referral.id}"' in bogus.get_data(as_text=True)


def test_closing_as_started_from_the_list_updates_the_follow_up_count(client, make, login, world):
    referral = refer(make, world)
    login(world.coordinator)
    headers = {**HX, "HX-Current-URL": f"http://localhost/queue/services/{world.service.id}"}
    response = client.post(
        f"/queue/referrals/{referral.id}/status",
        data={"version": referral.version, "to_status": "closed", "outcome": "started"},
        headers=headers,
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    oob = page.split('id="queue-count-follow_up" data-hx-swap-oob="true">')[1].split("</span>")[0]
    assert oob.strip() == "3"


def test_the_today_page_lists_follow_ups_due_today_or_earlier(client, make, login, world):
    referral = refer(make, world)
    due = make.follow_up(referral, months=3, due_date=local_today())
    late = make.follow_up(referral, months=6, due_date=local_today() - timedelta(days=3))
    later = make.follow_up(referral, months=12, due_date=local_today() + timedelta(days=1))
    login(world.coordinator)
    page = client.get("/queue/today").get_data(as_text=True)
    assert page.index(f'id="follow-up-{late.id}"') < page.index(f'id="follow-up-{due.id}"')
    assert f'id="follow-up-{later.id}"' not in page


# ------------------------------------------------------------------ anonymous, it stays


def test_results_survive_withdrawal_and_the_erasure_of_contact_details(client, make, login, world):
    referral = refer(make, world)
    follow_up = make.follow_up(referral)
    login(world.coordinator)
    assert post_result(client, follow_up, result=R.COMPLETED, sfi_level="D").status_code == 303
    privacy.withdraw(db.session.get(Referral, referral.id).consent, by=world.staff)
    assert db.session.get(ContactDetails, referral.consent_id) is None
    f = fresh(follow_up.id)
    assert (f.status, f.result, f.sfi_level, f.referral_id) == (
        FollowUpStatus.DONE,
        R.COMPLETED,
        "D",
        referral.id,
    )


def test_results_survive_the_retention_purge(client, make, login, world):
    referral = close(refer(make, world), at=utcnow() - timedelta(days=400))
    follow_up = make.follow_up(referral)
    login(world.coordinator)
    assert post_result(client, follow_up, result=R.IN_WORK_PLACEMENT).status_code == 303
    privacy.purge_expired(utcnow() + timedelta(days=1000))
    assert db.session.get(ContactDetails, referral.consent_id) is None
    assert fresh(follow_up.id).result == R.IN_WORK_PLACEMENT
