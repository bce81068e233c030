"""Consent texts as versions (area: admin): the next version number in a locale, and the
first published version in every content locale (the UI languages and lättläst) that each
organisation starts with, from seed/consent_texts.json (locale -> text; data, not UI
messages: admins replace them).

Apart from the consent texts' screen (`consent_texts`), so that `flask create-organisation`
and `seed-demo` seed without importing a view module."""

import json
from pathlib import Path

from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from ..choices import ConsentTextStatus
from ..extensions import db
from ..i18n import CONTENT_LOCALES
from ..info.catalogue import SeedError
from ..models import ConsentText, Organisation, User, utcnow
from .forms import ConsentTextForm


def next_version(org_id: int, locale: str) -> int:
    """Versions count per locale: the highest so far plus one."""
    highest = db.session.scalar(
        select(func.max(ConsentText.version)).where(
            ConsentText.organisation_id == org_id, ConsentText.locale == locale
        )
    )
    return (highest or 0) + 1


# Shipped with the package (pyproject's package-data). Each text names both things agreed to:
# the processing of the contact details (GDPR) and the waiver of secrecy (OSL 12 kap.).
SEED_FILE = Path(__file__).resolve().parent / "seed" / "consent_texts.json"


def seed_texts(legal_basis: str) -> dict[str, str]:
    """locale -> the first consent text, from the seed file, each checked as the admin's form
    checks a new text; raises SeedError naming every problem (a fault of the package: no
    organisation may start without a consent text it can show in every locale)."""
    try:
        texts = json.loads(SEED_FILE.read_bytes())
    except (OSError, ValueError) as error:
        raise SeedError(f"{SEED_FILE.name}: {error}") from None
    if not isinstance(texts, dict) or set(texts) != set(CONTENT_LOCALES):
        expected = ", ".join(CONTENT_LOCALES)
        raise SeedError(f"{SEED_FILE.name}: one text for each of {expected} expected")
    problems, bodies = [], {}
    for locale, body in texts.items():
        if not isinstance(body, str):
            problems.append(f"{locale}: text expected")
            continue
        form = ConsentTextForm(
            formdata=MultiDict({"locale": locale, "legal_basis": legal_basis, "body": body}),
            meta={"csrf": False},
        )
        if not form.validate():
            problems.append(f"{locale}: {form.errors}")
            continue
        bodies[locale] = form.body.data.strip()  # as the admin's screen stores it
    if problems:
        raise SeedError(f"{SEED_FILE.name}: {'; '.join(problems)}")
    return bodies


def seed_consent_texts(org: Organisation, by: User | None = None) -> None:
    """A published first version in every content locale (data, not messages: admins edit
    them)."""
    now = utcnow()
    for locale, body in seed_texts(org.legal_basis).items():
        db.session.add(
            ConsentText(
                organisation_id=org.id,
                locale=locale,
                version=next_version(org.id, locale),
                legal_basis=org.legal_basis,
                body=body,
                status=ConsentTextStatus.PUBLISHED,
                published_at=now,
                created_by_id=by.id if by else None,
            )
        )
    db.session.flush()
