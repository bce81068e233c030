"""The projects pages, for admins: the organisation's projects, a new one, one edited (its
targets replaced), one deleted after a confirmation. The report is the statistics area's."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from ..access import roles
from ..admin.forms import ConfirmForm
from ..choices import Role
from ..extensions import db
from ..i18n import current_locale
from ..models import Activity, Project, Service, Site
from ..request_input import ids_or_404, parse_id
from ..web import claim_form_key, commit_once, form_status, paginate, render, replayed_target
from . import bp, records
from .forms import Cell, ProjectForm, column_label, grid_rows, project_form_class
from .queries import (
    activity_options,
    owned_or_404,
    project_for_user,
    projects_query,
    service_options,
    site_counts,
    site_options,
)


def refuse_foreign_ids() -> None:
    """404 when the posted form names a site, service or activity that is not the
    organisation's (or no possible record): its existence elsewhere must not show."""
    if request.method != "POST":
        return
    for field, model in (("sites", Site), ("services", Service), ("activities", Activity)):
        owned_or_404(current_user, model, ids_or_404(request.form.getlist(field)))
    services = set()
    for key in request.form:
        parts = key.split("-")
        if parts[0] == "target" and len(parts) == 4 and parts[2] != "all":
            if (service_id := parse_id(parts[2])) is None:
                abort(404)
            services.add(service_id)
    owned_or_404(current_user, Service, services)


def project_form(project: Project | None) -> ProjectForm:
    """The form with the organisation's sites, services and activities to choose from (in the
    reader's language) and a target cell per indicator, service and gender; for a project
    being edited, what it holds now."""
    refuse_foreign_ids()
    locale = current_locale()
    sites = site_options(current_user)
    services = service_options(current_user, locale)
    keep = [a.id for a in project.activities] if project else []
    activities = activity_options(current_user, locale, keep)
    rows = grid_rows(services)
    data = None
    if project is not None:
        data = {
            "name": project.name,
            "funder": project.funder,
            "starts_on": project.starts_on,
            "ends_on": project.ends_on,
            "sites": [s.id for s in project.sites],
            "services": [s.id for s in project.services],
            "activities": keep,
        }
        for target in project.targets:
            cell = Cell(target.indicator, target.service_id, target.gender)
            data[cell.name] = target.target
    form = project_form_class(rows)(
        data=data,
        organisation_id=current_user.organisation_id,
        editing_id=project.id if project else None,
        site_rows=sites,
        activity_sites={a_id: site_id for a_id, _label, site_id in activities},
        rows=rows,
    )
    form.sites.choices = [
        (s.id, s.name if s.is_active else _("%(site)s (inaktiv)", site=s.name)) for s in sites
    ]
    form.services.choices = list(services.items())
    form.activities.choices = [(a_id, label) for a_id, label, _site in activities]
    return form


def show_form(form: ProjectForm, project: Project | None, status: int | None = None):
    page = render(
        "projects/form.html",
        form=form,
        project=project,
        rows=form.shown_rows(),
        column_label=column_label,
        report_url=url_for("stats.project_report", project_id=project.id) if project else None,
    )
    return page, status or form_status(form)


def name_taken(form: ProjectForm, project: Project | None):
    """Two admins saved the same name a moment apart: the database's unique index decided."""
    db.session.rollback()
    form.name.errors = [*form.name.errors, _("Det finns redan ett projekt med det namnet.")]
    return show_form(form, project, 422)


@bp.get("/projects/")
@roles(Role.ADMIN)
def index():
    page = paginate(projects_query(current_user))
    counts = site_counts(p.id for p in page.items)
    return render("projects/index.html", page=page, counts=counts)


@bp.route("/projects/new", methods=["GET", "POST"])
@roles(Role.ADMIN)
def new():
    key = request.form.get("form_key")
    if request.method == "POST" and (target := replayed_target(key)):
        return redirect(target, code=303)  # a double tap or a retry: the first one won
    form = project_form(None)
    if not form.validate_on_submit():
        return show_form(form, None)
    try:
        records.create(form, by=current_user)
    except IntegrityError:
        return name_taken(form, None)
    target = url_for("projects.index")
    if key:
        claim_form_key(key, current_user.id, target)
    try:
        if replayed := commit_once(key):
            return redirect(replayed, code=303)
    except IntegrityError:
        return name_taken(form, None)
    flash(_("Projektet är sparat."))
    return redirect(target, code=303)


@bp.route("/projects/<int:project_id>/edit", methods=["GET", "POST"])
@roles(Role.ADMIN)
def edit(project_id: int):
    project = project_for_user(current_user, project_id)
    form = project_form(project)
    if not form.validate_on_submit():
        return show_form(form, project)
    try:
        records.update(project, form)
        db.session.commit()
    except IntegrityError:
        return name_taken(form, project)
    flash(_("Projektet är sparat."))
    return redirect(url_for("projects.index"), code=303)


@bp.post("/projects/<int:project_id>/delete")
@roles(Role.ADMIN)
def delete(project_id: int):
    """The first POST asks to confirm (no JavaScript needed); the second, with `confirm`,
    deletes the project, its targets and its links (the sites and the rest stay)."""
    project = project_for_user(current_user, project_id)
    form = ConfirmForm()
    if request.form.get("confirm") != "1" or not form.validate_on_submit():
        return render("projects/delete.html", project=project, form=form)
    records.delete(project)
    db.session.commit()
    flash(_("Projektet är borttaget."))
    return redirect(url_for("projects.index"), code=303)
