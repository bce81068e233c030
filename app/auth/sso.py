"""Single sign-on with OpenID Connect (issue 22): the municipality's identity provider signs
staff in, and the app still decides who they are here and what they may do.

- Authlib's Flask client talks to the provider found through its discovery document
  (`OIDC_ISSUER` + `/.well-known/openid-configuration`): the authorization code flow with
  PKCE (S256), a state and a nonce kept in the session and checked once, and the ID token's
  signature (the provider's published keys), issuer, audience, expiry and nonce verified by
  Authlib before any claim is read. Every call to the provider has a timeout; a provider that
  is down or slow gives a message and the local sign-in form.
- A person is matched by issuer and `sub` once linked; the first time by a *verified* e-mail
  to an existing enabled user. Someone the organisation does not know is refused, unless the
  organisation creates such users: then disabled, with no sites, until an admin gives them a
  role (or an admin's group map already gives one). Roles and sites come from the provider
  only through that map of named groups.
- The second factor: the provider's `amr`/`acr` where the organisation trusts it, else the
  app's own TOTP, exactly as after a password (`signin.begin_pending`).
- Leaving kiosk mode through the provider asks it to authenticate again (`prompt=login`,
  `max_age=0`), and only the staff member who started the kiosk may leave it.

Local passwords stay beside it (small municipalities, a break-glass admin).
"""

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import current_app, session, url_for
from joserfc.errors import JoseError
from requests import RequestException
from sqlalchemy import func, select

from .. import audit
from ..choices import Role
from ..extensions import db
from ..models import Organisation, Site, User
from ..web import local_path

SETTINGS = ("OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_SCOPES")
DEFAULT_SCOPES = "openid email"
TIMEOUT_SECONDS = 5.0
# `amr` values (RFC 8176) that say the provider used more than one factor.
MFA_AMR = frozenset({"mfa", "otp", "hwk"})
# Roles an admin may map a group to: partners are linked to a partner organisation by hand.
MAPPABLE_ROLES = (Role.STAFF, Role.COORDINATOR, Role.ADMIN)
RANK = {role: rank for rank, role in enumerate(MAPPABLE_ROLES)}
MAX_TOKEN_IN_SESSION = 2000  # characters; the rest of the session fits beside it in 4 KB
KIOSK_REAUTH_SECONDS = 300  # leaving the kiosk needs a sign-in at the provider this fresh
NO_LOCAL_HASH = "!sso"  # not an Argon2 hash: a created user has no local password


class Refused(Exception):
    """A sign-in through the provider that goes no further; `reason` is audited (a code, never
    a claim's value), `user` is the account it concerns when known."""

    def __init__(self, reason: str, user: User | None = None):
        super().__init__(reason)
        self.reason = reason
        self.user = user


@dataclass
class Outcome:
    """Who the provider's sign-in matched, whether its MFA counts, the ID token for
    sign-out, and whether the user waits for an admin (created, or disabled)."""

    user: User
    mfa: bool
    id_token: str
    waiting: bool = False


def setting(name: str) -> str | None:
    """The app's configuration first (instance/config.py, a test's mapping), then the
    environment."""
    return current_app.config.get(name) or os.environ.get(name) or None


def configured() -> bool:
    return bool(setting("OIDC_ISSUER") and setting("OIDC_CLIENT_ID"))


def client():
    """Authlib's client for this app, registered on first use (importing registers nothing)."""
    oauth = current_app.extensions.get("authlib.integrations.flask_client")
    if oauth is None:
        oauth = OAuth(current_app)
        issuer = setting("OIDC_ISSUER").rstrip("/")
        oauth.register(
            "idp",
            client_id=setting("OIDC_CLIENT_ID"),
            client_secret=setting("OIDC_CLIENT_SECRET"),
            server_metadata_url=f"{issuer}/.well-known/openid-configuration",
            client_kwargs={
                "scope": setting("OIDC_SCOPES") or DEFAULT_SCOPES,
                "code_challenge_method": "S256",
                "default_timeout": float(setting("OIDC_TIMEOUT") or TIMEOUT_SECONDS),
            },
        )
    return oauth.idp


def start(target: str, kiosk: bool):
    """The redirect to the provider. Raises RequestException when it cannot be reached."""
    session["sso_next"] = local_path(target) or ""
    extra = {"prompt": "login", "max_age": 0} if kiosk else {}
    return client().authorize_redirect(url_for("auth.sso_callback", _external=True), **extra)


def finish() -> Outcome:
    """The provider sent the browser back: exchange the code, verify the ID token, match the
    person. Raises Refused with the reason."""
    try:
        token = client().authorize_access_token()
    except RequestException as error:
        raise Refused("idp_unreachable") from error
    except AuthlibBaseError as error:
        # A state missing, used already or not this browser's; or the provider's own error.
        raise Refused("state" if "state" in str(error).lower() else "idp_error") from error
    except (JoseError, ValueError, KeyError) as error:
        raise Refused("id_token") from error
    claims = token.get("userinfo")
    if not claims or not claims.get("sub") or not claims.get("iss"):
        raise Refused("id_token")
    if session.get("kiosk") and not _fresh(claims.get("auth_time")):
        raise Refused("kiosk_reauth")
    user, created = match(claims)
    org = user.organisation
    if user.role != Role.PARTNER and apply_groups(user, org, claims.get("groups"), created):
        created = False  # the admin's map gave a role: no waiting
    if created:
        db.session.commit()
        return Outcome(user, False, "", waiting=True)
    return Outcome(user, mfa_satisfied(org, claims), token.get("id_token", ""))


