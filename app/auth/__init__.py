"""Sign-in (area: auth): the password step, two-factor sign-in (TOTP), the throttle every
sign-in step shares, passwords and their policy, sign-out, the language switcher, and the
start page each role lands on.

Leaving kiosk mode is a sign-in too: the info area's kiosk exit calls `signin.password_step`,
the same function the sign-in page uses.

Modules: `signin` (the steps of a sign-in and the session they end in), `twofactor` (TOTP
codes and who must use them), `throttle` (the one limit policy), `passwords` (Argon2id and the
policy), `forms`, `views`.
"""

from flask import Blueprint

bp = Blueprint("auth", __name__)
