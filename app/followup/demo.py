"""Sample follow-ups for `flask seed-demo` (area: followup): what happened afterwards.

The queue's demo referrals get target-group facts, and some of their consents the follow-up
agreement. Twenty earlier visitors (invented, phone numbers from the range PTS reserves for
fiction) were referred and started between a month and fourteen months ago: their follow-ups
are planned as a close plans them (3, 6 and 12 months, the next working day), and those due
have a coded result that fits the service, so the follow-up tab, the statistics and the
project report have something to show. Their contact details then go as the daily purge
takes them: at once for most, kept for a follow-up agreement with a follow-up still to come.
Run after the queue's demo and the follow-up texts."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select

from .. import privacy
from ..choices import (
    AttemptChannel,
    AttemptResult,
    ConsentMethod,
    ConsentPurpose,
    ConsentTextStatus,
    FollowUpResult,
    FollowUpStatus,
    Gender,
    InterruptionReason,
    Outcome,
    ReferralStatus,
    Role,
)
from ..extensions import db
from ..models import (
    Consent,
    ConsentText,
    FollowUp,
    Organisation,
    Referral,
    ReferralEvent,
    Service,
    User,
    utcnow,
)
from ..workdays import add_working_days, local_today
from . import records

R = FollowUpResult
# Results at 3, 6 and 12 months that fit each kind of service, taken in turn.
PATHS = {
    "sfi": [
        (R.STILL_ACTIVE, R.STILL_ACTIVE, R.COMPLETED),
        (R.STILL_ACTIVE, R.INTERRUPTED, R.INTERRUPTED),
        (R.STILL_ACTIVE, R.COMPLETED, R.IN_WORK),
        (R.INTERRUPTED, R.STILL_ACTIVE, R.STILL_ACTIVE),
        (R.STILL_ACTIVE, R.STILL_ACTIVE, R.IN_STUDIES),
    ],
    "so": [
        (R.COMPLETED, R.COMPLETED, R.IN_WORK_PLACEMENT),
        (R.STILL_ACTIVE, R.COMPLETED, R.IN_STUDIES),
    ],
    "employment": [
        (R.IN_WORK_PLACEMENT, R.IN_WORK, R.IN_WORK),
        (R.STILL_ACTIVE, R.IN_WORK_PLACEMENT, R.IN_WORK_PLACEMENT),
        (R.UNREACHABLE, R.UNREACHABLE, R.IN_WORK),
    ],
    "guidance": [(R.STILL_ACTIVE, R.IN_STUDIES, R.IN_STUDIES)],
    "parenting": [(R.COMPLETED, R.COMPLETED, R.COMPLETED)],
    "forskola": [(R.STILL_ACTIVE, R.STILL_ACTIVE, R.STILL_ACTIVE)],
}
FALLBACK_PATH = (R.STILL_ACTIVE, R.STILL_ACTIVE, R.UNREACHABLE)
SFI_LEVELS = {3: "A", 6: "B", 12: "C"}
SERVICE_ORDER = ("sfi", "sfi", "employment", "so", "forskola", "sfi", "guidance", "parenting")
# (invented first name, gender, contact language)
EARLIER = (
    ("Fatima", Gender.WOMAN, "ar"),
    ("Hawa", Gender.WOMAN, "so"),
    ("Roya", Gender.WOMAN, "fa"),
    ("Semhar", Gender.WOMAN, "ti"),
    ("Iryna", Gender.WOMAN, "uk"),
    ("Omar", Gender.MAN, "ar"),
    ("Shirin", Gender.WOMAN, "ckb"),
    ("Mariam", Gender.WOMAN, "ar"),
    ("Sahra", Gender.WOMAN, "so"),
    ("Tigist", Gender.WOMAN, "ti"),
    ("Reza", Gender.MAN, "fa"),
    ("Khadija", Gender.WOMAN, "ar"),
    ("Yasmin", Gender.WOMAN, "sv"),
    ("Hanna", Gender.WOMAN, "uk"),
    ("Noor", Gender.WOMAN, "ar"),
    ("Amina", Gender.WOMAN, "so"),
    ("Leyla", Gender.WOMAN, "ckb"),
    ("Dawit", Gender.MAN, "ti"),
    ("Samira", Gender.WOMAN, "ar"),
    ("Aisha", Gender.WOMAN, "so"),
)


def seed_demo_follow_ups(org: Organisation) -> int:
    """Facts and follow-up agreements on the demo's referrals, and twenty earlier visitors
    with their follow-ups; returns the number of follow-ups with a result."""
    rng = random.Random(f"followup-{org.slug}")  # noqa: S311 - the same demo every time
    users = list(db.session.scalars(select(User).where(User.organisation_id == org.id)))
    coordinator = next((u for u in users if u.role == Role.COORDINATOR), None)
    staff = next((u for u in users if u.role == Role.STAFF), None)
    text = _published(org, ConsentPurpose.REFERRAL, "sv")
    if coordinator is None or staff is None or text is None or not org.sites:
        return 0
    for consent in db.session.scalars(
        select(Consent).where(Consent.organisation_id == org.id).order_by(Consent.id)
    ):
        _agree_and_answer(org, consent, rng, Gender.WOMAN)
    services = dict(
        db.session.execute(
            select(Service.slug, Service).where(
                Service.organisation_id == org.id, Service.is_active
            )
        ).all()
    )
    slugs = [s for s in SERVICE_ORDER if s in services] or sorted(services)
    recorded = 0
    for n, (name, gender, language) in enumerate(EARLIER):
        slug = slugs[n % len(slugs)]
        closed_at = datetime.combine(
            local_today() - timedelta(days=30 + n * 21), datetime.min.time()
        ) + timedelta(hours=rng.randint(8, 14))  # 09–15 in Sweden, stored as UTC
        consent = privacy.record_consent(
            site=org.sites[n % len(org.sites)],
            services=[services[slug]],
            consent_text=text,
            method=(ConsentMethod.TABLET, ConsentMethod.INTERPRETER)[n % 2],
            contact=privacy.ContactInput(first_name=name, phone_e164=f"+467017406{n + 20:02d}"),
            language=language,
            interpreter_needed=language != "sv" and n % 2 == 1,
            by=staff,
        )
        _agree_and_answer(org, consent, rng, gender)
        referral = consent.referrals[0]
        _started_earlier(org, referral, coordinator, closed_at, rng)
        db.session.flush()
        paths = PATHS.get(slug, [FALLBACK_PATH])
        recorded += _record_due(referral, paths[n % len(paths)], coordinator, slug, rng)
    db.session.flush()
    # What the daily purge would have done since: most earlier visitors' contact details are
    # gone; a follow-up agreement keeps them while a follow-up is still to come.
    privacy.purge_expired()
    return recorded


def _published(org: Organisation, purpose: str, locale: str) -> ConsentText | None:
    return db.session.scalar(
        select(ConsentText)
        .where(
            ConsentText.organisation_id == org.id,
            ConsentText.purpose == purpose,
            ConsentText.locale == locale,
            ConsentText.status == ConsentTextStatus.PUBLISHED,
        )
        .order_by(ConsentText.version.desc())
        .limit(1)
    )


def _agree_and_answer(org: Organisation, consent: Consent, rng: random.Random, gender) -> None:
    """The target-group facts on each of the consent's referrals (one visitor, one answer;
    now and then one not answered), and the follow-up agreement for about half, in the
    language the consent was shown in, where the organisation has a follow-up text."""
    facts = {
        "gender": gender.value,
        "has_child_0_6": rng.random() < 0.9,
        "parental_leave": (rng.random() < 0.6) if gender == Gender.WOMAN else rng.random() < 0.1,
        "sfi_interrupted_before": rng.random() < 0.3 if rng.random() < 0.9 else None,
    }
    if rng.random() < 0.1:
        facts["parental_leave"] = None
    for referral in consent.referrals:
        for field, value in facts.items():
            setattr(referral, field, value)
    if rng.random() < 0.55:
        text = _published(org, ConsentPurpose.FOLLOW_UP, consent.locale_shown) or _published(
            org, ConsentPurpose.FOLLOW_UP, "sv"
        )
        consent.follow_up_text_id = text.id if text else None


def _started_earlier(org, referral: Referral, coordinator: User, closed_at, rng) -> None:
    """The referral's story, dated back: given, assigned, reached, in progress, started."""
    created = closed_at - timedelta(days=rng.randint(20, 50))
    consent = referral.consent
    consent.given_at = referral.created_at = created
    referral.due_date = referral.follow_up_date = add_working_days(
        created.date(), org.first_contact_working_days
    )
    for event in referral.events:
        event.at = created
    reached = created + timedelta(days=rng.randint(1, 4), hours=2)
    referral.assignee_id = coordinator.id
    referral.first_contact_at = reached
    steps = [
        {"kind": "assigned", "at": created + timedelta(hours=3), "assignee_id": coordinator.id},
        {
            "kind": "attempt",
            "at": reached,
            "channel": AttemptChannel.PHONE,
            "result": AttemptResult.REACHED,
        },
        {
            "kind": "status",
            "at": reached,
            "from_status": ReferralStatus.NEW,
            "to_status": ReferralStatus.CONTACTED,
        },
        {
            "kind": "status",
            "at": reached + timedelta(days=5),
            "from_status": ReferralStatus.CONTACTED,
            "to_status": ReferralStatus.IN_PROGRESS,
        },
    ]
    for step in steps:
        referral.events.append(ReferralEvent(by_id=coordinator.id, **step))
    referral.status = ReferralStatus.IN_PROGRESS
    referral.close(Outcome.STARTED, by_id=coordinator.id, at=closed_at)
    records.plan(referral, closed_on=closed_at.date())


def _record_due(referral: Referral, path, coordinator: User, slug: str, rng) -> int:
    """Each follow-up due before the last ten days gets the path's result, recorded a few
    days after it fell due; one due in the last ten days is left open (overdue)."""
    today = local_today()
    done = 0
    planned = sorted(
        db.session.scalars(select(FollowUp).where(FollowUp.referral_id == referral.id)),
        key=lambda f: f.months,
    )
    for follow_up, result in zip(planned, path, strict=False):
        if follow_up.due_date > today - timedelta(days=10):
            continue
        interrupted = result == R.INTERRUPTED
        records.record(
            follow_up=follow_up,  # by name: a positional first argument reads as an audit action
            result=result.value,
            sfi_level=SFI_LEVELS.get(follow_up.months)
            if slug == "sfi" and result == R.COMPLETED
            else None,
            reason_code=(InterruptionReason.PARENTAL_LEAVE if interrupted else None),
            by=coordinator,
        )
        follow_up.recorded_at = min(
            datetime.combine(follow_up.due_date, datetime.min.time())
            + timedelta(days=rng.randint(0, 6), hours=9),
            utcnow(),
        )
        done += follow_up.status == FollowUpStatus.DONE
    return done
