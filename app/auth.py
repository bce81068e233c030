"""Sign-in, sign-out and the language switcher.

Failures get one generic message; attempts are throttled by app.throttle's one policy;
the session token rotates at every sign-in and sign-out so an old cookie is worth nothing.
"""

import secrets
from datetime import UTC, datetime
from typing import NamedTuple

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from . import audit, throttle
from .access import public
from .extensions import db
from .i18n import LOCALES
from .models import User
from .passwords import dummy_verify, verify_password
from .web import local_path

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    # autocomplete names the fields' purpose (WCAG 1.3.5), so password managers fill them.
    email = EmailField(
        _l("E-post"),
        validators=[DataRequired(_l("Skriv din e-postadress.")), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Lösenord"),
        validators=[DataRequired(_l("Skriv ditt lösenord.")), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


class LocaleForm(FlaskForm):
    locale = StringField()
    next = StringField()


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the id and the current session token must both match."""
    uid, _sep, token = user_id.partition(":")
    if not uid.isdigit() or not token:
        return None
    # The organisation comes in the same query: nearly every page reads its settings.
    user = db.session.get(User, int(uid), options=[joinedload(User.organisation)])
    if user is None or not secrets.compare_digest(user.session_token, token):
        return None
    return user


class PasswordStep(NamedTuple):
    """What a password gave: a response that moves on (signed in, or the second factor), or
    why not, with the HTTP status to answer with."""

    response: Response | None
    error: str | None = None
    status: int = 200
    headers: dict[str, str] | None = None


def password_step(user: User | None, account: str, password: str, target: str) -> PasswordStep:
    """The password step of every sign-in (the sign-in page and leaving kiosk mode): the
    throttle, the Argon2 check, the audit events, then the second factor or the session."""
    if refused := throttle.refusal(account):
        audit.record(
            "login_throttled",
            "user",
            user.id if user else None,
            user=None,
            organisation_id=user.organisation_id if user else None,
            limit=refused.limit,
        )
        db.session.commit()
        return PasswordStep(
            None, throttled_message(refused), 429, {"Retry-After": str(refused.retry_after)}
        )
    password_hash = user.password_hash if user and user.is_enabled else None
    # Argon2 is slow on purpose: end the transaction first, so on SQLite no write lock is
    # held while it runs and simultaneous sign-ins do not queue behind each other.
    db.session.rollback()
    if password_hash is None:
        dummy_verify()
    elif verify_password(password_hash, password):
        return PasswordStep(_after_password(user, target))
    throttle.failed(account)
    audit.record(
        "login_failed",
        "user",
        user.id if user else None,
        user=None,
        organisation_id=user.organisation_id if user else None,
    )
    db.session.commit()
    return PasswordStep(None, None, 401)


def throttled_message(refused: throttle.Refusal) -> str:
    return ngettext(
        "För många försök. Vänta %(num)d sekund och försök igen.",
        "För många försök. Vänta %(num)d sekunder och försök igen.",
        refused.retry_after,
    )


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
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
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


def safe_next(target: str | None) -> str:
    """A local path to go to after sign-in; anything else becomes the start page."""
    return local_path(target) or url_for("home.index")


def _after_password(user: User, target: str):
    """The password was right: sign in, or ask for the second factor first."""
    from .twofactor import begin_pending, must_enrol

    if user.totp_secret:
        return begin_pending(user, "verify", target)
    if must_enrol(user):
        return begin_pending(user, "enrol", target)
    return complete_sign_in(user, safe_next(target))


def complete_sign_in(user: User, target: str):
    preferred_locale = session.get("locale")
    session.clear()  # a fresh session: nothing from before sign-in carries over
    user.session_token = secrets.token_hex(32)
    if user.locale is None and preferred_locale in LOCALES:
        user.locale = preferred_locale
    audit.record("login", "user", user.id, user=user)
    db.session.commit()
    login_user(user)
    session.permanent = True
    session["signed_in_at"] = session["last_seen"] = datetime.now(UTC).timestamp()
    return redirect(safe_next(target), code=303)


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


from . import twofactor  # noqa: E402, F401  (its views are on this blueprint)
