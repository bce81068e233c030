"""Admin: the organisation's sites (öppna förskolor). Add, rename, deactivate.

A deactivated site keeps its visits and referrals for statistics but disappears from the
staff's site lists (app.scope shows active sites only)."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from .. import audit
from ..access import roles
from ..choices import Role
from ..extensions import db
from ..models import Site
from ..web import paginate, render
from . import SECTIONS, bp
from .forms import SiteForm

SECTIONS.append(("admin.sites", _l("Förskolor"), _l("De öppna förskolorna i organisationen.")))


def site_for_admin(site_id: int) -> Site:
    """A site of the admin's organisation, active or not, or 404."""
    site = db.session.scalar(
        select(Site).where(Site.id == site_id, Site.organisation_id == current_user.organisation_id)
    )
    if site is None:
        abort(404)
    return site


def _name_taken(name: str, except_id: int | None = None) -> bool:
    query = select(Site.id).where(
        Site.organisation_id == current_user.organisation_id, func.lower(Site.name) == name.lower()
    )
    if except_id is not None:
        query = query.where(Site.id != except_id)
    return db.session.scalar(query) is not None


@bp.get("/sites/")
@roles(Role.ADMIN)
def sites():
    query = (
        select(Site)
        .where(Site.organisation_id == current_user.organisation_id)
        .order_by(Site.is_active.desc(), Site.name)
    )
    return render("admin/sites.html", page=paginate(query, request.args.get("page", 1, type=int)))


@bp.route("/sites/new", methods=["GET", "POST"])
@roles(Role.ADMIN)
def site_new():
    form = SiteForm()
    if form.validate_on_submit():
        if _name_taken(form.name.data):
            form.name.errors.append(_("Det finns redan en förskola med det namnet."))
        else:
            site = Site(
                organisation_id=current_user.organisation_id,
                name=form.name.data,
                is_active=form.is_active.data,
            )
            db.session.add(site)
            db.session.flush()
            audit.record("site_created", "site", site.id)
            db.session.commit()
            flash(_("Förskolan är sparad."))
            return redirect(url_for("admin.sites"), code=303)
    status = 422 if request.method == "POST" else 200
    return render("admin/site_form.html", form=form, site=None), status


@bp.route("/sites/<int:site_id>", methods=["GET", "POST"])
@roles(Role.ADMIN)
def site_edit(site_id: int):
    site = site_for_admin(site_id)
    form = SiteForm(obj=site)
    if form.validate_on_submit():
        if _name_taken(form.name.data, except_id=site.id):
            form.name.errors.append(_("Det finns redan en förskola med det namnet."))
        else:
            changed = [
                k
                for k, v in (("name", form.name.data), ("is_active", form.is_active.data))
                if getattr(site, k) != v
            ]
            site.name, site.is_active = form.name.data, form.is_active.data
            audit.record("site_updated", "site", site.id, changed=changed)
            db.session.commit()
            flash(_("Förskolan är sparad."))
            return redirect(url_for("admin.sites"), code=303)
    status = 422 if request.method == "POST" else 200
    return render("admin/site_form.html", form=form, site=site), status
