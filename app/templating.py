"""What every template can use: locale and direction, versioned static URLs, navigation."""

import hashlib
from functools import cache, lru_cache
from pathlib import Path

from flask import Flask, current_app, has_request_context, request, url_for
from flask_babel import format_date, format_datetime, get_locale, get_timezone
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from . import choices, languages, swedish_terms
from .choices import Role
from .i18n import CONTENT_LOCALES, LOCALES, current_locale, text_direction, ui_locale
from .web import new_form_key

# (endpoint, label, roles allowed).
NAVIGATION = (
    ("visits.today", _l("Idag"), (Role.STAFF, Role.COORDINATOR, Role.ADMIN)),
    ("referrals.mine", _l("Mina hänvisningar"), (Role.STAFF, Role.COORDINATOR, Role.ADMIN)),
    ("programme.activities", _l("Program"), (Role.STAFF, Role.ADMIN)),
    ("queue.index", _l("Köer"), (Role.COORDINATOR, Role.ADMIN)),
    ("stats.dashboard", _l("Statistik"), (Role.COORDINATOR, Role.ADMIN)),
    ("admin.index", _l("Administration"), (Role.ADMIN,)),
    ("partners.inbound", _l("Inkomna hänvisningar"), (Role.PARTNER,)),
)


@cache
def _file_hash(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:10]


def static_url(filename: str) -> str:
    """A static URL that changes when the file does, so it can be cached for a year."""
    root = request.script_root if has_request_context() else ""
    return _static_url(current_app.static_folder, root, filename)


@lru_cache(maxsize=1024)
def _static_url(folder: str, script_root: str, filename: str) -> str:
    """Built once per file (and mount point), like the hash it carries: a programme page names
    the same few pictograms hundreds of times."""
    path = Path(folder) / filename
    version = _file_hash(str(path)) if path.is_file() else "0"
    return url_for("static", filename=filename, v=version)


def navigation() -> list[tuple[str, str]]:
    if not current_user.is_authenticated:
        return []
    return [
        (endpoint, label)
        for endpoint, label, allowed in NAVIGATION
        if current_user.role in allowed and endpoint in current_app.view_functions
    ]


def language_name(code: str) -> str:
    """A language's name in the reader's language (app.languages.name), for templates."""
    return languages.name(code, current_locale())


def register(app: Flask) -> None:
    # Labels of stored codes, one function for every template: `label(ReferralStatus, code)`.
    app.jinja_env.globals.update(
        label=choices.label,
        language_name=language_name,
        ui_locale=ui_locale,  # a content locale's lang attribute: "sv" for lättläst
        text_direction=text_direction,
        content_locales=CONTENT_LOCALES,
        **{kind.__name__: kind for kind in choices.Labelled.__subclasses__()},
    )

    @app.context_processor
    def globals_for_templates():
        locale = current_locale()
        return {
            "locale": locale,
            "text_dir": text_direction(locale),
            "locales": LOCALES,
            "static_url": static_url,
            "navigation": navigation,
            "new_form_key": new_form_key,
        }

    # A service's texts on the public pages: its Swedish terms in lang="sv" (app.swedish_terms).
    app.jinja_env.filters["swedish_terms"] = swedish_terms.marked
    app.jinja_env.filters["plain_terms"] = swedish_terms.plain
    app.jinja_env.filters["date"] = lambda value, fmt="medium": _formatted(
        format_date, value, fmt, str(get_locale()), str(get_timezone())
    )
    app.jinja_env.filters["datetime"] = lambda value, fmt="short": _formatted(
        format_datetime, value, fmt, str(get_locale()), str(get_timezone())
    )


@lru_cache(maxsize=4096)
def _formatted(formatter, value, fmt: str, locale: str, timezone: str) -> str:
    """A date or time as Babel writes it in the reader's language and time zone (both in the
    key: `formatter` reads them from the request). Babel takes some 40 µs a call; lists show
    the same referrals' and visits' times on every view, so most are formatted only once."""
    return formatter(value, fmt)
