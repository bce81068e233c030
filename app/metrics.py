"""Counters for Prometheus, kept in the core so the core's jobs (the outbox, the purge) can count
without importing an area; the ops area (app/ops) counts the requests and serves `/metrics`.

Under gunicorn each worker is a process of its own: with PROMETHEUS_MULTIPROC_DIR set (before
the process starts, prometheus-client reads it at import), every process writes its values to
files there and a scrape sums them (the library's multiprocess mode). The directory must be
empty when the server starts; app/gunicorn_config.py tells the library when a worker exits.

Labels are codes and endpoint names only: never a URL, an id or anything a visitor typed. The
queue sizes are counted when scraped, with one COUNT ... GROUP BY status of the referrals.
"""

import os
from collections.abc import Iterable, Iterator

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db

REQUESTS = Counter(
    "bro_http_requests_total",
    "HTTP requests answered, by endpoint (the route's name), method and status.",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "bro_http_request_duration_seconds",
    "Time from the request's first hook to its answer, by endpoint.",
    ["endpoint"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
DATABASE_ERRORS = Counter(
    "bro_database_errors_total",
    "Errors raised by the database driver, by the exception's class.",
    ["error"],
)
RATE_LIMITED = Counter(
    "bro_rate_limited_total",
    "Requests refused with 429 (rate limits and sign-in throttling), by endpoint.",
    ["endpoint"],
)
OUTBOX = Counter(
    "bro_outbox_messages_total",
    "Outbox messages handled by `flask send-outbox`, by the status they reached.",
    ["status"],
)
PURGE = Counter(
    "bro_purge_total",
    "Rows removed or erased by the retention jobs, by kind.",
    ["kind"],
)


def count_outbox(status: str, n: int = 1) -> None:
    """`n` outbox messages reached `status` (a MessageStatus code: sent, failed, ...)."""
    if n:
        OUTBOX.labels(status=str(status)).inc(n)


def count_purge(kind: str, n: int = 1) -> None:
    """`n` rows of `kind` (expired, erased, audit_events, ...) removed by a retention job."""
    if n:
        PURGE.labels(kind=str(kind)).inc(n)


def count_database_error(error: BaseException) -> None:
    DATABASE_ERRORS.labels(error=type(error).__name__).inc()


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir")


class QueueSizes:
    """The referrals by status, counted at scrape time (a gauge no worker has to keep)."""

    def collect(self) -> Iterator[Metric]:
        from .models import Referral

        gauge = GaugeMetricFamily(
            "bro_referrals", "Referrals by status, counted when scraped.", labels=["status"]
        )
        try:
            rows = db.session.execute(
                select(Referral.status, func.count()).group_by(Referral.status)
            ).all()
        except SQLAlchemyError:  # the database is away: the other metrics still answer
            db.session.rollback()
            return
        for status, n in rows:
            gauge.add_metric([str(status)], n)
        yield gauge


class Scrape:
    """What one scrape shows: this process's metrics, or every worker's summed from the
    multiprocess directory, then the queue sizes."""

    def __init__(self, sources: Iterable):
        self.sources = list(sources)

    def collect(self) -> Iterator[Metric]:
        for source in self.sources:
            yield from source.collect()


def exposition() -> bytes:
    """The text format Prometheus scrapes."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        processes = registry
    else:
        processes = REGISTRY
    return generate_latest(Scrape([processes, QueueSizes()]))
