"""New accounts, one way for every admin screen that makes them (the users screen, a partner's
page): the admin types an initial password, which is hashed at once and never stored, shown
or logged; the account gets its own session token, and its creation is audited."""

import secrets

from .. import audit
from ..auth.passwords import hash_password
from ..extensions import db
from ..models import User


def create_user(organisation_id: int, password: str, *, role: str, **fields) -> User:
    """A new user of the organisation in the caller's transaction (flushed, so it has an id).
    `fields` are the User's other columns (name, email, locale, partner_id)."""
    user = User(
        organisation_id=organisation_id,
        role=role,
        password_hash=hash_password(password),
        session_token=secrets.token_hex(32),
        **fields,
    )
    db.session.add(user)
    db.session.flush()
    detail = {"role": user.role}
    if user.partner_id is not None:
        detail["partner"] = user.partner_id
    audit.record("user_created", "user", user.id, **detail)
    return user
