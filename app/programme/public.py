"""The visitors' programme (area: programme): this week and next per site in the visitor's
language, the calendar feed (.ics) per site and locale, and the printable weekly poster."""

from . import bp  # noqa: F401 (the routes below attach to it)
