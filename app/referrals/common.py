"""Lookups the referral screens share: the published consent text a visitor is shown, the
visitor's language and how long their details are kept. (Service names: app.names.)"""

from datetime import datetime, timedelta

from sqlalchemy import select

from ..choices import ConsentTextStatus
from ..extensions import db
from ..i18n import LOCALES, fallback_locales
from ..models import Consent, ConsentText, Organisation


def published_text(org_id: int, locale: str) -> ConsentText | None:
    """The newest published consent text in `locale`, else the newest Swedish one."""
    for candidate in fallback_locales(locale):
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
