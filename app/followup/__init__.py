"""What happened afterwards (issue 20): the follow-up tasks of a referral that closed as
started, due some months after the close, and their coded results. The tasks are planned here
when the queue closes a referral as started; coordinators work them in their queue's own tab;
the results are anonymous rows that outlive the contact details and feed the statistics and
the projects' reports."""

from flask import Blueprint

bp = Blueprint("followup", __name__)
