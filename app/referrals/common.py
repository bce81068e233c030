"""Lookups the referral screens share: the visitor's language, how long their details are
kept, and the messages sent to her (what the register extract lists). (Service names:
app.names; the published consent text she is shown: app.texts.)"""

from datetime import datetime, timedelta

from sqlalchemy import Row, select

from ..extensions import db
from ..i18n import LOCALES
from ..models import Consent, Organisation, OutboxMessage


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


def messages_of(consent: Consent) -> list[Row]:
    """Her messages, oldest first: only the anonymous columns (kind, channel, status, dates,
    the coded reason of a failure). Recipient and text are sealed and removed once sent, and
    are never read here."""
    return list(
        db.session.execute(
            select(
                OutboxMessage.kind,
                OutboxMessage.channel,
                OutboxMessage.status,
                OutboxMessage.created_at,
                OutboxMessage.sent_at,
                OutboxMessage.last_error,
            )
            .where(OutboxMessage.consent_id == consent.id)
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
        )
    )
