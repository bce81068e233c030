"""Lookups the referral screens share: service names in a locale, the published consent text
a visitor is shown."""

from datetime import datetime, timedelta

from flask_babel import get_locale
from sqlalchemy import select

from ..choices import ConsentTextStatus
from ..extensions import db
from ..i18n import DEFAULT_LOCALE, LOCALES
from ..models import Consent, ConsentText, Organisation, ServiceTranslation


def service_names(service_ids: list[int], locale: str) -> dict[int, str]:
    """Service id -> name in `locale`, Swedish where that translation is missing (one query)."""
    if not service_ids:
        return {}
    rows = db.session.execute(
        select(
            ServiceTranslation.service_id, ServiceTranslation.locale, ServiceTranslation.name
        ).where(
            ServiceTranslation.service_id.in_(set(service_ids)),
            ServiceTranslation.locale.in_({locale, DEFAULT_LOCALE}),
        )
    )
    names: dict[int, str] = {}
    for service_id, row_locale, name in rows:
        if row_locale == locale or service_id not in names:
            names[service_id] = name
    return names


def published_text(org_id: int, locale: str) -> ConsentText | None:
    """The newest published consent text in `locale`, else the newest Swedish one."""
    for candidate in dict.fromkeys((locale, DEFAULT_LOCALE)):
        text = db.session.scalar(
            select(ConsentText)
            .where(
                ConsentText.organisation_id == org_id,
                ConsentText.locale == candidate,
                ConsentText.status == ConsentTextStatus.PUBLISHED,
            )
            .order_by(ConsentText.version.desc())
            .limit(1)
        )
        if text is not None:
            return text
    return None


def visitor_locale(consent: Consent) -> str:
    """The language the visitor chose: the contact language when it is a UI locale, else the
    locale of the text they were shown."""
    language = consent.referrals[0].language if consent.referrals else None
    return language if language in LOCALES else consent.locale_shown


def kept_until(consent: Consent) -> datetime:
    """The latest moment the contact details can exist: open at most max_open_days, then kept
    retention_days_after_close after the referral closed."""
    org = db.session.get(Organisation, consent.organisation_id)
    return consent.given_at + timedelta(days=org.max_open_days + org.retention_days_after_close)


def ui_locale() -> str:
    return str(get_locale() or DEFAULT_LOCALE)
