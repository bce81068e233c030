"""The sign-in area's pages: sign-in, the code step, two-factor enrolment, sign-out, the
language switcher, and the start page that sends each role to its work."""

import secrets

import pyotp
import segno
from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from markupsafe import Markup
from sqlalchemy import func, select

from .. import audit
from ..access import public
from ..choices import Role
from ..extensions import db
from ..i18n import LOCALES
from ..models import User
from ..web import form_status, render
from . import bp, throttle
from .forms import CodeForm, LocaleForm, LoginForm
from .signin import (
    finish_pending,
    password_step,
    pending_user,
    record_failure,
    safe_next,
    throttled_message,
)
from .twofactor import ISSUER, accepted_step, must_enrol

LANDING = {
    Role.STAFF: "visits.today",
    Role.COORDINATOR: "queue.index",
    Role.ADMIN: "admin.index",
    Role.PARTNER: "partners.inbound",
}

# Pages a user who still has to set up two-factor may open; everything else waits.
ENROLMENT_ENDPOINTS = {"auth.totp_setup", "auth.logout", "auth.set_locale", "static"}


@bp.before_app_request
def enforce_two_factor_enrolment():
    """An organisation that turns on required two-factor catches users already signed in."""
    if request.endpoint in ENROLMENT_ENDPOINTS or not current_user.is_authenticated:
        return None
    if must_enrol(current_user):
        return redirect(url_for("auth.totp_setup"), code=303)
    return None


@bp.get("/")
@public
def index():
    """Staff go to their role's page; anyone else is a visitor, whose entry is the public
    language picker (it carries a small link to the staff sign-in)."""
    if not current_user.is_authenticated:
        return redirect(url_for("info.kiosk_home"))
    return redirect(url_for(LANDING[current_user.role]))


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("auth.index"))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(select(User).where(func.lower(User.email) == email))
        step = password_step(user, email, form.password.data, request.args.get("next", ""))
        if step.response is not None:
            return step.response
        form.password.errors.append(
            step.error or _("Fel e-post eller lösenord, eller så är kontot avstängt.")
        )
        return render_template("auth/login.html", form=form), step.status, step.headers
    return render_template("auth/login.html", form=form), form_status(form)


@bp.post("/logout")
@public
def logout():
    if current_user.is_authenticated:
        user = db.session.get(User, current_user.id)
        user.session_token = secrets.token_hex(32)  # ends this session everywhere, server side
        audit.record("logout", "user", user.id, user=user)
        db.session.commit()
        logout_user()
    session.clear()
    flash(_("Du är utloggad."))
    return redirect(url_for("auth.login"), code=303)


@bp.post("/locale")
@public
def set_locale():
    """The language switcher: a plain form, so it works without JavaScript."""
    form = LocaleForm()
    code = form.locale.data if form.validate_on_submit() else None
    if code in LOCALES:
        session["locale"] = code
        if current_user.is_authenticated:
            db.session.get(User, current_user.id).locale = code
            db.session.commit()
    return redirect(safe_next(form.next.data or ""), code=303)


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
            record_failure(action="login_throttled", user=user, limit=refused.limit)
            form.code.errors.append(throttled_message(refused))
            headers = {"Retry-After": str(refused.retry_after)}
            return render("auth/totp.html", form=form), 429, headers
        step = accepted_step(user.totp_secret, form.code.data, user.totp_last_step)
        if step is not None:
            user.totp_last_step = step
            return finish_pending(user)
        throttle.failed(user.email)
        record_failure(action="totp_failed", user=user)
        form.code.errors.append(_("Koden stämmer inte. Vänta på nästa kod och försök igen."))
        return render("auth/totp.html", form=form), 401
    return render("auth/totp.html", form=form), form_status(form)


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
                return finish_pending(user)
            db.session.commit()
            flash(_("Tvåstegsverifiering är påslagen."))
            return redirect(url_for("auth.totp_setup"), code=303)
        form.code.errors.append(_("Koden stämmer inte. Vänta på nästa kod och försök igen."))
    status = form_status(form)
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
