"""gunicorn's settings for Bro, read with `gunicorn -c python:app.gunicorn_config 'app:create_app()'`.

It adds one check gunicorn cannot make by itself: the sign-in limits (app/throttle.py) count in
the limiter's storage, and with `memory://` each worker counts on its own, so with several
workers an attacker gets several times the allowed guesses. Each worker says so at start.
"""

import logging
import os

# The defaults the README's production steps use; the command line overrides them.
bind = "127.0.0.1:8000"
workers = 3


def check_limiter_storage(workers: int, storage_uri: str, log: logging.Logger) -> bool:
    """False, with a warning in the log, when several workers would count apart."""
    if workers > 1 and storage_uri.startswith("memory://"):
        log.warning(
            "Sign-in limits are kept in memory:// and %d workers count apart: each one allows "
            "the full number of guesses. Set RATELIMIT_STORAGE_URI to a shared store, for "
            "example redis://127.0.0.1:6379/0.",
            workers,
        )
        return False
    return True


def post_worker_init(worker) -> None:
    app = worker.wsgi
    config = getattr(app, "config", None)
    if config is not None:
        check_limiter_storage(worker.cfg.workers, config["RATELIMIT_STORAGE_URI"], worker.log)


def child_exit(_server, worker) -> None:
    """Tell prometheus-client's multiprocess mode (app/metrics.py) that a worker is gone."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
