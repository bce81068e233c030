"""The demo (`flask seed-demo`) shows what happened afterwards (issue 20): two projects with
targets, follow-ups with coded results where due, target-group facts and follow-up consents."""

from datetime import timedelta

from sqlalchemy import func, select

from app import privacy
from app.admin.commands import create_demo
from app.choices import FollowUpResult, FollowUpStatus, Funder, Gender, Outcome
from app.extensions import db
from app.followup.records import due_date, local_close_date
from app.models import Consent, FollowUp, Project, Referral
from app.workdays import local_today


def test_the_demo_has_two_projects_and_follow_up_results(app):
    create_demo()
    projects = db.session.scalars(select(Project).order_by(Project.id)).all()
    assert [p.funder for p in projects] == [Funder.LANSSTYRELSEN_37A, Funder.SKR]
    road, parents = projects
    assert road.name.startswith("Vägen till arbete") and parents.name == "Föräldrar i Sverige"
    assert len(road.sites) == 2 and road.services and road.activities and road.targets
    assert road.starts_on <= local_today() <= road.ends_on
    assert {t.gender for t in road.targets} >= {None, Gender.WOMAN, Gender.MAN}
    assert any(t.service_id for t in parents.targets)

    done = db.session.scalars(select(FollowUp).where(FollowUp.status == FollowUpStatus.DONE)).all()
    results = {f.result for f in done}
    assert {FollowUpResult.STILL_ACTIVE, FollowUpResult.INTERRUPTED} <= results
    assert {FollowUpResult.IN_WORK, FollowUpResult.COMPLETED} <= results
    assert all(f.due_date <= local_today() for f in done)
    assert db.session.scalar(
        select(func.count()).where(FollowUp.months == 12, FollowUp.result.is_not(None))
    )
    # Every start has its three follow-ups, on the app's own dates.
    started = db.session.scalars(select(Referral).where(Referral.outcome == Outcome.STARTED)).all()
    assert len(started) > 20
    for referral in started:
        planned = db.session.scalars(
            select(FollowUp).where(FollowUp.referral_id == referral.id)
        ).all()
        closed_on = local_close_date(referral)
        assert sorted((f.months, f.due_date) for f in planned) == [
            (m, due_date(closed_on, m)) for m in (3, 6, 12)
        ]

    # Facts on every referral, mostly women; some consents agree to the follow-up.
    genders = db.session.scalars(select(Referral.gender)).all()
    assert None not in genders and genders.count(Gender.WOMAN) > 0.8 * len(genders)
    agreed = db.session.scalars(select(Consent).where(Consent.follow_up_text_id.is_not(None))).all()
    assert agreed and all(c.follow_up_text.purpose == "follow_up" for c in agreed)
    # Earlier visitors' contact details are gone, unless a follow-up agreement keeps them.
    earlier = [
        r.consent_id for r in started if r.closed_at.date() < local_today() - timedelta(days=60)
    ]
    kept = privacy.has_contact_details(earlier)
    assert kept and kept < set(earlier)
    for consent_id in kept:
        assert db.session.get(Consent, consent_id).follow_up_text_id is not None
