"""Bounds on what a request may carry, kept in one place for every route (issue 16).

- Ids. Every table's id is a 32-bit integer (PostgreSQL's `integer`); a larger number in a
  query makes PostgreSQL raise "integer out of range" and SQLite's driver raise OverflowError,
  which used to surface as a 500. An id outside 1..2^31-1 names no record, so it is answered
  like any id that does not exist: the `int` URL converter does not match it (404), and
  `parse_id` / `query_id` read ids from query strings and form fields by the same rule.
- File parts. Flask-WTF hands a form every part of a multipart body, files included, so a
  text field sent as a file part reached validators and views as a FileStorage where a str
  was expected. Only the fields a view declares with `@uploads(...)` may be files; any other
  file part makes the request a 400 with the normal error page, before the view runs.
"""

import re
from collections.abc import Callable, Iterable

from flask import Flask, abort, current_app, request
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1
# ASCII digits only: str.isdigit() accepts "²", which int() then refuses.
_ID = re.compile(r"[0-9]{1,10}")


def parse_id(raw: object) -> int | None:
    """The id written in `raw`, or None when it cannot be the id of any record."""
    if not isinstance(raw, str) or not _ID.fullmatch(raw := raw.strip()):
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ID else None


def query_id(name: str, source=None) -> int | None:
    """An optional id parameter (query string by default): None when it is absent or blank,
    404 when it is given but names no possible record."""
    raw = (request.args if source is None else source).get(name)
    if raw is None or not raw.strip():
        return None
    value = parse_id(raw)
    if value is None:
        abort(404)
    return value


def ids_or_404(values: Iterable[str]) -> list[int]:
    """Every value as an id; 404 if one of them names no possible record."""
    ids = [parse_id(v) for v in values]
    if None in ids:
        abort(404)
    return ids  # type: ignore[return-value]  # None was ruled out above


class IdConverter(IntegerConverter):
    """`<int:...>` in this app is always a record id: 1..2^31-1, else the route does not match."""

    def __init__(self, map, fixed_digits: int = 0, min: int = 1, max: int = MAX_ID, **kwargs):
        super().__init__(map, fixed_digits, min, max, **kwargs)


def uploads(*names: str) -> Callable[[Callable], Callable]:
    """Declare the form fields of a view that are files; no other field may be one."""

    def decorator(view: Callable) -> Callable:
        view.uploads = frozenset(names)
        return view

    return decorator


def refuse_stray_file_parts() -> None:
    if request.mimetype != "multipart/form-data" or not request.files:
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None:
        return  # not a route: the 404 says enough
    if set(request.files) - getattr(view, "uploads", frozenset()):
        abort(400)


def register(app: Flask) -> None:
    """Before the blueprints: a rule's converter is chosen when the rule is added."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_stray_file_parts)
