"""Follow-up queues (area: queue): coordinators work the referrals of their services from
"new" to a closed outcome, with deadlines in working days, an event timeline, audited access
to contact details, inline htmx actions guarded by the referral's version, and a daily digest.

Modules: `workflow` (the status table and each step), `queries` (scope, filters, counts),
`forms`, `views`, `digest` (`flask send-digests`), `demo` (sample data for `seed-demo`).
"""

from flask import Blueprint

# cli_group=None: the digest command is `flask send-digests`, not `flask queue send-digests`.
bp = Blueprint("queue", __name__, url_prefix="/queue", cli_group=None)

from . import digest, views  # noqa: E402, F401
