"""Admin: the organisation's sites (öppna förskolor). Add, rename, deactivate, and keep what
visitors see of each: address, phone, opening hours per weekday, place on the map and the
services held there (its public page, /<lang>/site/<id>).

A deactivated site keeps its visits and referrals for statistics but disappears from the
staff's site lists (app.scope shows active sites only) and from the public pages."""

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from .. import audit
from ..access import roles
from ..choices import Role
from ..extensions import db
from ..i18n import DEFAULT_LOCALE
from ..models import Service, Site
from ..names import service_names
from ..scope import org_object_or_404, org_query
from ..web import form_status, paginate, render
from . import SECTIONS, bp
from .forms import SiteForm

SECTIONS.append(("admin.sites", _l("Förskolor"), _l("De öppna förskolorna i organisationen.")))

# The fields an edit compares to say in the audit log what changed.
AUDITED = (
    "name",
    "is_active",
    "address",
    "phone",
    "latitude",
    "longitude",
    "weekly_hours",
    "opened_on",
    "closed_on",
)


def site_form(site: Site | None) -> SiteForm:
    """The site form with the organisation's services to choose from (named in Swedish, the
    catalogue's language) and, for an existing site, those it offers ticked."""
    form = SiteForm(
        obj=site,
        organisation_id=current_user.organisation_id,
        editing_id=site.id if site else None,
    )
    ids = list(
        db.session.scalars(
            select(Service.id)
            .where(Service.organisation_id == current_user.organisation_id)
            .order_by(Service.sort_order, Service.slug)
        )
    )
    names = service_names(ids, DEFAULT_LOCALE)
    form.services.choices = [(i, names[i]) for i in ids]
    if site is not None and not form.is_submitted():
        form.services.data = [s.id for s in site.services]
    return form


def _save(site: Site, form: SiteForm) -> list[str]:
    """Write the form into `site`; the names of the fields that changed."""
    before = {k: getattr(site, k) for k in AUDITED}
    before_services = {s.id for s in site.services}
    form.populate_obj(site)
    chosen = set(form.services.data or [])  # validate_choice: the organisation's services
    site.services = list(
        db.session.scalars(org_query(current_user, Service).where(Service.id.in_(chosen)))
    )
    changed = [k for k in AUDITED if getattr(site, k) != before[k]]
    if chosen != before_services:
        changed.append("services")
    return changed


@bp.get("/sites/")
@roles(Role.ADMIN)
def sites():
    query = org_query(current_user, Site).order_by(Site.is_active.desc(), Site.name)
    return render("admin/sites.html", page=paginate(query))


@bp.route("/sites/new", methods=["GET", "POST"])
@roles(Role.ADMIN)
def site_new():
    form = site_form(None)
    if form.validate_on_submit():
        site = Site(organisation_id=current_user.organisation_id)
        _save(site, form)
        db.session.add(site)
        db.session.flush()
        audit.record("site_created", "site", site.id)
        db.session.commit()
        flash(_("Förskolan är sparad."))
        return redirect(url_for("admin.sites"), code=303)
    return render("admin/site_form.html", form=form, site=None), form_status(form)


@bp.route("/sites/<int:site_id>", methods=["GET", "POST"])
@roles(Role.ADMIN)
def site_edit(site_id: int):
    site = org_object_or_404(current_user, Site, site_id)
    form = site_form(site)
    if form.validate_on_submit():
        changed = _save(site, form)
        audit.record("site_updated", "site", site.id, changed=changed)
        db.session.commit()
        flash(_("Förskolan är sparad."))
        return redirect(url_for("admin.sites"), code=303)
    return render("admin/site_form.html", form=form, site=site), form_status(form)
