"""Swedish terms inside another language's text: "Дошкільний заклад ([[förskola]])".

A service's texts mark a Swedish word a visitor will meet (förskola, Arbetsförmedlingen, SFI,
personnummer) with [[ and ]]. The public pages show it as <span lang="sv" dir="ltr">, so a
screen reader says it in Swedish, the browser hyphenates it as Swedish and, in Arabic, Persian or
Sorani, the Latin word keeps its own direction. Every other place that shows the text (staff
lists, statistics, exports, e-mail) shows the word without the marks.
"""

import re

from markupsafe import Markup, escape
from sqlalchemy import ColumnElement, func

OPEN, CLOSE = "[[", "]]"
_TERM = re.compile(r"\[\[(.+?)\]\]", re.S)
SPAN = Markup('<span lang="sv" dir="ltr">%s</span>')  # % escapes the term


def plain(text: str | None) -> str:
    """The text without the marks: "Дошкільний заклад (förskola)"."""
    return _TERM.sub(r"\1", text or "")


def marked(text: str | None) -> Markup:
    """The text escaped, each marked term in a span that says it is Swedish."""
    parts = _TERM.split(text or "")  # text, term, text, term, ..., text
    result = Markup()
    for index, part in enumerate(parts):
        result += SPAN % part if index % 2 else escape(part)
    return result


def plain_column(column: ColumnElement[str]) -> ColumnElement[str]:
    """`plain` in SQL, for a name read in the query that lists it."""
    return func.replace(func.replace(column, OPEN, ""), CLOSE, "")
