"""Form fields every area's forms share, with their messages translated."""

from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import DateField


class DayField(DateField):
    """A date input (`type=date`, ISO 8601) whose parse error is our own translated message,
    not WTForms' English one; empty is None, for Optional() or a required-check to judge."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {"type": "date"})
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        raw = valuelist[0].strip() if valuelist else ""
        if not raw:
            self.data = None
            return
        try:
            self.data = date.fromisoformat(raw)
        except ValueError as error:
            self.data = None
            raise ValueError(_l("Skriv datumet som ÅÅÅÅ-MM-DD.")) from error
