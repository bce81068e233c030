"""(area: projects) Reads of projects: the organisation's projects, one page at a time, and one
project a user may read (404 outside the user's organisation)."""

from sqlalchemy import Select

from ..models import Project, User
from ..scope import one_or_404, org_query


def projects_query(user: User) -> Select:
    """Every project of the user's organisation, newest period first."""
    return org_query(user, Project).order_by(Project.starts_on.desc(), Project.name, Project.id)


def project_for_user(user: User, project_id: int) -> Project:
    """One project of the user's organisation, or 404: a project elsewhere is answered exactly
    like one that does not exist. Who may read it (admins, coordinators) is the route's rule."""
    return one_or_404(projects_query(user).where(Project.id == project_id))
