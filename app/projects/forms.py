"""(area: projects) The project form and its rules: a name unique in the organisation, a coded
funder, a period inside the lifetime of every site it covers, at least one site, activities
held at those sites, and a grid of targets, one whole number (or nothing) per cell.

The targets are one field per cell, named `target-<indicator>-<service id|all>-<gender|all>`,
so the grid posts as a plain form without JavaScript. A row per indicator for all services,
and for the indicators counted per service (choices.PER_SERVICE_INDICATORS) a row per chosen
service; columns "Alla" and, for the indicators split by gender (choices.GENDERED_INDICATORS),
women and men. Messages are Swedish msgids shown beside their field."""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import Field
from wtforms.validators import StopValidation, ValidationError

from ..admin.forms import CheckboxList, name_field
from ..choices import GENDERED_INDICATORS, PER_SERVICE_INDICATORS, Funder, Gender, Indicator
from ..models import Project, Site
from ..validators import RowForm, Unique
from ..visits.forms import ChoiceField, DayField

ALL = "all"
# A target is a count of people, visits or sessions: a million is far past any project's.
MAX_TARGET = 1_000_000
# The columns of a gendered row, after "Alla".
TARGET_GENDERS = (Gender.WOMAN, Gender.MAN)
_WHOLE_NUMBER = re.compile(r"[0-9]{1,7}")


@dataclass(frozen=True)
class Cell:
    """One target: an indicator, for all services or one, for everyone or one gender."""

    indicator: str
    service_id: int | None = None
    gender: str | None = None

    @property
    def name(self) -> str:
        return f"target-{self.indicator}-{self.service_id or ALL}-{self.gender or ALL}"


@dataclass(frozen=True)
class Row:
    """A row of the grid: its header and its cells, "Alla" first."""

    indicator: str
    service_id: int | None
    header: str
    cells: tuple[Cell, ...]

    @property
    def id(self) -> str:
        return f"row-{self.indicator}-{self.service_id or ALL}"


def column_label(gender: str | None) -> str:
    return {None: _("Alla"), Gender.WOMAN: _("Kvinnor"), Gender.MAN: _("Män")}[gender]


def grid_rows(service_names: dict[int, str]) -> list[Row]:
    """Every row the grid may have, the per-service rows for the services in `service_names`
    (id -> name, in the order to show)."""
    rows = []
    for indicator in Indicator:
        genders = (None, *TARGET_GENDERS) if indicator in GENDERED_INDICATORS else (None,)
        services: list[int | None] = [None]
        if indicator in PER_SERVICE_INDICATORS:
            services += list(service_names)
        for service_id in services:
            header = (
                indicator.label
                if service_id is None
                else _(
                    "%(indicator)s: %(service)s",
                    indicator=indicator.label,
                    service=service_names[service_id],
                )
            )
            cells = tuple(Cell(indicator.value, service_id, g) for g in genders)
            rows.append(Row(indicator.value, service_id, header, cells))
    return rows


class TargetField(Field):
    """One cell of the grid: empty is no target; else a whole number from 0 to MAX_TARGET,
    written as typed when it is refused, so the admin sees what to correct."""

    def process_formdata(self, valuelist):
        self.raw = valuelist[0].strip() if valuelist else ""
        self.data = int(self.raw) if _WHOLE_NUMBER.fullmatch(self.raw) else None

    def process_data(self, value):
        self.data = value
        self.raw = "" if value is None else str(value)

    def pre_validate(self, form):
        if self.raw and (self.data is None or self.data > MAX_TARGET):
            self.data = None
            raise StopValidation(
                _("Skriv ett heltal från 0 till %(max)s, eller lämna rutan tom.", max=MAX_TARGET)
            )


