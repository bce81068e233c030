"""The statistics pages: the dashboard and its CSV and XLSX exports, one period form; the
projects' reports (actual against target) with their XLSX and print view."""

from functools import lru_cache

from babel.numbers import format_decimal
from flask import Response, abort, request
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from .. import audit
from ..access import roles
from ..choices import Funder, Role, label
from ..extensions import db
from ..i18n import RTL_LOCALES, current_locale
from ..models import Project
from ..projects.queries import project_for_user, projects_query
from ..request_input import query_id
from ..web import paginate, render
from ..workdays import local_today
from . import bp, charts, exports, project_report, queries, report
from .forms import PeriodForm
from .periods import Period, PeriodKind
from .suppression import Cell

FILTER_FIELDS = ("period", "on", "start", "end", "bucket", "site_id", "service_id")


@bp.app_template_filter("stat")
def stat_text(value: Cell | report.Measure) -> str:
    """A figure as the page shows it: shown counts with the locale's digit grouping."""
    if isinstance(value, Cell) and value.shown:
        return _grouped(value.value, current_locale())
    return value.text


@lru_cache(maxsize=4096)
def _grouped(count: int, locale: str) -> str:
    """Babel formats a number in about 20 µs, and a dashboard shows some 175, mostly the
    same small counts: each is formatted once per language."""
    return format_decimal(count, locale=locale)


def _chosen_id(name: str, known: list[tuple[int, str]]) -> int | None:
    """The id in the query or form, None for "all"; 404 for anything not of this organisation."""
    chosen = query_id(name, request.values)
    if chosen is not None and chosen not in {i for i, _name in known}:
        abort(404)
    return chosen


def _context():
    """Filters of the request, validated; None as the period when the form has errors."""
    user = current_user
    locale = current_locale()
    sites, services = queries.sites_and_services(user.organisation_id, locale)
    site_id = _chosen_id("site_id", sites)
    service_id = _chosen_id("service_id", services)
    source = request.form if request.method == "POST" else request.args
    form = PeriodForm(formdata=source)
    context = {
        "form": form,
        "sites": sites,
        "services": services,
        "site_id": site_id,
        "service_id": service_id,
        "locale": locale,
    }
    if not form.validate():
        return context, None
    period, bucket = form.resolved()
    filters = queries.Filters(
        organisation_id=user.organisation_id,
        site_ids=(site_id,) if site_id else tuple(i for i, _name in sites),
        period=period,
        service_id=service_id,
        site_id=site_id,
    )
    threshold = user.organisation.suppression_threshold or 5
    version = user.organisation.stats_version
    context["report"] = report.build(
        filters, bucket, threshold, services, locale, version, sites=sites
    )
    return context, period


def _period_text(period: Period) -> str:
    return f"{format_date(period.start)} – {format_date(period.end)}"


def _shift_args(period: Period, steps: int) -> dict:
    """Query arguments for the previous (-1) or next (+1) period of the same kind."""
    other = period.shifted(steps)
    args = {k: v for k, v in request.args.items() if k in FILTER_FIELDS and v}
    if other.kind.value == "custom":
        args.update(start=other.start.isoformat(), end=other.end.isoformat())
    else:
        args.update(period=other.kind.value, on=other.start.isoformat())
    return args


def _charts(rep: report.Report, locale: str) -> dict[str, charts.Chart]:
    description = _("Stapeldiagram. Samma siffror finns i tabellen bredvid.")
    rtl = locale in RTL_LOCALES
    return {
        table.key: charts.bar_chart(table, f"chart-{table.key}", description, rtl, stat_text)
        for table in rep.tables
        if table.rows
    }


@bp.get("/")
@roles(Role.COORDINATOR, Role.ADMIN)
def dashboard():
    context, period = _context()
    if period is None:
        return render("stats/dashboard.html", **context), 422
    return render(
        "stats/dashboard.html",
        charts=_charts(context["report"], context["locale"]),
        period=period,
        period_text=_period_text(period),
        previous_args=_shift_args(period, -1),
        next_args=_shift_args(period, 1),
        filter_args={k: v for k, v in request.args.items() if k in FILTER_FIELDS},
        protection=protection_text(context["report"].threshold),
        **context,
    )


@bp.post("/export.csv")
@roles(Role.COORDINATOR, Role.ADMIN)
def export_csv():
    return _export("csv")


