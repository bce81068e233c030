"""One log line per request, and the request id a user can quote from an error page.

The line is a record of the standard logging module (logger `bro.requests`), formatted as one
JSON object per line when LOG_FORMAT is "json" (the default) or as plain text: time, request
id, method, endpoint (the route's name, never the URL: no ids, no query string), status,
duration, user id and site id. Nothing from the form or the query string is ever added.

A small Formatter rather than python-json-logger: the fields are fixed and few, so a
dependency would buy nothing but a second way to spell them.

The request id is the caller's X-Request-ID when it looks like one (a proxy's, so its log and
ours meet), else a new one; it goes back on the response's X-Request-ID header and on the
error pages.
"""

import json
import logging
import re
import secrets
import sys
import time
from datetime import UTC, datetime

from flask import Flask, Response, g, has_request_context, request
from sqlalchemy import inspect as sa_inspect

REQUEST_LOGGER = "bro.requests"
REQUEST_ID_HEADER = "X-Request-ID"
# Letters, digits and . _ -, 8 to 64 of them: a uuid, nginx's $request_id, a trace id.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
REQUEST_FIELDS = ("request_id", "method", "endpoint", "status", "duration_ms", "user_id", "site_id")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

log = logging.getLogger(REQUEST_LOGGER)


def current_request_id() -> str:
    """This request's id, made on first use (before any other hook, so also for a request an
    early hook refused)."""
    if "request_id" not in g:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = given if SANE_REQUEST_ID.fullmatch(given) else secrets.token_hex(6)
    return g.request_id


class JsonFormatter(logging.Formatter):
    """{"time": ..., "level": ..., "logger": ..., "message": ..., the request's fields}."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in REQUEST_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                line[field] = value
        if "request_id" not in line and has_request_context() and "request_id" in g:
            line["request_id"] = g.request_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            in_request = has_request_context() and "request_id" in g
            record.request_id = g.request_id if in_request else "-"
        return super().format(record)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record comes (as logging's last resort does),
    so a replaced stderr (a test's capture, a daemon's) is followed."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self):
        return sys.stderr


def configure(app: Flask) -> None:
    """One handler on the root logger per process, in the configured format; the request lines
    at INFO. The root logger's level is left alone: lowering it would let libraries (SQLAlchemy
    logs statements with their parameters at INFO) write what must stay out of the log."""
    formatter = (
        JsonFormatter() if app.config["LOG_FORMAT"] == "json" else TextFormatter(TEXT_FORMAT)
    )
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, StderrHandler)), None)
    if handler is None:
        handler = StderrHandler()
        root.addHandler(handler)
    handler.setFormatter(formatter)
    from flask.logging import default_handler

    app.logger.removeHandler(default_handler)  # the root's handler writes the app's records
    log.setLevel(logging.INFO)
    log.disabled = False  # alembic's fileConfig (in-process migrations) disables loggers


def start_request() -> None:
    g.request_started = time.perf_counter()
    current_request_id()


def request_fields(response: Response) -> dict:
    started = g.get("request_started")
    user = g.get("_login_user")  # only a user this request already loaded: no query here
    site_id = g.get("site_id")
    if site_id is None and request.view_args:
        site_id = request.view_args.get("site_id")
    return {
        "request_id": current_request_id(),
        "method": request.method,
        "endpoint": request.endpoint or "unmatched",
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        "user_id": _user_id(user),
        "site_id": site_id if isinstance(site_id, int) else None,
    }


def _user_id(user) -> int | None:
    """The signed-in user's id from the identity map: after a view's commit the user is
    expired, and reading `user.id` or `is_authenticated` would load them again (a query)."""
    if user is None or user.is_anonymous:
        return None
    identity = sa_inspect(user).identity
    return identity[0] if identity else None


def finish_request(response: Response) -> dict:
    """The response's X-Request-ID and the request's log line; returns the line's fields."""
    fields = request_fields(response)
    response.headers[REQUEST_ID_HEADER] = fields["request_id"]
    log.info(
        "%s %s %s %sms",
        fields["method"],
        fields["endpoint"],
        fields["status"],
        fields["duration_ms"],
        extra=fields,
    )
    return fields
