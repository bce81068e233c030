"""(area: projects) Reads of projects: the organisation's projects, one page at a time with the
number of sites each covers, one project a user may read (404 outside the user's
organisation), and what the project form offers to choose from, named in the reader's
language."""

from collections.abc import Iterable

from flask import abort
from sqlalchemy import Select, func, or_, select

from ..extensions import db
from ..models import Activity, Project, Service, Site, User, project_sites
from ..names import service_names
from ..programme.queries import activity_text_column
from ..scope import one_or_404, org_query


def projects_query(user: User) -> Select:
    """Every project of the user's organisation, latest period first."""
    return org_query(user, Project).order_by(Project.starts_on.desc(), Project.name, Project.id)


def project_for_user(user: User, project_id: int) -> Project:
    """One project of the user's organisation, or 404: a project elsewhere is answered exactly
    like one that does not exist. Who may read it (admins, coordinators) is the route's rule."""
    return one_or_404(projects_query(user).where(Project.id == project_id))


def site_counts(project_ids: Iterable[int]) -> dict[int, int]:
    """Project id -> how many sites it covers, for a page of projects in one query."""
    ids = list(project_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(project_sites.c.project_id, func.count())
        .where(project_sites.c.project_id.in_(ids))
        .group_by(project_sites.c.project_id)
    )
    return {project_id: count for project_id, count in rows}


def owned_or_404(user: User, model: type, ids: Iterable[int]) -> list[int]:
    """`ids`, if every one names a row of `model` in the user's organisation; else 404, so a
    form naming another organisation's site, service or activity learns nothing of it."""
    wanted = set(ids)
    if not wanted:
        return []
    found = set(
        db.session.scalars(
            select(model.id).where(
                model.organisation_id == user.organisation_id, model.id.in_(wanted)
            )
        )
    )
    if found != wanted:
        abort(404)
    return sorted(wanted)


def site_options(user: User) -> list[Site]:
    """The organisation's sites, active first: a project may cover a site since closed."""
    return list(
        db.session.scalars(org_query(user, Site).order_by(Site.is_active.desc(), Site.name))
    )


def service_options(user: User, locale: str) -> dict[int, str]:
    """The organisation's services (id -> name in `locale`), in the catalogue's order."""
    ids = list(
        db.session.scalars(
            org_query(user, Service)
            .with_only_columns(Service.id)
            .order_by(Service.sort_order, Service.slug)
        )
    )
    names = service_names(ids, locale)
    return {i: names.get(i, "") for i in ids}


def activity_options(
    user: User, locale: str, keep: Iterable[int] = ()
) -> list[tuple[int, str, int]]:
    """(id, "name (site)", site id) of the organisation's active activities and of those in
    `keep` (a project's own, even if no longer held), by site and name."""
    name = activity_text_column("name", locale)
    rows = db.session.execute(
        select(Activity.id, name, Site.name, Activity.site_id)
        .join(Site, Site.id == Activity.site_id)
        .where(
            Activity.organisation_id == user.organisation_id,
            or_(Activity.is_active, Activity.id.in_(list(keep))),
        )
        .order_by(Site.name, name, Activity.id)
    )
    return [
        (activity_id, f"{activity_name} ({site_name})", site_id)
        for activity_id, activity_name, site_name, site_id in rows
    ]
