"""Form fields and rules every area's forms share, with their messages translated."""

from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import DateField
from wtforms.validators import ValidationError


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


def one_of(values, message):
    """A coded choice's value must be one of `values` (or empty when the field is optional):
    the list is checked here, with our message, not by WTForms' English one."""

    def check(_form, field):
        if field.data and field.data not in values:
            raise ValidationError(message)

    return check
