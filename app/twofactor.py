"""Two-factor sign-in with TOTP (RFC 6238): enrolment, the second sign-in step, and the rule
that an organisation may require it for coordinators and admins.

After the password step a user with a secret is only *pending*: the session holds their id,
nothing else, and no page but the code form opens until a code verifies. A user who must use
two-factor but has no secret yet goes to enrolment in the same pending state. Codes are
throttled per account and per address, and a code is refused once used (its time step is
stored), so a code seen over someone's shoulder cannot be replayed inside its 30 seconds.
Failed codes count in app.throttle against the same account as failed passwords.
"""

import secrets
from datetime import UTC, datetime

import pyotp
import segno
from flask import flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Regexp

from . import audit, throttle
from .access import public
from .auth import bp, complete_sign_in, safe_next, throttled_message
from .choices import Role
from .extensions import db
from .models import User
from .web import render

ISSUER = "Bro"
PENDING_SECONDS = 5 * 60  # the password step is worth this long without a code
ROLES_THAT_CAN_BE_REQUIRED = (Role.COORDINATOR, Role.ADMIN)


class CodeForm(FlaskForm):
    code = StringField(
        _l("Kod"),
        validators=[
            DataRequired(_l("Skriv koden från appen.")),
            Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message=_l("Koden är sex siffror.")),
            Length(max=12),
        ],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


def must_enrol(user: User) -> bool:
    """The organisation requires two-factor for this user's role and they have no secret."""
    # Role and secret first: staff never cost the organisation lookup on each request.
    return (
        user.role in ROLES_THAT_CAN_BE_REQUIRED
        and not user.totp_secret
        and user.organisation.require_2fa
    )


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


def begin_pending(user: User, purpose: str, target: str):
    """After the password: remember only who is half signed in, for what, and where to go."""
    target = safe_next(target)
    preferred_locale = session.get("locale")
    session.clear()
    session.update(
        pending_user_id=user.id,
        pending_token=user.session_token,
        pending_purpose=purpose,
        pending_at=datetime.now(UTC).timestamp(),
        pending_next=target,
    )
    if preferred_locale:
        session["locale"] = preferred_locale
    endpoint = "auth.totp" if purpose == "verify" else "auth.totp_setup"
    return redirect(url_for(endpoint), code=303)


def pending_user(purpose: str) -> User | None:
    """The half-signed-in user, if the pending state is fresh and still theirs."""
    if session.get("pending_purpose") != purpose:
        return None
    started = session.get("pending_at", 0)
    if datetime.now(UTC).timestamp() - started > PENDING_SECONDS:
        return None
    user = db.session.get(User, session.get("pending_user_id") or 0)
    if user is None or not user.is_enabled:
        return None
    if not secrets.compare_digest(user.session_token, session.get("pending_token", "")):
        return None
    return user


def _finish(user: User):
    target = session.get("pending_next") or url_for("home.index")
    return complete_sign_in(user, target)


@bp.route("/login/code", methods=["GET", "POST"])
@public
def totp():
    """The second sign-in step: a code from the authenticator app."""
    user = pending_user("verify")
    if user is None:
        flash(_("Logga in igen."))
        return redirect(url_for("auth.login"), code=303)
    form = CodeForm()
    if form.validate_on_submit():
        # The code step counts against the same account as the password (one policy).
        if refused := throttle.refusal(user.email):
            audit.record(
                "login_throttled",
                "user",
                user.id,
                user=None,
                organisation_id=user.organisation_id,
                limit=refused.limit,
            )
            db.session.commit()
            form.code.errors.append(throttled_message(refused))
            headers = {"Retry-After": str(refused.retry_after)}
            return render("auth/totp.html", form=form), 429, headers
        step = accepted_step(user.totp_secret, form.code.data, user.totp_last_step)
        if step is not None:
            user.totp_last_step = step
            return _finish(user)
        throttle.failed(user.email)
        audit.record(
            "totp_failed", "user", user.id, user=None, organisation_id=user.organisation_id
        )
        db.session.commit()
        form.code.errors.append(_("Koden stämmer inte. Vänta på nästa kod och försök igen."))
        return render("auth/totp.html", form=form), 401
    return render("auth/totp.html", form=form), (422 if request.method == "POST" else 200)


@bp.route("/account/two-factor", methods=["GET", "POST"])
@public  # also serves a user half signed in who must enrol; checked inside
def totp_setup():
    """Enrolment: show a new secret as a QR code and text; a right code switches it on."""
    if current_user.is_authenticated:
        user = db.session.get(User, current_user.id)
    else:
        user = pending_user("enrol")
        if user is None:
            return redirect(url_for("auth.login"), code=303)
    if user.totp_secret:
        return render("auth/totp_setup.html", user=user, enrolled=True)
    secret = session.get("totp_candidate")
    if not secret:
        secret = session["totp_candidate"] = pyotp.random_base32()
    form = CodeForm()
    if form.validate_on_submit():
        step = accepted_step(secret, form.code.data, None)
        if step is not None:
            user.totp_secret = secret
            user.totp_last_step = step
            session.pop("totp_candidate", None)
            audit.record("totp_enrolled", "user", user.id, user=user)
            if not current_user.is_authenticated:
                return _finish(user)
            db.session.commit()
            flash(_("Tvåstegsverifiering är påslagen."))
            return redirect(url_for("auth.totp_setup"), code=303)
        form.code.errors.append(_("Koden stämmer inte. Vänta på nästa kod och försök igen."))
    status = 422 if request.method == "POST" else 200
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    # segno draws the URI as QR modules (paths), not text, and escapes the title it writes.
    svg = segno.make(uri, error="m").svg_inline(scale=5, title=_("QR-kod för appen"))
    qr = Markup(svg)  # noqa: S704
    return render(
        "auth/totp_setup.html",
        user=user,
        enrolled=False,
        form=form,
        qr=qr,
        secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    ), status
