"""The demo (`flask seed-demo`) has receiving services (issue 21): SFI Centrum with a user who
signs in as a partner, and referrals it has already worked, so its inbound queue shows them."""

from sqlalchemy import select

from app.admin.commands import create_demo
from app.choices import PartnerKind, PartnerStep, ReferralStatus, Role
from app.extensions import db
from app.models import Partner, User
from app.partners.demo import DEMO_PARTNER_EMAIL
from app.scope import partner_referrals_query


def test_the_demo_seeds_partners_a_partner_user_and_worked_referrals(app):
    logins = {role: email for role, email, _password in create_demo()}
    assert logins[Role.PARTNER] == DEMO_PARTNER_EMAIL

    partners = {p.name: p for p in db.session.scalars(select(Partner))}
    assert {p.kind for p in partners.values()} == {PartnerKind.SCHOOL, PartnerKind.STATE_AGENCY}
    assert [s.slug for s in partners["SFI Centrum"].services] == ["sfi"]
    assert [s.slug for s in partners["Arbetsförmedlingen, lokalt kontor"].services] == [
        "employment"
    ]
    assert all(p.phone.startswith("08-465 004") for p in partners.values())

    user = db.session.scalar(select(User).where(User.email == DEMO_PARTNER_EMAIL))
    assert user.role == Role.PARTNER and user.partner.name == "SFI Centrum"
    assert user.totp_secret is None  # the first sign-in enrols in two-factor

    # What the partner sees: only SFI, some already received, contacted and booked.
    inbound = db.session.scalars(partner_referrals_query(user)).all()
    assert inbound and {r.service.slug for r in inbound} == {"sfi"}
    steps = {r.partner_step for r in inbound}
    assert {PartnerStep.RECEIVED, PartnerStep.CONTACTED, PartnerStep.BOOKED} <= steps
    booked = next(r for r in inbound if r.partner_step == PartnerStep.BOOKED)
    assert booked.appointment_at and booked.appointment_place
    assert booked.status == ReferralStatus.IN_PROGRESS
    assert all(r.received_at for r in inbound if r.partner_step)
