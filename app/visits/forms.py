"""(area: visits) The record form and its rules: counts 0–50, somebody in the group, codes
from the closed lists only, a date within the last week and never in the future."""

from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, Field, HiddenField, IntegerField
from wtforms.validators import NumberRange, StopValidation, ValidationError

from .. import languages
from ..choices import LABELS, OutreachPlace, PartOfDay, Topic, VisitCount
from ..models import Visit
from ..workdays import STOCKHOLM, local_today

MAX_COUNT = 50
LATE_ENTRY_DAYS = 7
COUNT_FIELDS = tuple(c.value for c in VisitCount)


def default_part_of_day() -> str:
    """Morning until noon in Sweden, whatever the server's clock zone."""
    hour = datetime.now(STOCKHOLM).hour
    return PartOfDay.MORNING.value if hour < 12 else PartOfDay.AFTERNOON.value


class CountField(IntegerField):
    """A stepper: blank counts as none, anything but a whole number is refused."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        raw = valuelist[0].strip()
        try:
            self.data = int(raw) if raw else 0
        except ValueError:
            self.data = None  # NumberRange then says what is wanted


def count_field(count: VisitCount) -> CountField:
    """The stepper of one head count, labelled as the statistics label the same count."""
    message = _l("Ange ett antal från 0 till %(max)s.", max=MAX_COUNT)
    return CountField(LABELS[count], default=0, validators=[NumberRange(0, MAX_COUNT, message)])


class CodesField(Field):
    """Chips: several codes from a closed list. A code outside it means a tampered form."""

    def __init__(self, label, allowed, message, **kwargs):
        super().__init__(label, default=list, **kwargs)
        self.allowed = allowed
        self.message = message

    def process_formdata(self, valuelist):
        self.data = sorted(set(valuelist))

    def pre_validate(self, form):
        if any(code not in self.allowed() for code in self.data or ()):
            raise StopValidation(str(self.message))


class ChoiceField(Field):
    """Radio chips: one value from a closed list of (value, label) given by `options`."""

    def __init__(self, label, options, **kwargs):
        super().__init__(label, **kwargs)
        self.options = options

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = valuelist[0]

    def pre_validate(self, form):
        if self.data not in {value for value, _label in self.options()}:
            raise StopValidation(_("Välj ett av alternativen."))


class FlagField(Field):
    """A checkbox chip sent as "1" when ticked and absent when not; any other value means a
    tampered form."""

    def process_formdata(self, valuelist):
        self.raw = valuelist[0] if valuelist else None
        self.data = bool(valuelist)

    def process_data(self, value):
        self.raw = None
        self.data = bool(value)

    def pre_validate(self, form):
        if self.raw not in (None, "1"):
            raise StopValidation(_("Välj ett av alternativen."))


def outreach_place_options() -> list[tuple[str, str]]:
    """Where the visit was: "" is the open preschool's own room, then the coded places."""
    return [("", _("I öppna förskolan")), *OutreachPlace.choices()]


class DayField(DateField):
    def process_formdata(self, valuelist):
        raw = valuelist[0].strip() if valuelist else ""
        try:
            self.data = datetime.strptime(raw, "%Y-%m-%d").date()
        except ValueError:
            self.data = None


def topic_codes() -> frozenset[str]:
    return frozenset(t.code for t in Topic)


class VisitForm(FlaskForm):
    women = count_field(VisitCount.WOMEN)
    men = count_field(VisitCount.MEN)
    other_adults = count_field(VisitCount.OTHER_ADULTS)
    children_0_1 = count_field(VisitCount.CHILDREN_0_1)
    children_1_3 = count_field(VisitCount.CHILDREN_1_3)
    children_3_6 = count_field(VisitCount.CHILDREN_3_6)
    languages = CodesField(_l("Språk"), languages.known_codes, _l("Välj språk i listan."))
    # Most groups come back (the demo month: 386 returning to 114 new), so "returning" is
    # preselected and first: three groups in four need no tap, and a forgotten tap can no
    # longer inflate the new visitors reported as reach; it errs low, not high.
    is_new = ChoiceField(
        _l("Har gruppen varit här förut?"),
        options=lambda: [("returning", _("Har varit här förut")), ("new", _("Ny besökare"))],
        default="returning",
    )
    # Outreach (issue 19): a new group that first heard of the open preschool from a bridge
    # builder's outreach, and a visit held somewhere else than the site's room.
    after_outreach = FlagField(_l("Kom efter att vi informerat"))
    outreach_place = ChoiceField(_l("Var?"), options=outreach_place_options, default="")
    topics = CodesField(_l("Ämnen som togs upp"), topic_codes, _l("Välj ämnen i listan."))
    part_of_day = ChoiceField(
        _l("Del av dagen"), options=PartOfDay.choices, default=default_part_of_day
    )
    visit_date = DayField(_l("Datum"), default=local_today)

    def validate_visit_date(self, field):
        today = local_today()
        if field.data is None:
            raise ValidationError(_("Välj ett datum."))
        if field.data > today:
            raise ValidationError(_("Datumet kan inte vara i framtiden."))
        if field.data < today - timedelta(days=LATE_ENTRY_DAYS):
            raise ValidationError(_("Välj en dag inom den senaste veckan."))

    def validate_after_outreach(self, field):
        if field.data and self.is_new.data != "new":
            raise ValidationError(
                _("Bara en ny grupp kan ha kommit efter att vi informerat. Välj Ny besökare.")
            )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        counts = [getattr(self, name).data for name in COUNT_FIELDS]
        if all(c is not None for c in counts) and sum(counts) == 0:
            self.form_errors.append(_("Lägg till minst en vuxen eller ett barn."))
            return False
        return valid

    def topic_mask(self) -> int:
        return sum(Topic.by_code(code).value for code in self.topics.data)

    def date_bounds(self) -> tuple[str, str]:
        today = local_today()
        return (today - timedelta(days=LATE_ENTRY_DAYS)).isoformat(), today.isoformat()


class NewVisitForm(VisitForm):
    form_key = HiddenField()


class EditVisitForm(VisitForm):
    pass


def form_data(visit: Visit) -> dict:
    """A stored visit as the form's initial data."""
    data = {name: getattr(visit, name) for name in COUNT_FIELDS}
    data.update(
        languages=[row.code for row in visit.languages],
        is_new="new" if visit.is_new else "returning",
        after_outreach=bool(visit.is_new and visit.after_outreach),
        outreach_place=visit.outreach_place or "",
        topics=[t.code for t in Topic if visit.topics & t.value],
        part_of_day=visit.part_of_day,
        visit_date=visit.visit_date,
    )
    return data
