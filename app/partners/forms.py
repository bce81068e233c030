"""The form of a receiving service's step. One form for every step: the step is a hidden
field of each button's form, and only booked (day, time, place) and declined (reason) carry
more. Each carries the referral's `version`, so a step taken on an out-of-date screen is
refused instead of overwriting someone else's."""

from __future__ import annotations

from datetime import datetime, time

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, StopValidation, ValidationError
from wtforms.widgets import HiddenInput, TextInput

from ..choices import DeclineReason, PartnerStep
from ..form_fields import DayField, one_of
from ..text_input import clean_text
from ..workdays import local_today


class TimeOfDayField(Field):
    """A time input (`type=time`, HH:MM) whose parse error is our own translated message."""

    widget = TextInput(input_type="time")

    def process_formdata(self, valuelist):
        raw = valuelist[0].strip() if valuelist else ""
        self.data = None
        if not raw:
            return
        try:
            self.data = datetime.strptime(raw[:5], "%H:%M").time()  # noqa: DTZ007 a wall-clock time
        except ValueError as error:
            raise ValueError(_l("Skriv tiden som TT:MM, till exempel 09:30.")) from error

    def _value(self) -> str:
        if isinstance(self.data, time):
            return self.data.strftime("%H:%M")
        return self.raw_data[0] if self.raw_data else ""


def one_line(value):
    """A place is one line: control characters go, line breaks and tabs become spaces."""
    if not isinstance(value, str):
        return value
    return " ".join(clean_text(value).split())


def needed_for(step: str, message):
    """Required when the form's step is `step`; keeps a parse error of its own."""

    def check(form, field):
        if form.step.data != step:
            field.errors[:] = []
            raise StopValidation()
        if field.data in (None, "") and not field.process_errors:
            raise StopValidation(message)

    return check


class StepForm(FlaskForm):
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    step = HiddenField(
        validators=[
            InputRequired(_l("Välj ett steg.")),
            one_of(set(PartnerStep), _l("Välj ett steg.")),
        ]
    )
    day = DayField(
        _l("Datum"), validators=[needed_for(PartnerStep.BOOKED, _l("Fyll i ett datum."))]
    )
    time = TimeOfDayField(
        _l("Tid"), validators=[needed_for(PartnerStep.BOOKED, _l("Fyll i en tid."))]
    )
    place = StringField(
        _l("Plats"),
        filters=[one_line],
        validators=[
            needed_for(PartnerStep.BOOKED, _l("Skriv var besöket är.")),
            Length(max=200, message=_l("Skriv högst 200 tecken.")),
        ],
    )
    reason = SelectField(
        _l("Orsak"),
        validate_choice=False,
        validators=[
            needed_for(PartnerStep.DECLINED, _l("Välj en orsak.")),
            one_of(set(DeclineReason), _l("Välj en orsak i listan.")),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reason.choices = [("", _l("Välj orsak"))] + DeclineReason.choices()

    def validate_day(self, field):
        if field.data and field.data < local_today():
            raise ValidationError(_l("Datumet har redan passerat."))
