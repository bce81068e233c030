"""Forms of the admin screens (users, sites, settings, audit filter, consent texts)."""

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from .. import privacy
from ..auth.passwords import MIN_LENGTH, policy_problem
from ..choices import ConsentPurpose, LegalBasis, PartnerKind, Role
from ..followup.records import parse_months
from ..form_fields import DayField
from ..i18n import CONTENT_LOCALES, LOCALES
from ..info.forms import LIMITS, WeeklyHoursForm, coordinate_field, phone_field
from ..models import Partner, Site, User
from ..outbox import PLACEHOLDERS, placeholder_problem
from ..text_input import clean_text, name_text
from ..validators import RowForm, Unique

POLICY_MESSAGES = {
    "too_short": _l("Lösenordet måste ha minst %(n)s tecken.", n=MIN_LENGTH),
    "too_common": _l("Lösenordet är för vanligt eller för enkelt. Välj ett annat."),
}


class CheckboxList(SelectMultipleField):
    """Several choices as checkboxes (44 px rows in CSS), which work without JavaScript."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def password_policy(_form, field) -> None:
    if field.data and (problem := policy_problem(field.data)):
        raise ValidationError(str(POLICY_MESSAGES[problem]))


def email_address(_form, field) -> None:
    """A syntactically valid address. Deliverability is not checked (no DNS from the server),
    and `test_environment` accepts the reserved .test domain used by demos and tests."""
    from email_validator import EmailNotValidError, validate_email

    if not field.data:
        return
    try:
        field.data = validate_email(
            field.data, check_deliverability=False, test_environment=True
        ).normalized.lower()
    except EmailNotValidError as error:
        raise ValidationError(str(_l("Skriv en giltig e-postadress."))) from error


def staff_roles() -> list[tuple[str, str]]:
    """The roles the users screen gives: a partner's user is made and kept on its partner's
    page, which also sets the partner, so a role there never makes one without it."""
    return [(value, label) for value, label in Role.choices() if value != Role.PARTNER]


def name_field(*validators) -> StringField:
    """A user's or a site's name: required plain text of at most 120 characters, trimmed."""
    return StringField(
        _l("Namn"),
        validators=[DataRequired(_l("Skriv ett namn.")), Length(max=120), name_text, *validators],
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
    )


class UserForm(RowForm):
    name = name_field()
    email = EmailField(
        _l("E-post"),
        validators=[
            DataRequired(_l("Skriv en e-postadress.")),
            Length(max=254),
            email_address,
            Unique(
                User.email,
                _l("Det finns redan ett konto med den e-postadressen."),
                ignore_case=True,
                across_organisations=True,
            ),
        ],
        filters=[lambda v: v.strip().lower() if isinstance(v, str) else v],
    )
    role = SelectField(_l("Roll"), choices=staff_roles, validators=[InputRequired()])
    sites = CheckboxList(_l("Förskolor"), coerce=int, validate_choice=True)
    services = CheckboxList(_l("Tjänster (för samordnare)"), coerce=int, validate_choice=True)
    locale = SelectField(_l("Språk"), choices=[("", "—")] + list(LOCALES.items()), default="")
    password = PasswordField(
        _l("Lösenord"),
        validators=[DataRequired(_l("Skriv ett lösenord.")), Length(max=200), password_policy],
        description=_l("Minst %(n)s tecken. Undvik vanliga lösenord.", n=MIN_LENGTH),
    )


class UserEditForm(UserForm):
    password = PasswordField(
        _l("Nytt lösenord"),
        validators=[Optional(), Length(max=200), password_policy],
        description=_l("Lämna tomt för att behålla lösenordet."),
    )

    def validate_role(self, field) -> None:
        """An admin cannot take their own admin role away: nobody might be left to give it back."""
        if self.editing_id == current_user.id and field.data != Role.ADMIN:
            raise ValidationError(str(_l("Du kan inte ta bort din egen administratörsroll.")))


class PartnerUserForm(UserForm):
    """A new user of a partner organisation: the role and the partner come from the page."""

    role = None
    sites = None
    services = None


def e164_phone(_form, field) -> None:
    """A number a visitor can call, stored in E.164 (it goes into the booking SMS as is)."""
    if not field.data:
        field.data = ""
        return
    try:
        field.data = privacy.normalise_phone(field.data)
    except ValueError as error:
        raise ValidationError(
            str(_l("Skriv ett telefonnummer med riktnummer, till exempel 08-123 456 78."))
        ) from error


class PartnerForm(RowForm):
    """A partner organisation: who it is, whom a visitor calls about a booked time, and the
    services whose referrals it receives (`services`: ids of the organisation's services)."""

    name = name_field(
        Unique(
            Partner.name,
            _l("Det finns redan en mottagande verksamhet med det namnet."),
            ignore_case=True,
        )
    )
    kind = RadioField(
        _l("Typ av verksamhet"),
        choices=PartnerKind.choices,
        validators=[InputRequired(_l("Välj typ av verksamhet."))],
    )
    phone = StringField(
        _l("Telefon för besökare"),
        validators=[Length(max=40), e164_phone],
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
    )
    services = CheckboxList(_l("Tar emot hänvisningar till"), coerce=int, validate_choice=True)
    is_active = BooleanField(_l("Aktiv"), default=True)


class SiteForm(WeeklyHoursForm):
    """A site and what visitors see of it: address, phone, hours per weekday, place on the
    map, and the services held there (`services`: ids of the organisation's services)."""

    name = name_field(
        Unique(Site.name, _l("Det finns redan en förskola med det namnet."), ignore_case=True)
    )
    is_active = BooleanField(_l("Aktiv"), default=True)
    address = StringField(
        _l("Adress"),
        validators=[Optional(), Length(max=LIMITS["address"])],
        filters=[clean_text, lambda v: " ".join(v.split()) if isinstance(v, str) else v],
    )
    phone = phone_field()
    latitude = coordinate_field(_l("Latitud"), 90)
    longitude = coordinate_field(_l("Longitud"), 180)
    services = CheckboxList(_l("Tjänster på förskolan"), coerce=int, validate_choice=True)
    # The site's lifetime, where known: a project's period must lie inside it.
    opened_on = DayField(_l("Öppnade"), validators=[Optional()])
    closed_on = DayField(_l("Stängde"), validators=[Optional()])

    def validate_closed_on(self, field) -> None:
        if field.data and self.opened_on.data and field.data < self.opened_on.data:
            raise ValidationError(str(_l("Stängningsdagen kan inte vara före öppningsdagen.")))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        lat, lon = self.latitude, self.longitude
        if not (lat.errors or lon.errors) and (lat.data is None) != (lon.data is None):
            empty = lon if lon.data is None else lat
            empty.errors.append(_l("Skriv både latitud och longitud, eller ingen av dem."))
            return False
        return valid

    def populate_obj(self, obj, skip: tuple[str, ...] = ()) -> None:
        super().populate_obj(obj, skip=(*skip, "services"))


def _days(label, low, high):
    return IntegerField(
        label,
        validators=[
            InputRequired(_l("Skriv ett tal.")),
            NumberRange(low, high, _l("Välj ett tal från %(min)s till %(max)s.")),
        ],
    )


class SettingsForm(FlaskForm):
    legal_basis = SelectField(
        _l("Rättslig grund för kontaktuppgifter"), choices=LegalBasis.choices()
    )
    retention_days_after_close = _days(_l("Dagar kontaktuppgifter sparas efter avslut"), 0, 365)
    max_open_days = _days(_l("Längsta tid en hänvisning får vara öppen (dagar)"), 7, 730)
    first_contact_working_days = _days(_l("Första kontakt inom (arbetsdagar)"), 1, 30)
    unreachable_after_attempts = _days(_l("Ej nåbar efter antal försök"), 1, 10)
    suppression_threshold = _days(_l("Dölj antal under"), 3, 20)
    audit_retention_days = _days(_l("Dagar loggen sparas"), 180, 3650)
    kiosk_idle_seconds = _days(_l("Surfplattan återställs efter (sekunder)"), 30, 1800)
    require_2fa = BooleanField(_l("Kräv tvåstegsverifiering för samordnare och administratörer"))
    # Follow-ups (issue 20): when they fall due after a referral closed as started, and the
    # longest a follow-up consent may keep contact details after the close.
    follow_up_months = StringField(
        _l("Uppföljning efter (månader)"),
        validators=[InputRequired(_l("Skriv minst en månad, till exempel 3, 6, 12."))],
    )
    follow_up_max_days = _days(
        _l("Kontaktuppgifter för uppföljning sparas längst (dagar)"), 1, 1100
    )
    # The receiving services (issue 21): how long they have to acknowledge a new referral,
    # and whether their users must sign in with two-factor.
    partner_ack_working_days = _days(_l("Mottagaren bekräftar inom (arbetsdagar)"), 1, 30)
    partner_require_2fa = BooleanField(_l("Kräv tvåstegsverifiering för mottagande verksamheter"))

    def validate_follow_up_months(self, field) -> None:
        """Whole months from 1 to 36, strictly increasing, at most six; stored as "3,6,12"."""
        months = parse_months(field.data)
        if months is None:
            raise ValidationError(
                str(
                    _l(
                        "Skriv hela månader från 1 till 36 med komma emellan, i stigande ordning, högst 6 stycken. Till exempel 3, 6, 12."
                    )
                )
            )
        field.data = ",".join(str(m) for m in months)

    def validate_follow_up_max_days(self, field) -> None:
        if field.data is None:
            return
        retention = self.retention_days_after_close.data
        if retention is not None and field.data < retention:
            raise ValidationError(
                str(
                    _l(
                        "Skriv minst lika många dagar som kontaktuppgifterna sparas efter avslut (%(n)s).",
                        n=retention,
                    )
                )
            )
        months = parse_months(self.follow_up_months.data)
        if months and field.data < months[-1] * 31:
            raise ValidationError(
                str(
                    _l(
                        "Skriv minst %(n)s dagar: den sista uppföljningen är efter %(months)s månader.",
                        n=months[-1] * 31,
                        months=months[-1],
                    )
                )
            )


class AuditFilterForm(FlaskForm):
    """The audit screen's filter: a GET form, so no CSRF token and the URL can be shared."""

    class Meta:
        csrf = False

    user = SelectField(_l("Användare"), default="")
    action = SelectField(_l("Händelse"), default="")
    object_type = SelectField(_l("Typ av post"), default="")
    object_id = IntegerField(
        _l("Postens nummer"),
        validators=[Optional(), NumberRange(1, 2**31 - 1, _l("Skriv ett nummer."))],
    )
    start = DateField(_l("Från"), validators=[Optional()])
    end = DateField(_l("Till"), validators=[Optional()])

    def validate_end(self, field) -> None:
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError(str(_l("Slutdatum kan inte vara före startdatum.")))


class ConsentTextForm(FlaskForm):
    purpose = SelectField(
        _l("Gäller"), choices=ConsentPurpose.choices, default=ConsentPurpose.REFERRAL.value
    )
    locale = SelectField(_l("Språk"), choices=lambda: list(CONTENT_LOCALES.items()))
    legal_basis = SelectField(_l("Rättslig grund"), choices=LegalBasis.choices)
    body = TextAreaField(
        _l("Text"),
        validators=[DataRequired(message=_l("Skriv texten.")), Length(max=10000)],
        filters=[clean_text],
    )

    def validate_body(self, field) -> None:
        """A message text (app.outbox) may use only its purpose's placeholders, in braces."""
        problem = placeholder_problem(self.purpose.data, field.data or "")
        if problem is None:
            return
        allowed = " ".join("{" + name + "}" for name in PLACEHOLDERS[self.purpose.data])
        if problem[0] == "braces":
            raise ValidationError(
                str(
                    _l(
                        "En klammerparentes saknar sin partner. Skriv platshållare så här: "
                        "%(allowed)s.",
                        allowed=allowed,
                    )
                )
            )
        raise ValidationError(
            str(
                _l(
                    "%(name)s finns inte i den här texten. Du kan använda: %(allowed)s.",
                    name=problem[1],
                    allowed=allowed,
                )
            )
        )


class AudioForm(FlaskForm):
    """A recorded reading to upload (a service's text, a consent text); app.audio checks it."""

    audio = FileField(_l("Ljudfil"), validators=[FileRequired(_l("Välj en ljudfil."))])


class ConfirmForm(FlaskForm):
    """An empty form: a POST with only the CSRF token."""
