"""The dashboard's filter form: read from the query string, validated with translated
messages next to each field."""

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from ..workdays import local_today
from .periods import (
    FIRST_DAY,
    LAST_DAY,
    Bucket,
    Period,
    PeriodKind,
    default_bucket,
    preset,
    too_long,
)

PERIOD_LABELS = {
    PeriodKind.WEEK: _l("Vecka"),
    PeriodKind.MONTH: _l("Månad"),
    PeriodKind.QUARTER: _l("Kvartal"),
    PeriodKind.YEAR: _l("År"),
    PeriodKind.CUSTOM: _l("Egen period"),
}
BUCKET_LABELS = {Bucket.WEEK: _l("Per vecka"), Bucket.MONTH: _l("Per månad")}


class ChoiceField(SelectField):
    """A select of (value, label) options whose "not one of them" message is ours, translated."""

    def __init__(self, label=None, options=(), **kwargs):
        self.allowed = {value for value, _label in options}
        super().__init__(label, choices=[SelectChoice(v, text) for v, text in options], **kwargs)

    def pre_validate(self, form):
        if self.data not in self.allowed:
            raise ValidationError(str(_l("Välj ett av alternativen.")))


class IsoDateField(DateField):
    """A date field whose parse error is ours, translated, not WTForms' English one."""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = date.fromisoformat(valuelist[0].strip())
        except ValueError:
            self.data = None
            raise ValueError(str(_l("Skriv datumet som ÅÅÅÅ-MM-DD."))) from None
        if not FIRST_DAY <= self.data <= LAST_DAY:
            self.data = None
            raise ValueError(
                str(
                    _l(
                        "Välj ett datum från %(first)s till %(last)s.",
                        first=FIRST_DAY.isoformat(),
                        last=LAST_DAY.isoformat(),
                    )
                )
            )


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False  # read-only filters in the query string

    period = ChoiceField(
        _l("Period"),
        options=[(k.value, label) for k, label in PERIOD_LABELS.items()],
        default=PeriodKind.MONTH.value,
    )
    on = IsoDateField(_l("Datum i perioden"), validators=[Optional()])
    start = IsoDateField(_l("Från och med"))
    end = IsoDateField(_l("Till och med"))
    bucket = ChoiceField(
        _l("Utveckling"),
        options=[("", _l("Automatiskt"))]
        + [(b.value, label) for b, label in BUCKET_LABELS.items()],
        default="",
    )

    def validate_start(self, field):
        if self.period.data == PeriodKind.CUSTOM and field.data is None and not field.errors:
            raise ValidationError(str(_l("Välj ett startdatum.")))

    def validate_end(self, field):
        if self.period.data != PeriodKind.CUSTOM:
            return
        if field.data is None:
            if not field.errors:
                raise ValidationError(str(_l("Välj ett slutdatum.")))
            return
        start = self.start.data
        if start is None:
            return
        if field.data < start:
            raise ValidationError(str(_l("Slutdatumet kan inte vara före startdatumet.")))
        if too_long(start, field.data):
            raise ValidationError(str(_l("Perioden kan vara högst fem år.")))

    def resolved(self) -> tuple[Period, Bucket]:
        """The period and trend bucket the (valid) form asks for."""
        kind = PeriodKind(self.period.data)
        if kind is PeriodKind.CUSTOM:
            period = Period(kind, self.start.data, self.end.data)
        else:
            period = preset(kind, self.on.data or local_today())
        bucket = Bucket(self.bucket.data) if self.bucket.data else default_bucket(period)
        return period, bucket
