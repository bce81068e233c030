"""Two-factor sign-in with TOTP (RFC 6238): which users must use it, and whether a code is
right. A code is refused once used (its time step is stored), so a code seen over someone's
shoulder cannot be replayed inside its 30 seconds.
"""

import secrets
from datetime import UTC, datetime

import pyotp

from ..choices import Role
from ..models import User

ISSUER = "Bro"
ROLES_THAT_CAN_BE_REQUIRED = (Role.COORDINATOR, Role.ADMIN)


def must_enrol(user: User) -> bool:
    """The organisation requires two-factor for this user's role and they have no secret.
    Partners (people at a receiving service) have their own setting, on by default."""
    # Role and secret first: staff never cost the organisation lookup on each request.
    if user.totp_secret:
        return False
    if user.role == Role.PARTNER:
        return user.organisation.partner_require_2fa
    return user.role in ROLES_THAT_CAN_BE_REQUIRED and user.organisation.require_2fa


def accepted_step(secret: str, code: str, last_step: int | None) -> int | None:
    """The time step a code belongs to (now, or one step either side for clock drift), if it
    is right and newer than the last one used; otherwise None."""
    code = "".join(code.split())
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(datetime.now(UTC))
    for step in (now_step - 1, now_step, now_step + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step if last_step is None or step > last_step else None
    return None
