"""What the ops area adds to every request of the app: the request id and log line, the
request counters, the count of database errors, and compressed answers.

Compression (Flask-Compress) is for an installation without a proxy that compresses: text
types above a minimum size, brotli where the client takes it, else gzip. Spreadsheets (xlsx)
are zip files already and are not in the list; audio is not either.
"""

from flask import Flask, Response
from flask_compress import Compress
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .. import metrics
from . import logs

COMPRESSED_TYPES = [
    "text/html",
    "text/css",
    "text/plain",
    "text/csv",
    "text/calendar",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/xml",
    "image/svg+xml",
]
COMPRESS_MIN_BYTES = 1024  # below a packet or two, compressing saves nothing on the wire


def install(app: Flask) -> None:
    logs.configure(app)
    # First of all the before-request hooks: a request an early hook refuses has its id too.
    app.before_request_funcs.setdefault(None, []).insert(0, logs.start_request)
    app.after_request(after_request)
    if not event.contains(Engine, "handle_error", on_database_error):
        event.listen(Engine, "handle_error", on_database_error)
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    app.config.setdefault("COMPRESS_MIN_SIZE", COMPRESS_MIN_BYTES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    # Brotli 5: smaller than gzip 6 on our pages and CSS at about the same CPU (4, the
    # library's default, was larger than gzip on the stylesheet).
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["br", "gzip"])  # static files
    Compress().init_app(app)  # one per app: it keeps the app's settings


def after_request(response: Response) -> Response:
    fields = logs.finish_request(response)
    endpoint, status = fields["endpoint"], fields["status"]
    metrics.REQUESTS.labels(endpoint=endpoint, method=fields["method"], status=status).inc()
    if fields["duration_ms"] is not None:
        metrics.LATENCY.labels(endpoint=endpoint).observe(fields["duration_ms"] / 1000)
    if status == 429:
        metrics.RATE_LIMITED.labels(endpoint=endpoint).inc()
    return response


def on_database_error(context) -> None:
    """Counted by SQLAlchemy's class for it (OperationalError, IntegrityError, ...), the same
    on every driver; the driver's own exception when SQLAlchemy did not wrap it."""
    metrics.count_database_error(context.sqlalchemy_exception or context.original_exception)
