"""The receiving services (issue 21): people at a partner organisation (an SFI school's
admissions, the employment service, the preschool placement office, a civil-society group)
see the referrals made to their services, and only the fields they need, and record what
happened: received, contacted, a booked time, started, or declined with a coded reason. Each
step moves the referral in the coordinators' queue and counts in the statistics; a booking is
told to the visitor on the channel she chose (app.outbox). A referral not acknowledged in the
organisation's working days is overdue on both sides.
"""

from flask import Blueprint

bp = Blueprint("partners", __name__, url_prefix="/inbound")
