"""Who may use each route, declared on the view itself.

Every view carries an `access` attribute: either "public" or the tuple of roles allowed.
tests/test_access_matrix.py reads the URL map and fails on any route without one.
Records of another site or organisation are not found (404), never forbidden (403), so
their existence does not leak; a wrong role for the whole page is 403.
"""

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from .choices import Role

PUBLIC = "public"
ALL_STAFF = (Role.STAFF, Role.COORDINATOR, Role.ADMIN)
# Who works the follow-up queues (referrals and the follow-ups months later): coordinators for
# their services, admins for all.
QUEUE_ROLES = (Role.COORDINATOR, Role.ADMIN)
# People at a receiving service: their inbound referrals only (app/partners).
PARTNER_ROLES = (Role.PARTNER,)


def public(view: Callable) -> Callable:
    view.access = PUBLIC
    return view


def roles(*allowed: str) -> Callable[[Callable], Callable]:
    """Require a signed-in user with one of `allowed` roles."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args, **kwargs):
            if not current_user.has_role(*allowed):
                abort(403)
            return view(*args, **kwargs)

        wrapped = login_required(guarded)
        wrapped.access = tuple(allowed)
        return wrapped

    return decorator


signed_in = roles(*ALL_STAFF)
