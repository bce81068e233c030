"""Sample queue data for `flask seed-demo`: referrals in every status, some overdue, some with
failed contact attempts, so the queues show what they are for. Contact details are invented
(phone numbers from the range PTS reserves for fiction, 070-174 06 05 to 070-174 06 99)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from .. import privacy
from ..choices import (
    AttemptChannel,
    AttemptResult,
    ConsentMethod,
    ConsentTextStatus,
    Outcome,
    ReasonCode,
    Role,
    TranslationStatus,
)
from ..extensions import db
from ..models import ConsentText, Organisation, Service, ServiceTranslation, User, utcnow
from ..texts import published_text
from ..workdays import local_today
from . import workflow

# (slug, Swedish name) used only when the organisation has no services yet.
FALLBACK_SERVICES = (("sfi", "SFI – svenska för invandrare"), ("forskola", "Förskoleplats"))

# (first name, contact language, interpreter needed, what happens to the referral)
PEOPLE = (
    ("Amal", "ar", False, "new"),
    ("Hodan", "so", True, "new_overdue"),
    ("Zahra", "fa", True, "attempts"),
    ("Selam", "ti", True, "contacted"),
    ("Olena", "uk", False, "in_progress"),
    ("Nasrin", "ckb", False, "closed"),
    ("Layla", "ar", False, "new"),
    ("Ayaan", "so", False, "contacted_overdue"),
)


def _services(org: Organisation) -> list[Service]:
    services = list(
        db.session.scalars(
            select(Service).where(Service.organisation_id == org.id, Service.is_active)
        )
    )
    if services:
        return services
    for slug, name in FALLBACK_SERVICES:
        service = Service(organisation_id=org.id, slug=slug)
        service.translations.append(
            ServiceTranslation(locale="sv", name=name, status=TranslationStatus.REVIEWED)
        )
        db.session.add(service)
        services.append(service)
    db.session.flush()
    return services


def _consent_text(org: Organisation) -> ConsentText:
    text = published_text(org.id, "sv")
    if text is None:
        text = ConsentText(
            organisation_id=org.id,
            version=1,
            locale="sv",
            body="Jag samtycker till att mina kontaktuppgifter sparas och lämnas till tjänsten.",
            status=ConsentTextStatus.PUBLISHED,
            published_at=utcnow(),
        )
        db.session.add(text)
        db.session.flush()
    return text


def seed_queue_demo(org: Organisation) -> None:
    """Assign the demo coordinators to every service and fill the queues with referrals."""
    users = list(db.session.scalars(select(User).where(User.organisation_id == org.id)))
    coordinators = [u for u in users if u.role == Role.COORDINATOR]
    staff = next((u for u in users if u.role == Role.STAFF), None)
    if not coordinators or staff is None or not org.sites:
        return
    services = _services(org)
    for coordinator in coordinators:
        coordinator.services = list(services)
    text = _consent_text(org)
    coordinator = coordinators[0]
    past = local_today() - timedelta(days=2)
    for n, (name, language, interpreter, story) in enumerate(PEOPLE):
        consent = privacy.record_consent(
            site=org.sites[n % len(org.sites)],
            services=[services[n % len(services)]],
            consent_text=text,
            method=ConsentMethod.TABLET,
            contact=privacy.ContactInput(first_name=name, phone_e164=f"+467017406{n + 5:02d}"),
            language=language,
            interpreter_needed=interpreter,
            by=staff,
        )
        referral = consent.referrals[0]
        _play(referral, story, coordinator, past)
    db.session.flush()


def _play(referral, story: str, coordinator: User, past) -> None:
    """Move one demo referral along the workflow as a coordinator would."""
    if story != "new":
        workflow.assign(referral, coordinator, by=coordinator)
    if story.endswith("overdue"):
        referral.due_date = referral.follow_up_date = past
    if story == "attempts":
        for _ in range(3):
            workflow.log_attempt(
                referral,
                by=coordinator,
                channel=AttemptChannel.PHONE,
                result=AttemptResult.NO_ANSWER,
                on_date=local_today(),
            )
    if story.startswith("contacted") or story in ("in_progress", "closed"):
        workflow.log_attempt(
            referral,
            by=coordinator,
            channel=AttemptChannel.PHONE,
            result=AttemptResult.REACHED,
            on_date=local_today(),
        )
    if story == "contacted_overdue":
        referral.follow_up_date = past
    if story in ("in_progress", "closed"):
        workflow.change_status(
            referral, workflow.IN_PROGRESS, by=coordinator, reason_code=ReasonCode.BOOKED
        )
    if story == "closed":
        workflow.change_status(referral, workflow.CLOSED, by=coordinator, outcome=Outcome.STARTED)
