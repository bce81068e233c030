"""Projects (issue 20): funded efforts over a fixed period, the sites, services and activities
they cover and their numeric targets per indicator. Admins keep them here; the report of actual
against target is the statistics area's (`/stats/projects/<id>`)."""

from flask import Blueprint

bp = Blueprint("projects", __name__)
