"""(area: info) The rules of a service and of one of its translations, as WTForms forms: the
admin's screens validate with them, and so does the catalogue import, record by record, so a
file cannot store what the screens would refuse (issue 16: empty names, ids and orders the
database cannot hold)."""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
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
from ..models import Service
from ..text_input import clean_text, name_text
from ..validators import RowForm, Unique
from . import RESERVED_SLUGS

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
LIMITS = {"url": 300, "email": 254, "phone": 40, "address": 300, "opening_hours": 300}
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


class ServiceForm(RowForm):
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
    phone = StringField(_l("Telefon"), validators=[Optional(), Length(max=LIMITS["phone"])])
    address = StringField(
        _l("Adress"),
        validators=[Optional(), Length(max=LIMITS["address"])],
        filters=[clean_text],
    )
    opening_hours = StringField(
        _l("Öppettider"),
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

    def populate_obj(self, obj) -> None:
        """The service's own fields; the name goes to its Swedish translation."""
        for field_name, field in self._fields.items():
            if field_name != "name":
                field.populate_obj(obj, field_name)


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
