"""The open preschool's programme: activities per site and their kinds, schedules as iCalendar
recurrence rules and the sessions written out from them (cancelled, moved, one-off), anonymous
attendance recorded from the Today screen, outreach contacts, and the public weekly programme
with its calendar feed and printable poster."""

from flask import Blueprint

bp = Blueprint("programme", __name__)
