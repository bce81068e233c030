"""Public service information (area: info).

Owns the pages visitors read without signing in: `/<lang>/` (a picture-led grid of services),
`/<lang>/<slug>` (one service, with read-aloud, an optional audio file, a QR code), its print
handout, and kiosk mode (a staff member hands the tablet to a visitor; only these pages are
reachable until the staff member signs in again).
Also the public page on how to withdraw consent (the receipt's QR code points there), and
the service catalogue: its seed texts, import and export (`catalogue`).

Modules: `queries` (which organisation and which text a visitor sees), `audio` (uploaded
recordings), `catalogue`, `forms`, `views`, `commands` (`flask catalogue-export`/`-import`).

Public pages are light on purpose: their own base template without htmx or app.js, and cacheable
for five minutes when nobody is signed in.
"""

from flask import Blueprint
from werkzeug.routing import BaseConverter

bp = Blueprint("info", __name__)


class LocaleConverter(BaseConverter):
    """A language tag such as sv, ar-SE or zh-Hant-TW, so /<lang>/ does not swallow other
    one-segment paths (/no-such-page stays a 404); unknown tags are redirected by the views."""

    regex = r"[A-Za-z]{2,3}(?:[-_](?:[A-Za-z]{4}|[A-Za-z]{2}|[0-9]{3}))?(?:[-_](?:[A-Za-z]{2}|[0-9]{3}))?"


# Registered when the blueprint is, so before the routes in views.py that use it.
bp.record_once(lambda state: state.app.url_map.converters.setdefault("locale", LocaleConverter))


# Words that public routes use right after /<lang>/ (/<lang>/withdraw), so no service may take
# them as its slug: /<lang>/<slug> would never reach it. A new /<lang>/<word> route adds its
# word here; tests/test_shape.py walks the URL map and fails until it does.
RESERVED_SLUGS = frozenset({"withdraw"})
