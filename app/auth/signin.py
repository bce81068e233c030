"""The steps of a sign-in, used by the sign-in page and by leaving kiosk mode alike: the
password (throttled, audited), then the second factor where the user has or must enrol it
(a *pending* state that holds only who is half signed in), then a fresh session.

Failures get one generic message; the session token rotates at every sign-in and sign-out, so
an old cookie is worth nothing.
"""

import secrets
from datetime import UTC, datetime
from typing import NamedTuple

from flask import Response, redirect, session, url_for
from flask_babel import ngettext
from flask_login import login_user
from sqlalchemy.orm import joinedload

from .. import audit
from ..extensions import db
from ..i18n import LOCALES
from ..models import User
from ..web import local_path
from . import throttle
from .passwords import dummy_verify, verify_password
from .twofactor import must_enrol

PENDING_SECONDS = 5 * 60  # the password step is worth this long without a code


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
        record_failure(action="login_throttled", user=user, limit=refused.limit)
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
        return PasswordStep(after_first_factor(user, target))
    throttle.failed(account)
    record_failure(action="login_failed", user=user)
    return PasswordStep(None, None, 401)


def record_failure(action: str, user: User | None, **detail) -> None:
    """Audit a refused sign-in step at once, in its own commit: nobody is signed in, so the
    event names the account tried (if it exists) and its organisation, not an actor."""
    audit.record(
        action,
        "user",
        user.id if user else None,
        user=None,
        organisation_id=user.organisation_id if user else None,
        **detail,
    )
    db.session.commit()


def throttled_message(refused: throttle.Refusal) -> str:
    return ngettext(
        "För många försök. Vänta %(num)d sekund och försök igen.",
        "För många försök. Vänta %(num)d sekunder och försök igen.",
        refused.retry_after,
    )


def safe_next(target: str | None) -> str:
    """A local path to go to after sign-in; anything else becomes the start page."""
    return local_path(target) or url_for("auth.index")


def after_first_factor(user: User, target: str):
    """The password was right (or the identity provider's sign-in, without an MFA claim the
    organisation trusts): sign in, or ask for the second factor first."""
    if user.totp_secret:
        return begin_pending(user, "verify", target)
    if must_enrol(user):
        return begin_pending(user, "enrol", target)
    return complete_sign_in(user, safe_next(target))


def complete_sign_in(user: User, target: str):
    preferred_locale = session.get("locale")
    # The identity provider's ID token, for its sign-out, when it began this very sign-in.
    id_token = session.get("sso_id_token") if session.get("pending_user_id") == user.id else None
    session.clear()  # a fresh session: nothing from before sign-in carries over
    user.session_token = secrets.token_hex(32)
    if user.locale is None and preferred_locale in LOCALES:
        user.locale = preferred_locale
    audit.record("login", "user", user.id, user=user)
    db.session.commit()
    login_user(user)
    session.permanent = True
    session["signed_in_at"] = session["last_seen"] = datetime.now(UTC).timestamp()
    if id_token is not None:
        session["sso_id_token"] = id_token
    return redirect(safe_next(target), code=303)


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


def finish_pending(user: User):
    target = session.get("pending_next") or url_for("auth.index")
    return complete_sign_in(user, target)
