"""Visits (area: visits): anonymous visit recording. The Today screen per site, the record
form, edit and undo of one's own entries on the same day, and the week view.

A visit holds counts and codes only (see models.Visit); there is no free-text field anywhere,
so nothing typed here can name a person. Counting happens in SQL on the site/date indexes.

Modules: `forms`, `queries` (the day's totals, the week, the languages used most),
`records` (recording, changing and removing a visit, each in one transaction with the
statistics' summaries), `views`, `demo` (sample visits for `seed-demo`).
"""

from flask import Blueprint

bp = Blueprint("visits", __name__)
