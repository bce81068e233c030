"""The sign-in area's pages: sign-in, the code step, two-factor enrolment, sign-out, the
language switcher, and the start page that sends each role to its work."""

import secrets

import pyotp
import segno
from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from markupsafe import Markup
from requests import RequestException
from sqlalchemy import func, select

from .. import audit
from ..access import public
from ..choices import Role
from ..extensions import db
from ..i18n import LOCALES
from ..models import User
from ..security import CSP
from ..web import form_status, render
from . import bp, sso, throttle
from .forms import CodeForm, LocaleForm, LoginForm
from .signin import (
    after_first_factor,
    complete_sign_in,
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
    # Signed in through the identity provider: end its session too (RP-initiated logout).
    idp_logout = sso.logout_url(session.get("sso_id_token"))
    if current_user.is_authenticated:
        user = db.session.get(User, current_user.id)
        user.session_token = secrets.token_hex(32)  # ends this session everywhere, server side
        audit.record("logout", "user", user.id, user=user)
        if idp_logout:
            audit.record("sso_logout", "user", user.id, user=user)
        db.session.commit()
        logout_user()
    session.clear()
    flash(_("Du är utloggad."))
    return redirect(idp_logout or url_for("auth.login"), code=303)


@bp.after_app_request
def allow_sign_out_at_the_provider(response):
    """Signing out posts to /logout, which sends the browser on to the provider's end-session
    endpoint; CSP's form-action covers where a form's redirects lead, so the pages of someone
    signed in through the provider allow that one origin too."""
    if request.endpoint == "static" or "Content-Security-Policy" in response.headers:
        return response
    if "sso_id_token" in session and (origin := sso.end_session_origin()):
        response.headers["Content-Security-Policy"] = CSP.replace(
            "form-action 'self'", f"form-action 'self' {origin}"
        )
    return response


@bp.app_context_processor
def sso_context():
    """The sign-in page and the kiosk exit offer the identity provider when one is set."""
    return {"sso_enabled": sso.configured()}


def _sso_fallback() -> str:
    """Where a sign-in through the provider that did not work goes: the local form."""
    return url_for("info.kiosk_exit" if session.get("kiosk") else "auth.login")


@bp.get("/login/sso")
@public
def sso_start():
    """Single sign-on: off to the organisation's identity provider (PKCE, state, nonce)."""
    if not sso.configured():
        abort(404)
    kiosk = bool(session.get("kiosk"))
    if current_user.is_authenticated and not kiosk:
        return redirect(url_for("auth.index"))
    try:
        return sso.start(request.args.get("next", ""), kiosk=kiosk)
    except (RequestException, RuntimeError, ValueError):
        record_failure(action="sso_refused", user=None, reason="idp_unreachable")
        flash(SSO_REFUSALS["idp_unreachable"])
        return redirect(_sso_fallback(), code=303)


@bp.get("/login/sso/callback")
@public
def sso_callback():
    """The provider sent the browser back: verify, match, then the second factor where the
    provider's MFA claim does not count, exactly as after a password."""
    if not sso.configured():
        abort(404)
    kiosk = session.get("kiosk")
    target = session.pop("sso_next", "") or url_for("auth.index")
    try:
        outcome = sso.finish()
    except sso.Refused as refused:
        db.session.rollback()
        record_failure(action="sso_refused", user=refused.user, reason=refused.reason)
        if refused.reason == "disabled":
            return render("auth/sso_waiting.html"), 403
        flash(SSO_REFUSALS.get(refused.reason, SSO_REFUSALS["id_token"]))
        return redirect(_sso_fallback(), code=303)
    user = outcome.user
    if outcome.waiting:
        return render("auth/sso_waiting.html"), 403
    if kiosk:
        if user.id != kiosk.get("user_id"):
            db.session.commit()  # a link made by e-mail stands; the kiosk stays
            record_failure(action="sso_refused", user=user, reason="kiosk_user")
            flash(SSO_REFUSALS["kiosk_user"])
            return redirect(url_for("info.kiosk_exit"), code=303)
        audit.record("kiosk_exit", "user", user.id, user=user, sso=True)
    audit.record("sso_login", "user", user.id, user=user, mfa=outcome.mfa)
    db.session.commit()
    if outcome.mfa:
        response = complete_sign_in(user, target)
    else:
        response = after_first_factor(user, target)
    session["sso_id_token"] = sso.token_for_session(outcome.id_token)
    return response


SSO_UNREACHABLE = _l(
    "Organisationens inloggning svarar inte just nu. Logga in med e-post och lösenord, "
    "eller försök igen om en stund."
)
SSO_NOT_CONFIRMED = _l("Inloggningen kunde inte bekräftas. Försök igen.")
SSO_NOT_KNOWN = _l(
    "Ditt konto hos organisationen är inte kopplat till något konto här. "
    "Be en administratör om hjälp."
)
SSO_REFUSALS = {
    "idp_unreachable": SSO_UNREACHABLE,
    "idp_error": SSO_NOT_CONFIRMED,
    "state": SSO_NOT_CONFIRMED,
    "id_token": SSO_NOT_CONFIRMED,
    "kiosk_reauth": SSO_NOT_CONFIRMED,
    "email_missing": SSO_NOT_KNOWN,
    "email_unverified": SSO_NOT_KNOWN,
    "unknown_user": SSO_NOT_KNOWN,
    "linked_elsewhere": SSO_NOT_KNOWN,
    "kiosk_user": _l("Bara den som startade kioskläget kan avsluta det."),
}


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
