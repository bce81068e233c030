"""Writes of the visits area: a visit recorded, changed or removed together with the
statistics' daily and monthly summaries, in the caller's transaction (the view commits once,
so a visit and its summaries are stored together or not at all)."""

from .. import audit
from ..database import write_transaction
from ..extensions import db
from ..models import Site, User, Visit, VisitLanguage
from ..stats import summary
from .forms import COUNT_FIELDS


def remember_site(user: User, site: Site) -> None:
    if user.last_site_id != site.id:
        with write_transaction():
            user.last_site_id = site.id


def add(site: Site, form, *, by: User) -> Visit:
    """A new visit from a validated form, its summaries counted; flushed, so it has an id."""
    visit = Visit(site_id=site.id, recorded_by_id=by.id)
    apply_form(visit, form)
    db.session.add(visit)
    summary.apply(visit, 1)
    db.session.flush()
    return visit


def update(visit: Visit, form) -> None:
    """Change a visit: its old figures leave the summaries, the new ones enter; audited."""
    before = summary.contribution(visit)
    apply_form(visit, form)
    summary.apply_edit(before, visit)
    audit.record("visit.update", "visit", visit.id, site_id=visit.site_id)


def remove(visit: Visit) -> None:
    """Undo a visit: out of the summaries and deleted; audited."""
    audit.record("visit.delete", "visit", visit.id, site_id=visit.site_id)
    summary.apply(visit, -1)
    db.session.delete(visit)


def apply_form(visit: Visit, form) -> None:
    """Copy a validated form onto a visit; language rows keep site and date in step."""
    for name in COUNT_FIELDS:
        setattr(visit, name, getattr(form, name).data)
    visit.visit_date = form.visit_date.data
    visit.part_of_day = form.part_of_day.data
    visit.is_new = form.is_new.data == "new"
    visit.after_outreach = visit.is_new and form.after_outreach.data
    visit.outreach_place = form.outreach_place.data or None
    visit.topics = form.topic_mask()
    wanted = set(form.languages.data)
    for row in list(visit.languages):
        if row.code in wanted:
            row.visit_date = visit.visit_date
        else:
            visit.languages.remove(row)
    have = {row.code for row in visit.languages}
    for code in sorted(wanted - have):
        visit.languages.append(
            VisitLanguage(code=code, site_id=visit.site_id, visit_date=visit.visit_date)
        )
