"""(area: projects) Writes of projects, each in the caller's one transaction (the view commits
once, with the audit event): a project created or changed from the form, its targets replaced
as a whole, or the project deleted with its targets and links."""

from sqlalchemy import select

from .. import audit
from ..extensions import db
from ..models import Activity, Project, ProjectTarget, Service, Site, User
from .forms import ProjectForm

# The fields an edit compares to say in the audit log what changed.
AUDITED = ("name", "funder", "starts_on", "ends_on")


def _rows(model: type, organisation_id: int, ids) -> list:
    """The rows of `ids`, within the organisation (the view has already answered 404 for any
    other)."""
    ids = list(ids or ())
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(model).where(model.organisation_id == organisation_id, model.id.in_(ids))
        )
    )


def _targets(form: ProjectForm) -> list[tuple[str, str | None, int | None, int]]:
    return [
        (cell.indicator, cell.gender, cell.service_id, number) for cell, number in form.targets()
    ]


def _write(project: Project, form: ProjectForm) -> list[str]:
    """Write the form into `project`; the names of what changed."""
    before = {k: getattr(project, k) for k in AUDITED}
    before_links = {
        "sites": {s.id for s in project.sites},
        "services": {s.id for s in project.services},
        "activities": {a.id for a in project.activities},
    }
    before_targets = sorted(
        ((t.indicator, t.gender, t.service_id, t.target) for t in project.targets),
        key=repr,
    )
    project.name = form.name.data
    project.funder = form.funder.data
    project.starts_on = form.starts_on.data
    project.ends_on = form.ends_on.data
    org = project.organisation_id
    project.sites = _rows(Site, org, form.sites.data)
    project.services = _rows(Service, org, form.services.data)
    project.activities = _rows(Activity, org, form.activities.data)
    targets = _targets(form)
    # Replaced as a whole: a cell emptied is a target removed.
    project.targets = [
        ProjectTarget(indicator=indicator, gender=gender, service_id=service_id, target=number)
        for indicator, gender, service_id, number in targets
    ]
    changed = [k for k in AUDITED if getattr(project, k) != before[k]]
    changed += [
        k for k, ids in before_links.items() if {row.id for row in getattr(project, k)} != ids
    ]
    if sorted(targets, key=repr) != before_targets:
        changed.append("targets")
    return changed


def create(form: ProjectForm, by: User) -> Project:
    project = Project(organisation_id=by.organisation_id, created_by_id=by.id)
    db.session.add(project)
    _write(project, form)
    db.session.flush()
    audit.record("project_created", "project", project.id, targets=len(project.targets))
    return project


def update(project: Project, form: ProjectForm) -> list[str]:
    changed = _write(project, form)
    db.session.flush()
    audit.record("project_updated", "project", project.id, changed=changed)
    return changed


def delete(project: Project) -> None:
    audit.record("project_deleted", "project", project.id, name=project.name)
    db.session.delete(project)
    db.session.flush()
