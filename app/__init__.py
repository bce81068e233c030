"""Application factory: a list of small named steps, so reading it tells you the app."""

import os
import secrets
from datetime import timedelta
from importlib import import_module
from pathlib import Path

from flask import Flask

from .extensions import babel, csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    configure_app(app, test_config)
    configure_db(app)
    configure_extensions(app)
    from . import request_input

    request_input.register(app)  # before the blueprints: their rules take its id converter
    from . import errors, security, templating

    # Before the blueprints: its checks (NUL bytes, the idle timeout) run before the areas'
    # app-wide ones (auth's two-factor enrolment, info's kiosk), which assume a live session.
    security.register(app)
    add_blueprints(app)
    add_listeners(app)
    errors.register(app)
    templating.register(app)
    add_commands(app)
    return app


def configure_app(app: Flask, test_config: dict | None) -> None:
    """Defaults, then instance/config.py, then the environment, then a test's mapping."""
    instance = Path(app.instance_path)
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    instance.chmod(0o700)  # keys, the secret key and the SQLite file live here
    app.config.from_mapping(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{Path(app.instance_path) / 'app.db'}",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=False,
        REMEMBER_COOKIE_DURATION=timedelta(0),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=10),  # absolute lifetime of a sign-in
        SESSION_IDLE_MINUTES=30,
        WTF_CSRF_TIME_LIMIT=None,  # the session's own lifetime bounds the token
        BABEL_DEFAULT_LOCALE="sv",
        BABEL_DEFAULT_TIMEZONE="Europe/Stockholm",
        BABEL_TRANSLATION_DIRECTORIES=str(ROOT / "translations"),
        RATELIMIT_STORAGE_URI="memory://",
        # A moving window: a fixed one resets on the minute, letting a burst straddle it.
        RATELIMIT_STRATEGY="moving-window",
        # Explicit: Flask-Limiter keeps the last app's setting as the default for the next one.
        RATELIMIT_ENABLED=True,
        RATELIMIT_HEADERS_ENABLED=False,
        # Sign-in throttling (app/throttle.py says the policy and why there is no hard lock).
        LOGIN_LIMIT_PER_ADDRESS="20 per minute",
        LOGIN_LIMIT_PER_ACCOUNT="5 per minute;20 per hour",
        LOGIN_BACKOFF_AFTER="10 per 15 minutes",
        LOGIN_BACKOFF_INTERVAL="1 per 10 seconds",
        # Argon2id's parameters for new password hashes (time_cost, memory_cost in KiB,
        # parallelism); None: argon2-cffi's current defaults (app/auth/passwords.py).
        ARGON2_PARAMETERS=None,
        SEND_FILE_MAX_AGE_DEFAULT=timedelta(days=365),  # static URLs carry a content hash
        MAX_CONTENT_LENGTH=6 * 1024 * 1024,
        AUDIO_MAX_BYTES=5 * 1024 * 1024,
        PUBLIC_ORGANISATION=None,  # slug of the organisation shown on public pages
        SMTP_HOST=None,
        SMTP_PORT=25,
        SMTP_FROM="noreply@localhost",
        # Text messages to visitors (app/outbox.py): "46elks" or "twilio" (any API that speaks
        # Twilio's Messages resource), its base URL, account and secret, and the sender shown.
        # None: SMS stay queued until one is configured.
        SMS_PROVIDER=None,
        SMS_API_URL=None,
        SMS_API_USER=None,
        SMS_API_PASSWORD=None,
        SMS_FROM="Bro",
        # How often `flask send-outbox` tries a message before marking it failed.
        OUTBOX_MAX_ATTEMPTS=8,
        TRUST_PROXY=False,
        # Keys of the contact details (app/crypto.py); None: instance/keys/contact-keys.json.
        CONTACT_KEY_FILE=None,
        # How long backups are kept: `flask rotate-keys` destroys keys retired longer ago.
        BACKUP_RETENTION_DAYS=35,
        # Operations (app/ops): the log's format ("json" or "text"), and who may read /metrics:
        # addresses or networks (comma separated), or a request with this bearer token.
        LOG_FORMAT="json",
        METRICS_ALLOWED_IPS="",
        METRICS_TOKEN=None,
    )
    app.config.from_pyfile("config.py", silent=True)
    for name in (
        "SECRET_KEY",
        "RATELIMIT_STORAGE_URI",
        "PUBLIC_ORGANISATION",
        "SMTP_HOST",
        "SMTP_FROM",
        "SMS_PROVIDER",
        "SMS_API_URL",
        "SMS_API_USER",
        "SMS_API_PASSWORD",
        "SMS_FROM",
        "CONTACT_KEY_FILE",
        "LOG_FORMAT",
        "METRICS_ALLOWED_IPS",
        "METRICS_TOKEN",
    ):
        if os.environ.get(name):
            app.config[name] = os.environ[name]
    for name in ("SESSION_COOKIE_SECURE", "TRUST_PROXY"):
        if os.environ.get(name):
            app.config[name] = os.environ[name].lower() in ("1", "true", "yes")
    for name in (
        "SESSION_IDLE_MINUTES",
        "SMTP_PORT",
        "BACKUP_RETENTION_DAYS",
        "OUTBOX_MAX_ATTEMPTS",
    ):
        if os.environ.get(name):
            app.config[name] = int(os.environ[name])
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if test_config:
        app.config.update(test_config)
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_db_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(Path(app.instance_path))
    if app.config["TRUST_PROXY"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)


