"""Referrals with consent (area: referrals).

Staff refer one visitor to one or more services: the visitor reads the consent screen in their
own language and says yes or no; yes stores one consent, its contact details and one referral
per service (through app.privacy, the only code that touches contact details); no stores only
an anonymous count of interest. Also here: the visitor's receipt, "my referrals", the register
extract (GDPR art. 15) and withdrawal. (The public page on how to withdraw is the info area's.)
At the contact step she may choose a channel (SMS or e-mail) for messages about her referral;
the flow queues the confirmation in app.outbox, which sends it later. Her own public status
page, `/<lang>/status`, shows where each referral stands behind her code and phone number.

Modules: `flow` (the screens from the choice of services to the consent and contact details),
`records` (receipt, "my referrals", extract, withdrawal), `status` (the public status page),
`views` (imports the three: the area's pages), `forms`, `common` (lookups they share),
`progress` (where a referral stands, in the visitor's words).
"""

from flask import Blueprint

from ..i18n import in_language

bp = Blueprint("referrals", __name__)
# The consent, the receipt and the extract: the visitor's part in her language, the staff's
# page around it in theirs.
bp.add_app_template_global(in_language)
