"""Consent texts as versions (area: admin): the next version number in a locale and purpose,
and the first published version in every content locale (the UI languages and lättläst) that
each organisation starts with: the referral's consent from seed/consent_texts.json and the
optional follow-up agreement from seed/follow_up_texts.json, and the texts of the messages to
visitors from seed/message_texts.json (locale -> text; data, not UI messages: admins replace
them).

Apart from the consent texts' screen (`consent_texts`), so that `flask create-organisation`
and `seed-demo` seed without importing a view module."""

import json
from pathlib import Path

from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from ..choices import ConsentPurpose, ConsentTextStatus
from ..extensions import db
from ..i18n import CONTENT_LOCALES
from ..info.catalogue import SeedError
from ..models import ConsentText, Organisation, User, utcnow
from .forms import ConsentTextForm


def next_version(org_id: int, locale: str, purpose: str = ConsentPurpose.REFERRAL) -> int:
    """Versions count per locale and purpose: the highest so far plus one."""
    query = select(func.max(ConsentText.version)).where(
        ConsentText.organisation_id == org_id,
        ConsentText.locale == locale,
        ConsentText.purpose == purpose,
    )
    return (db.session.scalar(query) or 0) + 1


# Shipped with the package (pyproject's package-data). Each text names both things agreed to:
# the processing of the contact details (GDPR) and the waiver of secrecy (OSL 12 kap.).
SEED_FILE = Path(__file__).resolve().parent / "seed" / "consent_texts.json"
# The follow-up agreement: contacted again at about 3, 6 and 12 months, "no" changes nothing,
# details kept until the last follow-up and then erased, withdrawable at any time.
FOLLOW_UP_SEED_FILE = Path(__file__).resolve().parent / "seed" / "follow_up_texts.json"
# The messages to visitors (app.outbox), one object per purpose: locale -> text with the
# purpose's placeholders.
MESSAGE_SEED_FILE = Path(__file__).resolve().parent / "seed" / "message_texts.json"
MESSAGE_PURPOSES = (ConsentPurpose.MESSAGE_CONFIRMATION, ConsentPurpose.MESSAGE_BOOKED)


def _read_seed(seed_file: Path) -> dict:
    try:
        texts = json.loads(seed_file.read_bytes())
    except (OSError, ValueError) as error:
        raise SeedError(f"{seed_file.name}: {error}") from None
    if not isinstance(texts, dict):
        raise SeedError(f"{seed_file.name}: an object expected")
    texts.pop("_comment", None)  # a note for whoever edits the file, not a text
    return texts


def seed_texts(
    legal_basis: str,
    seed_file: Path | None = None,
    purpose: str = ConsentPurpose.REFERRAL,
    texts: dict | None = None,
) -> dict[str, str]:
    """locale -> the first text, from the seed file (the referral's consent unless told) or
    `texts` read from it, each checked as the admin's form checks a new text of `purpose`;
    raises SeedError naming every problem (a fault of the package: no organisation may start
    without a text it can show in every locale)."""
    seed_file = seed_file or SEED_FILE
    if texts is None:
        texts = _read_seed(seed_file)
    if not isinstance(texts, dict) or set(texts) != set(CONTENT_LOCALES):
        expected = ", ".join(CONTENT_LOCALES)
        raise SeedError(f"{seed_file.name}: one text for each of {expected} expected")
    problems, bodies = [], {}
    for locale, body in texts.items():
        if not isinstance(body, str):
            problems.append(f"{locale}: text expected")
            continue
        form = ConsentTextForm(
            formdata=MultiDict(
                {"purpose": purpose, "locale": locale, "legal_basis": legal_basis, "body": body}
            ),
            meta={"csrf": False},
        )
        if not form.validate():
            problems.append(f"{locale}: {form.errors}")
            continue
        bodies[locale] = form.body.data.strip()  # as the admin's screen stores it
    if problems:
        raise SeedError(f"{seed_file.name}: {'; '.join(problems)}")
    return bodies


def seed_consent_texts(org: Organisation, by: User | None = None) -> None:
    """A published first version of the referral's consent in every content locale (data,
    not messages: admins edit them)."""
    _seed(org, by, ConsentPurpose.REFERRAL, seed_texts(org.legal_basis))


def seed_follow_up_texts(org: Organisation, by: User | None = None) -> None:
    """A published first version of the follow-up agreement in every content locale: with it
    the consent screen offers the optional follow-up checkbox."""
    _seed(org, by, ConsentPurpose.FOLLOW_UP, seed_texts(org.legal_basis, FOLLOW_UP_SEED_FILE))


def seed_message_texts(org: Organisation, by: User | None = None) -> bool:
    """A published first version of both message texts to visitors (app.outbox: the
    confirmation and the booked time) in every content locale, unless the organisation has
    message texts already (so `flask seed-message-texts` can run on any installation, again
    and again). True when it seeded."""
    has_some = db.session.scalar(
        select(ConsentText.id)
        .where(ConsentText.organisation_id == org.id, ConsentText.purpose.in_(MESSAGE_PURPOSES))
        .limit(1)
    )
    if has_some is not None:
        return False
    texts = _read_seed(MESSAGE_SEED_FILE)
    for purpose in MESSAGE_PURPOSES:
        bodies = seed_texts(org.legal_basis, MESSAGE_SEED_FILE, purpose, texts.get(purpose))
        _seed(org, by, purpose, bodies)
    return True


def _seed(org: Organisation, by: User | None, purpose: str, bodies: dict[str, str]) -> None:
    now = utcnow()
    for locale, body in bodies.items():
        db.session.add(
            ConsentText(
                organisation_id=org.id,
                locale=locale,
                version=next_version(org.id, locale, purpose),
                purpose=purpose,
                legal_basis=org.legal_basis,
                body=body,
                status=ConsentTextStatus.PUBLISHED,
                published_at=now,
                created_by_id=by.id if by else None,
            )
        )
    db.session.flush()