def normalise_db_url(url: str) -> str:
    """Accept the usual postgres:// forms and use psycopg 3 for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def instance_secret_key(instance: Path) -> str:
    """A key generated once per installation and kept in instance/, readable by the owner only."""
    path = instance / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()


def configure_db(app: Flask) -> None:
    from .database import configure_engine_options

    configure_engine_options(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    from .database import (
        POSTGRES_SETTINGS,
        install_postgres_settings,
        install_sqlite_pragmas,
        release_session,
    )

    # Registered after Flask-SQLAlchemy's own teardown, so it runs first.
    app.teardown_appcontext(release_session)
    with app.app_context():
        install_sqlite_pragmas(db.engine)
        install_postgres_settings(db.engine, app.config.get("POSTGRES_SETTINGS", POSTGRES_SETTINGS))


def configure_extensions(app: Flask) -> None:
    from .i18n import select_locale

    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    # Not "strong": a tablet on a mobile network changes address; the session token and
    # the idle timeout protect the session instead.
    login_manager.session_protection = "basic"
    from .auth.signin import load_user

    login_manager.user_loader(load_user)


# The areas, in the order their blueprints are registered. Each is a package of one shape:
# the blueprint in __init__.py, its pages in views.py (importing them attaches the routes),
# and its commands, if it has any, in commands.py.
AREAS = (
    "auth",
    "visits",
    "referrals",
    "queue",
    "followup",
    "partners",
    "info",
    "programme",
    "projects",
    "stats",
    "admin",
    "ops",
)


def add_blueprints(app: Flask) -> None:
    for name in AREAS:
        import_module(f"app.{name}.views")
        app.register_blueprint(import_module(f"app.{name}").bp)


def add_commands(app: Flask) -> None:
    """`flask` commands: the core's (app/cli.py), then those of the areas that have some."""
    from . import cli
    from .admin import commands as admin_commands
    from .info import commands as info_commands
    from .queue import commands as queue_commands
    from .stats import commands as stats_commands

    for module in (cli, admin_commands, info_commands, queue_commands, stats_commands):
        module.register(app)


def add_listeners(app: Flask) -> None:
    """Session hooks whose order matters, once per process. The audit chain's before-commit
    hook comes after the statistics' (imported here first, whatever imported it before): its
    lock must be the last one a transaction takes (app.audit.install_listeners says why)."""
    from . import audit
    from .stats import cache

    cache.install_listeners()
    audit.install_listeners()