@bp.post("/export.xlsx")
@roles(Role.COORDINATOR, Role.ADMIN)
def export_xlsx():
    return _export("xlsx")


def _export(fmt: str):
    context, period = _context()
    if period is None:
        return render("stats/dashboard.html", **context), 422
    rep: report.Report = context["report"]
    names = dict(context["sites"]), dict(context["services"])
    heading = [
        (_("Statistik"), current_user.organisation.name),
        (_("Period"), f"{period.start.isoformat()} – {period.end.isoformat()}"),
        (_("Plats"), names[0][context["site_id"]] if context["site_id"] else _("Alla platser")),
        (
            _("Tjänst"),
            names[1][context["service_id"]] if context["service_id"] else _("Alla tjänster"),
        ),
        (_("Skydd för små antal"), protection_text(rep.threshold)),
        (_("Utdrag gjort"), local_today().isoformat()),
    ]
    labels = {"summary": _("Sammanfattning"), "value": _("Värde"), "total": _("Totalt")}
    lines, bold = exports.rows(rep, heading, labels)
    audit.record(
        "export",
        "stats",
        None,
        format=fmt,
        period=period.slug,
        site_id=context["site_id"],
        service_id=context["service_id"],
    )
    filename = f"statistik-{period.slug}.{fmt}"
    if fmt == "csv":
        body, mimetype = exports.to_csv(lines), "text/csv; charset=utf-8"
    else:
        body = exports.to_xlsx(lines, _("Statistik"), bold)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    db.session.commit()  # last: the audit row is stored only with a file that was made
    return Response(
        body,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def protection_text(threshold: int) -> str:
    return _(
        "Antal från 1 till %(max)s visas som <%(threshold)s. × betyder dolt, så att ett litet antal inte kan räknas fram.",
        max=threshold - 1,
        threshold=threshold,
    )


# -- projects ----------------------------------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/projects")
@roles(Role.COORDINATOR, Role.ADMIN)
def projects():
    """The organisation's projects, newest period first, each linking to its report."""
    page = paginate(projects_query(current_user))
    return render(
        "stats/projects.html",
        page=page,
        period_text=_project_period,
        funder_label=lambda code: label(Funder, code),
    )


def _project_period(project: Project) -> str:
    return _period_text(Period(PeriodKind.CUSTOM, project.starts_on, project.ends_on))


def _project_context(project_id: int) -> dict:
    project = project_for_user(current_user, project_id)  # 404 outside the organisation
    threshold = current_user.organisation.suppression_threshold or 5
    rep = project_report.build(project, threshold, current_locale(), local_today())
    return {
        "project": project,
        "report": rep,
        "period_text": _period_text(rep.period),
        "protection": protection_text(threshold),
    }


@bp.get("/projects/<int:project_id>", endpoint="project_report")
@roles(Role.COORDINATOR, Role.ADMIN)
def project_report_view(project_id: int):
    """Actual against target for the project's period; `?format=xlsx` the same as a workbook."""
    context = _project_context(project_id)
    if request.args.get("format") == "xlsx":
        return _project_xlsx(context)
    return render("stats/project_report.html", **context)


@bp.get("/projects/<int:project_id>/print")
@roles(Role.COORDINATOR, Role.ADMIN)
def project_print(project_id: int):
    """The report on one A4 page, to print or save as PDF and send on."""
    return render("stats/project_print.html", **_project_context(project_id))


def _project_xlsx(context: dict) -> Response:
    rep: project_report.ProjectReport = context["report"]
    title = (
        f"{rep.name} · {rep.funder} · {rep.period.start.isoformat()} – {rep.period.end.isoformat()}"
    )
    sheets = exports.project_sheets(
        rep,
        title,
        (_("Mål och utfall"), project_summary_headers()),
        _("Totalt"),
        context["protection"],
    )
    body = exports.to_xlsx_sheets(sheets)
    audit.record("export", "project", rep.project_id, format="xlsx")
    db.session.commit()  # last: the audit row is stored only with a file that was made
    filename = f"projekt-{rep.project_id}-{rep.period.slug}.xlsx"
    return Response(
        body,
        mimetype=XLSX,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def project_summary_headers() -> list[str]:
    """The columns of the targets' table, on the page and in the workbook."""
    return [
        _("Indikator"),
        _("Kön"),
        _("Tjänst"),
        _("Mål"),
        _("Utfall"),
        _("Andel"),
        _("Sammanfattning"),
    ]