def match(claims) -> tuple[User, bool]:
    """The user the claims name: linked by issuer and `sub`, else by a verified e-mail (then
    linked), else created when the organisation allows it. Returns (user, created)."""
    issuer, sub = str(claims["iss"]), str(claims["sub"])
    user = db.session.scalar(select(User).where(User.oidc_issuer == issuer, User.oidc_sub == sub))
    if user is not None:
        if not user.is_enabled:
            raise Refused("disabled", user)
        return user, False
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise Refused("email_missing")
    if claims.get("email_verified") is not True:
        raise Refused("email_unverified")
    email = email.strip().lower()
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if user is not None:
        if not user.is_enabled:
            raise Refused("disabled", user)
        if user.oidc_sub is not None:  # linked to another account of a provider already
            raise Refused("linked_elsewhere", user)
        user.oidc_issuer, user.oidc_sub = issuer, sub
        audit.record("sso_linked", "user", user.id, user=user)
        return user, False
    org = organisation_for_new_users()
    if org is None or not org.sso_create_users:
        raise Refused("unknown_user")
    name = claims.get("name") if isinstance(claims.get("name"), str) else None
    user = User(
        organisation=org,
        email=email,
        name=(name or email.split("@")[0])[:120],
        password_hash=NO_LOCAL_HASH,
        role=Role.STAFF,
        is_enabled=False,
        oidc_issuer=issuer,
        oidc_sub=sub,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("sso_user_created", "user", user.id, user=None, organisation_id=org.id)
    return user, True


def organisation_for_new_users() -> Organisation | None:
    slug = setting("OIDC_ORGANISATION") or current_app.config.get("PUBLIC_ORGANISATION")
    if slug:
        return db.session.scalar(select(Organisation).where(Organisation.slug == slug))
    # One organisation only (the usual install): that one.
    orgs = db.session.scalars(select(Organisation).limit(2)).all()
    return orgs[0] if len(orgs) == 1 else None


def group_map(org: Organisation) -> list[dict]:
    """The admin's map: [{"group": name, "role": role, "site_ids": [ids]}]."""
    try:
        rows = json.loads(org.sso_groups or "[]")
    except ValueError:
        return []
    return [
        row
        for row in rows
        if isinstance(row, dict) and row.get("role") in MAPPABLE_ROLES and row.get("group")
    ]


def apply_groups(user: User, org: Organisation, groups, created: bool) -> bool:
    """Give the role and sites the admin mapped to the user's groups (the highest role, all
    the sites). Nothing happens when no group of the user is mapped. Returns whether a map
    applied."""
    if not isinstance(groups, list):
        return False
    names = {g for g in groups if isinstance(g, str)}
    rows = [row for row in group_map(org) if row["group"] in names]
    if not rows:
        return False
    role = max((row["role"] for row in rows), key=RANK.__getitem__)
    site_ids = {int(i) for row in rows for i in row.get("site_ids", []) if str(i).isdigit()}
    sites = db.session.scalars(
        select(Site).where(Site.organisation_id == org.id, Site.id.in_(site_ids))
    ).all()
    before = (user.role, sorted(s.id for s in user.sites))
    user.role = role
    user.sites = list(sites)
    if created:
        user.is_enabled = True
    after = (role, sorted(s.id for s in sites))
    if before != after or created:
        audit.record(
            "sso_groups_applied",
            "user",
            user.id,
            user=None,
            organisation_id=org.id,
            role=role,
            site_ids=after[1],
        )
    return True


def mfa_satisfied(org: Organisation, claims) -> bool:
    """The provider's own second factor counts when the organisation says so: an `amr` with
    one of MFA_AMR, or an `acr` the organisation lists."""
    if not org.sso_trust_mfa:
        return False
    amr = claims.get("amr") or []
    amr = [amr] if isinstance(amr, str) else amr
    if isinstance(amr, list) and MFA_AMR & {a for a in amr if isinstance(a, str)}:
        return True
    listed = {value for value in re.split(r"[\s,]+", org.sso_mfa_acr or "") if value}
    return claims.get("acr") in listed


def _fresh(auth_time) -> bool:
    if not isinstance(auth_time, int | float):
        return False
    return datetime.now(UTC).timestamp() - auth_time <= KIOSK_REAUTH_SECONDS


def end_session_origin() -> str | None:
    """The origin of the provider's end-session endpoint, from the discovery document already
    read (never a call to the provider): pages allow forms to lead there (sign-out)."""
    oauth = current_app.extensions.get("authlib.integrations.flask_client")
    if oauth is None or not configured():
        return None
    endpoint = oauth.idp.server_metadata.get("end_session_endpoint")
    if not isinstance(endpoint, str):
        return None
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("https", "http") else None


def token_for_session(id_token: str) -> str:
    """What the session keeps of the ID token for the sign-out's `id_token_hint`: the token,
    unless it is so large (many groups) that the session cookie would pass the browsers' 4 KB;
    then "" (signed in through the provider; the sign-out names the client instead)."""
    return id_token if len(id_token) <= MAX_TOKEN_IN_SESSION else ""


def logout_url(id_token: str | None) -> str | None:
    """The provider's end-session URL (RP-initiated logout), if the session began there and
    the provider has one and answers. None: the session did not begin at the provider."""
    if id_token is None or not configured():
        return None
    try:
        idp = client()
        if not idp.load_server_metadata().get("end_session_endpoint"):
            return None
        hint = {"id_token_hint": id_token} if id_token else {"client_id": idp.client_id}
        return idp.create_logout_url(
            post_logout_redirect_uri=url_for("auth.login", _external=True), **hint
        )["url"]
    except (RequestException, RuntimeError, ValueError):
        return None
