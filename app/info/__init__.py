"""Public service information (area: info).

Owns the pages visitors read without signing in: `/<lang>/` (a picture-led grid of services),
`/<lang>/<slug>` (one service, with read-aloud, an optional audio file, a QR code), its print
handout, and kiosk mode (a staff member hands the tablet to a visitor; only these pages are
reachable until the staff member signs in again).
Also the public page on how to withdraw consent (the receipt's QR code points there), and
the service catalogue: its seed texts, import and export (`catalogue`).

Each open preschool has a public page too, `/<lang>/site/<id>`: address, opening hours, a map
link, phone, and the services held there; a service's page shows where, when and how to
apply in this municipality.

Modules: `queries` (which organisation and which text a visitor sees, its sites), `hours`
(opening hours per weekday), `places` (map links), `catalogue`, `forms`, `views`,
`commands` (`flask catalogue-export`/`-import`). Recordings are kept by the core's `audio`.

Public pages are light on purpose: their own base template without htmx or app.js, and cacheable
for five minutes when nobody is signed in.
"""

from flask import Blueprint
from werkzeug.routing import BaseConverter

from .hours import week_spans
from .places import map_url

bp = Blueprint("info", __name__)


class LocaleConverter(BaseConverter):
    """A language tag such as sv, ar-SE or zh-Hant-TW, so /<lang>/ does not swallow other
    one-segment paths (/no-such-page stays a 404); unknown tags are redirected by the views."""

    regex = r"[A-Za-z]{2,3}(?:[-_](?:[A-Za-z]{4}|[A-Za-z]{2}|[0-9]{3}))?(?:[-_](?:[A-Za-z]{2}|[0-9]{3}))?"


# Registered when the blueprint is, so before the routes in views.py that use it.
bp.record_once(lambda state: state.app.url_map.converters.setdefault("locale", LocaleConverter))
# A site's or a service's hours and map link, for every page that shows where to come (the
# public pages, and the receipt and consent screens of the referrals area).
bp.add_app_template_global(week_spans, "opening_hours")
bp.add_app_template_global(map_url, "map_url")


# Words that public routes use right after /<lang>/ (/<lang>/withdraw), so no service may take
# them as its slug: /<lang>/<slug> would never reach it. A new /<lang>/<word> route adds its
# word here; tests/test_shape.py walks the URL map and fails until it does.
RESERVED_SLUGS = frozenset({"withdraw", "site", "programme", "status"})
