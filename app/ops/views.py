"""The ops area's routes: health, readiness and metrics, for machines, without sign-in."""

from flask import Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST

from .. import metrics
from ..access import public
from ..extensions import limiter
from . import bp, health, scrape


def plain(body: str, status: int = 200) -> Response:
    response = Response(body + "\n", status=status, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
@public
@limiter.exempt
def healthz():
    """The process answers: nothing else is asked, the database least of all."""
    return plain("ok")


@bp.get("/readyz")
@public
@limiter.exempt
def readyz():
    ready, reason = health.readiness()
    return plain(reason, 200 if ready else 503)


@bp.get("/metrics")
@public
@limiter.exempt
def prometheus_metrics():
    if not scrape.may_scrape(request, current_app.config):
        abort(404)
    response = Response(metrics.exposition(), mimetype=CONTENT_TYPE_LATEST.split(";")[0])
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    response.headers["Cache-Control"] = "no-store"
    return response
