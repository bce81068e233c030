"""Messages to visitors: queued in the request, sent later by `flask send-outbox`.

INTERFACE FIRST (issue 21): the helper building the outbox replaces this module's bodies.
The signatures below are what the referrals flow and the partners area call.
"""

from __future__ import annotations

from .models import Consent, OutboxMessage, Referral, ReferralEvent


def queue_confirmation(consent: Consent) -> OutboxMessage | None:
    """Queue the confirmation (reference code, what happens next) in her contact language, on
    the channel she chose; None when she chose none. In the caller's transaction."""
    if consent.message_channel is None:
        return None
    raise NotImplementedError


def queue_booking(referral: Referral, event: ReferralEvent) -> OutboxMessage | None:
    """Queue the message that a receiving service booked a time (date, time, place, who to
    call); None when she chose no channel. In the caller's transaction."""
    if referral.consent.message_channel is None:
        return None
    raise NotImplementedError
