"""Running the app (area: ops): what a municipality's operations team needs from it.

Owns `/healthz` (the process answers, without touching the database), `/readyz` (the database
answers and its schema is at the newest migration; 503 with a short reason otherwise),
`/metrics` (Prometheus' text format, only for the addresses in METRICS_ALLOWED_IPS or a
request bearing METRICS_TOKEN; 404 for anyone else), one structured log line per request with
a request id the error pages show, and compressed answers (Flask-Compress).

Modules: `health` (readiness), `logs` (request id, log line, formatters), `instrument` (the
hooks every request passes through), `access` (who may scrape), `views`. The counters live in
the core (app/metrics.py), so the core's jobs count without importing this area.
"""

from flask import Blueprint

from .instrument import install
from .logs import current_request_id

bp = Blueprint("ops", __name__)

bp.record_once(lambda state: install(state.app))
# The error pages show it ("Felkod: ..."), so a user can quote it.
bp.add_app_template_global(current_request_id, "request_id")
