"""(area: programme) The programme's forms and their rules: an activity, a schedule whose rule
must give dates and whose sessions must not overlap another activity's in the same room, a
cancelled or moved session with a coded reason, attendance (counts only, never for a cancelled
or future session) and an outreach contact. Messages are Swedish msgids shown beside the field."""

from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from .. import languages
from ..choices import LABELS, OutreachPlace, SessionChange, VisitCount
from ..text_input import clean_text, name_text
from ..visits.forms import LATE_ENTRY_DAYS, ChoiceField, CodesField, CountField, DayField
from ..workdays import local_today
from .schedule import MAX_YEARS, Pattern

MAX_PEOPLE = 200  # a session's head count: a large information meeting, not a typo of 2000
MAX_CONVERSATIONS = 50


def bounded_count(label, maximum: int = MAX_PEOPLE, minimum: int = 0) -> CountField:
    message = _l("Ange ett antal från %(min)s till %(max)s.", min=minimum, max=maximum)
    return CountField(label, default=minimum, validators=[NumberRange(minimum, maximum, message)])


class ActivityForm(FlaskForm):
    """An activity with its Swedish name and description; other locales are edited one at a time
    like a service's texts."""

    site_id = SelectField(_l("Öppen förskola"), coerce=int)
    kind = SelectField(_l("Typ av aktivitet"))
    name = StringField(
        _l("Namn på svenska"),
        validators=[DataRequired(_l("Skriv ett namn.")), Length(max=120), name_text],
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
    )
    description = TextAreaField(
        _l("Beskrivning på svenska"), validators=[Length(max=2000)], filters=[clean_text]
    )
    service_id = SelectField(_l("Hör till tjänsten"), coerce=int, default=0)
    partner_name = StringField(
        _l("Samarbetspartner"), validators=[Length(max=120), name_text], default=""
    )
    languages = CodesField(
        _l("Hålls på språken"), languages.known_codes, _l("Välj språk i listan.")
    )
    room = StringField(_l("Lokal"), validators=[Length(max=60), name_text], default="")
    capacity = IntegerField(
        _l("Antal platser"),
        validators=[Optional(), NumberRange(1, 500, _l("Ange ett antal från 1 till 500."))],
    )
    needs_registration = BooleanField(_l("Man behöver anmäla sig"))
    is_active = BooleanField(_l("Aktiviteten pågår (visas i programmet)"), default=True)

    def validate_kind(self, field):
        if field.data not in {value for value, _label in field.choices}:
            raise ValidationError(_("Välj ett av alternativen."))


class TranslationForm(FlaskForm):
    name = StringField(
        _l("Namn"), validators=[DataRequired(_l("Skriv ett namn.")), Length(max=120), name_text]
    )
    description = TextAreaField(
        _l("Beskrivning"), validators=[Length(max=2000)], filters=[clean_text]
    )
    reviewed = BooleanField(_l("Översättningen är granskad"))


class KindForm(FlaskForm):
    """A kind of activity an admin adds: its Swedish name (other names can follow)."""

    name = StringField(
        _l("Namn på svenska"),
        validators=[DataRequired(_l("Skriv ett namn.")), Length(max=80), name_text],
    )


PATTERN_CHOICES = (
    ("once", _l("En gång")),
    (Pattern.WEEKLY.value, _l("Varje vecka")),
    (Pattern.BIWEEKLY.value, _l("Varannan vecka")),
    (Pattern.MONTHLY.value, _l("En gång i månaden")),
)
WEEKDAY_CHOICES = (
    ("0", _l("måndag")),
    ("1", _l("tisdag")),
    ("2", _l("onsdag")),
    ("3", _l("torsdag")),
    ("4", _l("fredag")),
    ("5", _l("lördag")),
    ("6", _l("söndag")),
)
NTH_CHOICES = (
    ("1", _l("första")),
    ("2", _l("andra")),
    ("3", _l("tredje")),
    ("4", _l("fjärde")),
    ("-1", _l("sista")),
)


