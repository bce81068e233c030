"""The published texts a visitor reads: a consent text, the follow-up agreement, or a message
sent to her (ConsentText rows, by purpose). One rule for all of them: the newest published
version in her locale, else the newest published Swedish one (app.i18n.fallback_locales)."""

from sqlalchemy import select

from .choices import ConsentPurpose, ConsentTextStatus
from .extensions import db
from .i18n import fallback_locales
from .models import ConsentText


def published_text(
    org_id: int, locale: str, purpose: str = ConsentPurpose.REFERRAL
) -> ConsentText | None:
    """The newest published text of `purpose` in `locale`, else the newest Swedish one."""
    for candidate in fallback_locales(locale):
        text = db.session.scalar(
            select(ConsentText)
            .where(
                ConsentText.organisation_id == org_id,
                ConsentText.locale == candidate,
                ConsentText.purpose == purpose,
                ConsentText.status == ConsentTextStatus.PUBLISHED,
            )
            .order_by(ConsentText.version.desc())
            .limit(1)
        )
        if text is not None:
            return text
    return None