class ProjectForm(RowForm):
    """A project without its targets; `project_form_class` adds a field per cell."""

    name = name_field(
        Unique(Project.name, _l("Det finns redan ett projekt med det namnet."), ignore_case=True)
    )
    funder = ChoiceField(_l("Finansiär"), options=Funder.choices)
    starts_on = DayField(_l("Första dagen"), render_kw={"type": "date"})
    ends_on = DayField(_l("Sista dagen"), render_kw={"type": "date"})
    sites = CheckboxList(_l("Förskolor"), coerce=int, validate_choice=True)
    services = CheckboxList(_l("Tjänster"), coerce=int, validate_choice=True)
    activities = CheckboxList(_l("Aktiviteter"), coerce=int, validate_choice=True)

    def __init__(
        self,
        *args,
        site_rows: Iterable[Site] = (),
        activity_sites: dict[int, int] | None = None,
        rows: list[Row] = (),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.site_rows = {site.id: site for site in site_rows}
        self.activity_sites = activity_sites or {}  # activity id -> its site's id
        self.rows = list(rows)

    def validate_starts_on(self, field):
        if field.data is None:
            raise ValidationError(_("Välj ett datum."))

    def validate_ends_on(self, field):
        if field.data is None:
            raise ValidationError(_("Välj ett datum."))
        if self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_("Sista dagen kan inte vara före den första."))

    def validate_sites(self, field):
        if not field.data:
            raise ValidationError(_("Välj minst en förskola."))

    def validate_activities(self, field):
        chosen = set(self.sites.data or ())
        away = [i for i in field.data or () if self.activity_sites.get(i) not in chosen]
        if away:
            names = dict(field.choices)
            raise ValidationError(
                _(
                    "Aktiviteten %(name)s hålls inte på någon av de valda förskolorna.",
                    name=names.get(away[0], ""),
                )
            )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        return self._period_inside_sites() and self._service_targets_chosen() and valid

    def _period_inside_sites(self) -> bool:
        """The period lies inside the lifetime of every chosen site, where it is known."""
        starts, ends = self.starts_on.data, self.ends_on.data
        if self.starts_on.errors or self.ends_on.errors or not (starts and ends):
            return True
        ok = True
        for site_id in self.sites.data or ():
            site = self.site_rows.get(site_id)
            if site is None:
                continue
            if site.opened_on and starts < site.opened_on:
                self.starts_on.errors.append(
                    _(
                        "%(site)s öppnade %(day)s. Projektet kan inte börja före det.",
                        site=site.name,
                        day=_day(site.opened_on),
                    )
                )
                ok = False
            if site.closed_on and ends > site.closed_on:
                self.ends_on.errors.append(
                    _(
                        "%(site)s stängde %(day)s. Projektet kan inte sluta efter det.",
                        site=site.name,
                        day=_day(site.closed_on),
                    )
                )
                ok = False
        return ok

    def _service_targets_chosen(self) -> bool:
        """A target for one service needs that service among the project's services."""
        chosen = set(self.services.data or ())
        ok = True
        for cell, field in self.target_fields():
            if cell.service_id and field.data is not None and cell.service_id not in chosen:
                field.errors = [*field.errors, _("Välj tjänsten under Tjänster, eller töm rutan.")]
                ok = False
        return ok

    def target_fields(self) -> list[tuple[Cell, TargetField]]:
        return [(cell, self[cell.name]) for row in self.rows for cell in row.cells]

    def targets(self) -> list[tuple[Cell, int]]:
        """The cells with a number, in the grid's order."""
        return [(cell, f.data) for cell, f in self.target_fields() if f.data is not None]

    def shown_rows(self) -> list[Row]:
        """The rows to show: every row for all services, and a row for one service when the
        service is chosen or its row holds something (a number or a message)."""
        chosen = set(self.services.data or ())

        def shown(row: Row) -> bool:
            return (
                row.service_id is None
                or row.service_id in chosen
                or any(self[c.name].raw or self[c.name].errors for c in row.cells)
            )

        return [row for row in self.rows if shown(row)]


def _day(day: date) -> str:
    return format_date(day, "d MMMM y")


def project_form_class(rows: list[Row]) -> type[ProjectForm]:
    """ProjectForm with one TargetField per cell of `rows`."""
    fields = {}
    for row in rows:
        for cell in row.cells:
            field = TargetField(
                _("%(row)s, %(column)s", row=row.header, column=column_label(cell.gender))
            )
            fields[cell.name] = field
    return type("ProjectTargetsForm", (ProjectForm,), fields)
