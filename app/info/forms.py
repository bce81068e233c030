"""(area: info) The rules of a service and of one of its translations, as WTForms forms: the
admin's screens validate with them, and so does the catalogue import, record by record, so a
file cannot store what the screens would refuse (issue 16: empty names, ids and orders the
database cannot hold)."""

import re

import phonenumbers
from babel.dates import get_day_names
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    FloatField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import (
    URL,
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from ..choices import TranslationStatus
from ..i18n import current_locale
from ..models import Service
from ..text_input import clean_text, name_text
from ..validators import RowForm, Unique
from . import RESERVED_SLUGS
from .hours import WEEKDAYS, HoursError, by_day, format_day, from_days, parse_day

# The rules of a service's fields, here with the forms that apply them: the catalogue import
# reads them through these forms, so a file cannot store what the admin's screens refuse.
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PICTOGRAMS = (
    "sfi.svg",
    "so.svg",
    "forskola.svg",
    "employment.svg",
    "guidance.svg",
    "parenting.svg",
    "service.svg",
)
WEB_URL_RE = re.compile(r"^https?://[^\s/?#]+[^\s]*$", re.IGNORECASE)
# Column lengths of the model, checked before anything is written.
LIMITS = {
    "url": 300,
    "email": 254,
    "phone": 40,
    "address": 300,
    "opening_hours": 300,
    "apply_url": 300,
}
NAME_MAX = 120
TEXT_MAX = 4000
SORT_ORDER_MAX = 10000


def _name_field() -> StringField:
    return StringField(
        _l("Namn"),
        validators=[
            DataRequired(_l("Skriv ett namn.")),
            Length(max=NAME_MAX),
            name_text,
        ],
    )


# ---------------------------------------------------------------- local details


def phone_number(_form, field) -> None:
    """A phone number a visitor can call: a valid Swedish number (or one with its country
    code), kept as the admin typed it so it reads as on the place's own signs."""
    if not field.data:
        return
    try:
        number = phonenumbers.parse(field.data, "SE")
    except phonenumbers.NumberParseException:
        number = None
    if (
        number is None
        or not phonenumbers.is_valid_number(number)
        or re.search(r"[^0-9+()\s-]", field.data)
    ):
        raise ValidationError(
            _l("Skriv ett telefonnummer med riktnummer, till exempel 08-123 456 78.")
        )


def https_url(_form, field) -> None:
    """A link for visitors: https only (no javascript: or data:, and nothing in clear text)."""
    if field.data and not re.match(r"^https://[^\s/?#]+\.[^\s/?#]+[^\s]*$", field.data, re.I):
        raise ValidationError(_l("Skriv en hel webbadress som börjar med https://."))


def phone_field() -> StringField:
    return StringField(
        _l("Telefon"),
        validators=[Optional(), Length(max=LIMITS["phone"]), phone_number],
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
    )


HOURS_MESSAGES = {
    "format": _l("Skriv tiderna som 09:00–12:00. Skilj flera tider med komma."),
    "order": _l("Stängningstiden måste vara efter öppningstiden."),
    "overlap": _l("Tiderna får inte gå in i varandra."),
    "many": _l("Högst tre tider per dag."),
}


class DayHoursField(StringField):
    """One weekday's opening hours as the admin types them; `periods` holds them read."""

    periods: list[tuple[str, str]] = []

    def pre_validate(self, form) -> None:
        try:
            self.periods = parse_day(self.data or "")
        except HoursError as error:
            self.periods = []
            raise ValidationError(str(HOURS_MESSAGES[error.code])) from error


def _weekday_label(day: int) -> LazyString:
    """The weekday's name in the admin's own language (Babel knows them all)."""
    return LazyString(lambda: get_day_names("wide", locale=current_locale())[day - 1].capitalize())


class CoordinateField(FloatField):
    """A latitude or longitude in decimal degrees; a decimal comma is read as a point."""

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0].strip():
            valuelist = [valuelist[0].strip().replace(",", ".")]
        else:
            self.data = None
            return
        try:
            self.data = float(valuelist[0])
        except ValueError as error:
            self.data = None
            raise ValueError(
                str(_l("Skriv ett tal med decimalpunkt, till exempel 59.3293."))
            ) from error


def coordinate_field(label, limit: int) -> CoordinateField:
    return CoordinateField(
        label,
        validators=[
            Optional(),
            NumberRange(-limit, limit, _l("Välj ett tal från %(min)s till %(max)s.")),
        ],
    )


