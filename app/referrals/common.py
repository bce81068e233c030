"""Lookups the referral screens share: the visitor's language and how long her details are
kept. (Service names: app.names; the published consent text she is shown: app.texts; the
messages sent to her: app.outbox.messages_of.)"""

from datetime import datetime, timedelta

from ..extensions import db
from ..i18n import LOCALES
from ..models import Consent, Organisation


def visitor_locale(consent: Consent) -> str:
    """The language the visitor chose: the contact language when it is a UI locale, else the
    locale of the text they were shown."""
    language = consent.referrals[0].language if consent.referrals else None
    return language if language in LOCALES else consent.locale_shown


def has_follow_up_consent(consent: Consent) -> bool:
    """She agreed to be contacted again later, and has not withdrawn."""
    return consent.follow_up_text_id is not None and consent.withdrawn_at is None


def kept_until(consent: Consent) -> datetime:
    """The latest moment the contact details can exist: open at most max_open_days, then kept
    retention_days_after_close after the referral closed, or with a follow-up consent at most
    follow_up_max_days (app.privacy's retention rule)."""
    org = db.session.get(Organisation, consent.organisation_id)
    after_close = org.retention_days_after_close
    if has_follow_up_consent(consent):
        after_close = max(after_close, org.follow_up_max_days)
    return consent.given_at + timedelta(days=org.max_open_days + after_close)
