"""Sample data of the partners area for `flask seed-demo`: two receiving services and the
referrals one of them has already worked, so its inbound queue shows every kind of row.

"SFI Centrum" (a school) receives the SFI referrals and has a demo user; the employment
service's local office (a state agency) receives the employment referrals. Their phones are
from the range PTS keeps for fiction (08-465 004 00 to 08-465 004 99), like the rest of the
demo, and so are the visitors' (070-174 06 05 to 070-174 06 99). The visitors chose no message
channel: seeding sends nothing, and needs no outbox.

`seed_demo_partners` runs after the core services; the partner's user is made by the demo's
own helper (app.admin.commands, which prints its login); `seed_demo_inbound` runs after it and
after the consent texts."""

from __future__ import annotations

from datetime import time

from sqlalchemy import select

from .. import privacy
from ..choices import (
    ConsentMethod,
    Gender,
    PartnerKind,
    PartnerStep,
    Role,
)
from ..extensions import db
from ..models import Organisation, Partner, Service, Site, User
from ..texts import published_text
from ..workdays import add_working_days, local_today
from . import workflow

DEMO_PARTNER_EMAIL = "sfi@demo.test"
DEMO_PARTNER_NAME = "Lina (SFI Centrum)"
SFI_CENTRUM = "SFI Centrum"

# (name, kind, phone, the service slugs it receives)
PARTNERS = (
    (SFI_CENTRUM, PartnerKind.SCHOOL, "08-465 004 32", ("sfi",)),
    (
        "Arbetsförmedlingen, lokalt kontor",
        PartnerKind.STATE_AGENCY,
        "08-465 004 51",
        ("employment",),
    ),
)

# Referrals to SFI the school has worked: (first name, contact language, its last step).
INBOUND = (
    ("Fadumo", "so", PartnerStep.RECEIVED),
    ("Mariam", "ar", PartnerStep.CONTACTED),
    ("Hiwet", "ti", PartnerStep.BOOKED),
)
BOOKED_AT = time(10, 0)
BOOKED_PLACE = "SFI Centrum, Lärdomsvägen 5"


def seed_demo_partners(org: Organisation) -> Partner:
    """The demo's receiving services, linked to its services; returns SFI Centrum, whose user
    the caller makes."""
    services = {
        s.slug: s
        for s in db.session.scalars(select(Service).where(Service.organisation_id == org.id))
    }
    partners = []
    for name, kind, phone, slugs in PARTNERS:
        partner = Partner(organisation_id=org.id, name=name, kind=kind, phone=phone)
        partner.services = [services[slug] for slug in slugs if slug in services]
        db.session.add(partner)
        partners.append(partner)
    db.session.flush()
    return partners[0]


def seed_demo_inbound(org: Organisation) -> None:
    """Referrals to SFI made at the first open preschool, each moved by SFI Centrum's user to
    a step (received, contacted, a time booked next week) through the partners' workflow."""
    partner_user = db.session.scalar(
        select(User).where(User.organisation_id == org.id, User.email == DEMO_PARTNER_EMAIL)
    )
    staff = db.session.scalar(
        select(User).where(User.organisation_id == org.id, User.role == Role.STAFF)
    )
    site = db.session.scalar(select(Site).where(Site.organisation_id == org.id).order_by(Site.id))
    sfi = db.session.scalar(
        select(Service).where(Service.organisation_id == org.id, Service.slug == "sfi")
    )
    text = published_text(org.id, "sv")
    if None in (partner_user, staff, site, sfi, text):
        return
    booked_on = add_working_days(local_today(), 5)  # a working day next week
    for n, (name, language, step) in enumerate(INBOUND):
        consent = privacy.record_consent(
            site=site,
            services=[sfi],
            consent_text=text,
            method=ConsentMethod.TABLET,
            contact=privacy.ContactInput(first_name=name, phone_e164=f"+467017406{n + 80:02d}"),
            language=language,
            interpreter_needed=language != "ar",
            by=staff,
            facts=privacy.TargetFacts(gender=Gender.WOMAN, has_child_0_6=True),
        )
        referral = consent.referrals[0]
        if step == PartnerStep.BOOKED:
            workflow.record_step(
                referral, step, by=partner_user, day=booked_on, at=BOOKED_AT, place=BOOKED_PLACE
            )
        else:
            workflow.record_step(referral, step, by=partner_user)
    db.session.flush()