class ScheduleForm(FlaskForm):
    """When an activity is held: once, or by a rule from a first to a last date."""

    pattern = ChoiceField(_l("Hur ofta"), options=lambda: PATTERN_CHOICES, default="weekly")
    weekdays = CodesField(
        _l("Veckodagar"),
        lambda: frozenset(v for v, _l in WEEKDAY_CHOICES),
        _l("Välj veckodagar i listan."),
    )
    nth = SelectField(_l("Vilken vecka i månaden"), choices=NTH_CHOICES, default="1")
    starts_on = DayField(_l("Första dagen"))
    ends_on = DayField(_l("Sista dagen"))
    start_time = TimeField(_l("Börjar klockan"))
    end_time = TimeField(_l("Slutar klockan"))
    skip_holidays = BooleanField(_l("Hoppa över helgdagar"), default=True)

    @property
    def is_once(self) -> bool:
        return self.pattern.data == "once"

    def validate_starts_on(self, field):
        if field.data is None:
            raise ValidationError(_("Välj ett datum."))

    def validate_ends_on(self, field):
        if self.is_once:
            return
        if field.data is None:
            raise ValidationError(_("Välj ett datum."))
        start = self.starts_on.data
        if start and field.data < start:
            raise ValidationError(_("Sista dagen kan inte vara före den första."))
        if start and field.data > start + timedelta(days=365 * MAX_YEARS + 1):
            raise ValidationError(
                _(
                    "Ett schema kan vara högst %(years)s år. Lägg till ett nytt schema sedan.",
                    years=MAX_YEARS,
                )
            )

    def validate_weekdays(self, field):
        if not self.is_once and not field.data:
            raise ValidationError(_("Välj minst en veckodag."))

    def validate_start_time(self, field):
        if field.data is None:
            raise ValidationError(_("Skriv en tid, till exempel 09:30."))

    def validate_end_time(self, field):
        if field.data is None:
            raise ValidationError(_("Skriv en tid, till exempel 11:00."))
        if self.start_time.data and field.data <= self.start_time.data:
            raise ValidationError(_("Sluttiden måste vara efter starttiden."))

    def weekday_numbers(self) -> list[int]:
        return [int(d) for d in self.weekdays.data or ()]


class ChangeForm(FlaskForm):
    """Cancel a session, or move it to another day and time; the reason is shown to visitors."""

    reason = SelectField(_l("Skäl (visas för besökare)"), choices=SessionChange.choices)
    on_date = DayField(_l("Ny dag"))
    start_time = TimeField(_l("Börjar klockan"))
    end_time = TimeField(_l("Slutar klockan"))

    def validate_reason(self, field):
        if field.data not in {c.value for c in SessionChange}:
            raise ValidationError(_("Välj ett av alternativen."))

    def validate_for_move(self) -> bool:
        """The extra rules of a move: a day from today on and an end after the start."""
        ok = True
        if self.on_date.data is None:
            self.on_date.errors = [_("Välj ett datum.")]
            ok = False
        elif self.on_date.data < local_today():
            self.on_date.errors = [_("Välj en dag från och med i dag.")]
            ok = False
        if self.start_time.data is None:
            self.start_time.errors = [_("Skriv en tid, till exempel 09:30.")]
            ok = False
        if self.end_time.data is None or (
            self.start_time.data and self.end_time.data <= self.start_time.data
        ):
            self.end_time.errors = [_("Sluttiden måste vara efter starttiden.")]
            ok = False
        return ok


class AttendanceForm(FlaskForm):
    """Who came, as counts; languages as chips. Nothing that names anyone."""

    women = bounded_count(LABELS[VisitCount.WOMEN])
    men = bounded_count(LABELS[VisitCount.MEN])
    other_adults = bounded_count(LABELS[VisitCount.OTHER_ADULTS])
    children_0_1 = bounded_count(LABELS[VisitCount.CHILDREN_0_1])
    children_1_3 = bounded_count(LABELS[VisitCount.CHILDREN_1_3])
    children_3_6 = bounded_count(LABELS[VisitCount.CHILDREN_3_6])
    new_people = bounded_count(_l("Varav nya vuxna"))
    conversations = bounded_count(_l("Enskilda samtal"), maximum=MAX_CONVERSATIONS)
    languages = CodesField(_l("Språk"), languages.known_codes, _l("Välj språk i listan."))

    def validate_new_people(self, field):
        adults = [self.women.data, self.men.data, self.other_adults.data]
        if field.data and all(a is not None for a in adults) and field.data > sum(adults):
            raise ValidationError(_("Fler nya än vuxna: räkna de nya bland de vuxna."))


COUNT_FIELDS = tuple(c.value for c in VisitCount)


class ContactForm(FlaskForm):
    """Outreach: how many people were informed, where, in which languages, on which day."""

    place = ChoiceField(_l("Var"), options=OutreachPlace.choices)
    people = bounded_count(_l("Antal personer som fick information"), maximum=50, minimum=1)
    languages = CodesField(_l("Språk"), languages.known_codes, _l("Välj språk i listan."))
    on_date = DayField(_l("Datum"), default=local_today)

    def validate_on_date(self, field):
        today = local_today()
        if field.data is None:
            raise ValidationError(_("Välj ett datum."))
        if field.data > today:
            raise ValidationError(_("Datumet kan inte vara i framtiden."))
        if field.data < today - timedelta(days=LATE_ENTRY_DAYS):
            raise ValidationError(_("Välj en dag inom den senaste veckan."))