class WeeklyHoursForm(RowForm):
    """A form with one field per weekday (hours_1 = Monday ... hours_7 = Sunday) for the row's
    `weekly_hours` (app.info.hours), filled from the row and written back to it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        obj = kwargs.get("obj")
        if obj is not None and not self.is_submitted():
            for day, periods in by_day(obj.weekly_hours).items():
                self[f"hours_{day}"].data = format_day(periods)

    def hour_fields(self) -> list[DayHoursField]:
        return [self[f"hours_{day}"] for day in WEEKDAYS]

    def weekly_hours(self) -> list | None:
        return from_days({day: self[f"hours_{day}"].periods for day in WEEKDAYS})

    def populate_obj(self, obj, skip: tuple[str, ...] = ()) -> None:
        for name, field in self._fields.items():
            if not name.startswith("hours_") and name not in skip:
                field.populate_obj(obj, name)
        obj.weekly_hours = self.weekly_hours()


for _day in WEEKDAYS:
    setattr(
        WeeklyHoursForm,
        f"hours_{_day}",
        DayHoursField(_weekday_label(_day), validators=[Length(max=60)]),
    )


class ServiceForm(WeeklyHoursForm):
    slug = StringField(
        _l("Kortnamn i adressen"),
        validators=[
            DataRequired(_l("Skriv ett kortnamn.")),
            Length(max=60),
            Regexp(
                SLUG_RE,
                message=_l("Bara små bokstäver a–z, siffror och bindestreck."),
            ),
            Unique(Service.slug, _l("Det kortnamnet används redan.")),
        ],
    )
    pictogram = SelectField(_l("Bild"), choices=[(p, p.removesuffix(".svg")) for p in PICTOGRAMS])
    url = URLField(
        _l("Webbadress"),
        validators=[
            Optional(),
            Length(max=LIMITS["url"]),
            URL(message=_l("Skriv en hel webbadress.")),
            # Only web links: a javascript: or data: "URL" would run in the visitor's browser.
            Regexp(WEB_URL_RE, message=_l("Skriv en hel webbadress.")),
        ],
    )
    email = EmailField(
        _l("E-post"),
        validators=[
            Optional(),
            Length(max=LIMITS["email"]),
            Email(_l("Skriv en giltig e-postadress.")),
        ],
    )
    phone = phone_field()
    apply_url = URLField(
        _l("Länk för att ansöka eller boka"),
        validators=[Optional(), Length(max=LIMITS["apply_url"]), https_url],
    )
    address = StringField(
        _l("Adress"),
        validators=[Optional(), Length(max=LIMITS["address"])],
        filters=[clean_text],
    )
    opening_hours = StringField(
        _l("Om öppettiderna"),
        validators=[Optional(), Length(max=LIMITS["opening_hours"])],
        filters=[clean_text],
    )
    sort_order = IntegerField(
        _l("Ordning"),
        default=100,
        validators=[
            InputRequired(_l("Skriv ett tal.")),
            NumberRange(0, SORT_ORDER_MAX, _l("Välj ett tal från %(min)s till %(max)s.")),
        ],
    )
    is_active = BooleanField(_l("Visas för besökare"), default=True)

    def __init__(self, *args, organisation_id: int, service_id: int | None = None, **kwargs):
        super().__init__(*args, organisation_id=organisation_id, editing_id=service_id, **kwargs)

    def validate_slug(self, field):
        # A word a public route uses (/<lang>/withdraw) is taken: that page would be shown
        # instead of the service, so to the admin it is a short name already in use.
        if field.data in RESERVED_SLUGS:
            raise ValidationError(_l("Det kortnamnet används redan."))


class NewServiceForm(ServiceForm):
    """A new service starts with its Swedish name, so no service is ever without a name."""

    name = _name_field()

    def populate_obj(self, obj, skip: tuple[str, ...] = ()) -> None:
        """The service's own fields; the name goes to its Swedish translation."""
        super().populate_obj(obj, skip=(*skip, "name"))


class TranslationForm(FlaskForm):
    name = _name_field()
    summary = TextAreaField(
        _l("Kort beskrivning"), validators=[Length(max=TEXT_MAX)], filters=[clean_text]
    )
    eligibility = TextAreaField(
        _l("Vem kan få det"), validators=[Length(max=TEXT_MAX)], filters=[clean_text]
    )
    how_to_start = TextAreaField(
        _l("Så börjar du"), validators=[Length(max=TEXT_MAX)], filters=[clean_text]
    )
    status = SelectField(_l("Status"), choices=TranslationStatus.choices)


class KioskExitForm(FlaskForm):
    password = PasswordField(
        _l("Lösenord"), validators=[DataRequired(_l("Skriv ditt lösenord.")), Length(max=200)]
    )
