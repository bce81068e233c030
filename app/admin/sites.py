"""Admin: the organisation's sites (öppna förskolor). Add, rename, deactivate.

A deactivated site keeps its visits and referrals for statistics but disappears from the
staff's site lists (app.scope shows active sites only)."""

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import audit
from ..access import roles
from ..choices import Role
from ..extensions import db
from ..models import Site
from ..scope import org_object_or_404, org_query
from ..web import form_status, paginate, render
from . import SECTIONS, bp
from .forms import SiteForm

SECTIONS.append(("admin.sites", _l("Förskolor"), _l("De öppna förskolorna i organisationen.")))


@bp.get("/sites/")
@roles(Role.ADMIN)
def sites():
    query = org_query(current_user, Site).order_by(Site.is_active.desc(), Site.name)
    return render("admin/sites.html", page=paginate(query))


@bp.route("/sites/new", methods=["GET", "POST"])
@roles(Role.ADMIN)
def site_new():
    form = SiteForm(organisation_id=current_user.organisation_id)
    if form.validate_on_submit():
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
    return render("admin/site_form.html", form=form, site=None), form_status(form)


@bp.route("/sites/<int:site_id>", methods=["GET", "POST"])
@roles(Role.ADMIN)
def site_edit(site_id: int):
    site = org_object_or_404(current_user, Site, site_id)
    form = SiteForm(obj=site, organisation_id=site.organisation_id, editing_id=site.id)
    if form.validate_on_submit():
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
    return render("admin/site_form.html", form=form, site=site), form_status(form)
