"""Sample data of the admin area for `flask seed-demo`."""

from sqlalchemy import select

from .. import audit
from ..choices import Role
from ..extensions import db
from ..models import Organisation, User


def seed_demo_security(org: Organisation) -> None:
    """Demo data for the security area: an audit trail worth filtering from the first run."""
    admin = db.session.scalar(
        select(User).where(User.organisation_id == org.id, User.role == Role.ADMIN)
    )
    for user in db.session.scalars(select(User).where(User.organisation_id == org.id)):
        audit.record("user_created", "user", user.id, user=admin, role=user.role)
    audit.record("settings_updated", "organisation", org.id, user=admin, changed=[])
