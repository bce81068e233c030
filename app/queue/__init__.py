"""Follow-up queues (area: queue): coordinators work the referrals of their services from
"new" to a closed outcome, with deadlines in working days, an event timeline, audited access
to contact details, inline htmx actions guarded by the referral's version, and a daily digest.

Modules: `workflow` (the status table and each step), `queries` (scope, filters, counts),
`forms`, `views`, `digest` (the morning e-mail), `commands` (`flask send-digests`), `demo`
(sample data for `seed-demo`).
"""

from flask import Blueprint

bp = Blueprint("queue", __name__, url_prefix="/queue")
