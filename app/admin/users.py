"""Admin: the organisation's users. Create, edit role, sites and services, set a password,
disable at once (the user's sessions end on their next request) and reset two-factor.

A partner's users (role partner) are made on their partner's page (admin.partners), which sets
the partner: this screen lists them with their partner's name and keeps their role and partner
as they are, while their name, e-mail, language, password, two-factor and access are kept here.

Every change writes an audit event naming the fields changed, never the password."""

import secrets

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import selectinload

from .. import audit
from ..access import roles
from ..auth.passwords import hash_password
from ..choices import Role
from ..extensions import db
from ..i18n import DEFAULT_LOCALE
from ..models import Service, Site, User
from ..names import service_names
from ..scope import org_object_or_404, org_query
from ..web import form_status, paginate, render
from . import SECTIONS, bp
from .accounts import create_user
from .forms import UserEditForm, UserForm

SECTIONS.append(("admin.users", _l("Användare"), _l("Konton, roller, förskolor och inloggning.")))


def _fill_choices(form: UserForm) -> tuple[list[Site], list[Service]]:
    """Every site and service of the organisation, active or not, as the form's choices."""
    sites = list(db.session.scalars(org_query(current_user, Site).order_by(Site.name)))
    services = list(
        db.session.scalars(
            org_query(current_user, Service).order_by(Service.sort_order, Service.slug)
        )
    )
    form.sites.choices = [(s.id, s.name) for s in sites]
    # Swedish: the catalogue's source language, in which admins keep it.
    names = service_names([s.id for s in services], DEFAULT_LOCALE)
    form.services.choices = [(s.id, names[s.id]) for s in services]
    return sites, services


def _apply(user: User, form: UserForm, sites: list[Site], services: list[Service]) -> None:
    user.name = form.name.data
    user.email = form.email.data
    user.locale = form.locale.data or None
    if user.role == Role.PARTNER:
        return  # role and partner stay: a partner's users are made on its page, with no sites
    user.role = form.role.data
    user.sites = [s for s in sites if s.id in set(form.sites.data or ())]
    # Only coordinators work service queues; other roles keep no service memberships.
    chosen = set(form.services.data or ()) if form.role.data == Role.COORDINATOR else set()
    user.services = [s for s in services if s.id in chosen]


@bp.get("/users/")
@roles(Role.ADMIN)
def users():
    query = (
        org_query(current_user, User)
        .options(selectinload(User.sites), selectinload(User.partner))
        .order_by(User.is_enabled.desc(), User.name, User.id)
    )
    return render("admin/users.html", page=paginate(query))


@bp.route("/users/new", methods=["GET", "POST"])
@roles(Role.ADMIN)
def user_new():
    form = UserForm(organisation_id=current_user.organisation_id)
    sites, services = _fill_choices(form)
    if form.validate_on_submit():
        user = create_user(
            current_user.organisation_id,
            form.password.data,
            role=form.role.data,
            name=form.name.data,
            email=form.email.data,
        )
        _apply(user, form, sites, services)
        db.session.commit()
        flash(_("Kontot är skapat."))
        return redirect(url_for("admin.users"), code=303)
    return render("admin/user_form.html", form=form, user=None), form_status(form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles(Role.ADMIN)
def user_edit(user_id: int):
    user = org_object_or_404(current_user, User, user_id)
    scope = {"organisation_id": user.organisation_id, "editing_id": user.id}
    form = UserEditForm(obj=user, **scope) if request.method == "GET" else UserEditForm(**scope)
    sites, services = _fill_choices(form)
    if user.role == Role.PARTNER:
        for name in ("role", "sites", "services"):  # fixed: the page names the partner instead
            del form[name]
    elif request.method == "GET":
        form.sites.data = [s.id for s in user.sites]
        form.services.data = [s.id for s in user.services]
    if request.method == "GET":
        form.locale.data = user.locale or ""
    if form.validate_on_submit():
        before = _snapshot(user)
        _apply(user, form, sites, services)
        if form.password.data:
            user.password_hash = hash_password(form.password.data)
            user.session_token = secrets.token_hex(32)  # a new password ends old sessions
        changed = sorted(k for k, v in _snapshot(user).items() if before[k] != v)
        if form.password.data:
            changed.append("password")
        audit.record("user_updated", "user", user.id, changed=changed)
        db.session.commit()
        flash(_("Ändringarna är sparade."))
        return redirect(url_for("admin.users"), code=303)
    return render("admin/user_form.html", form=form, user=user), form_status(form)


def _snapshot(user: User) -> dict:
    return {
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "locale": user.locale,
        "sites": sorted(s.id for s in user.sites),
        "services": sorted(s.id for s in user.services),
    }


@bp.post("/users/<int:user_id>/disable")
@roles(Role.ADMIN)
def user_disable(user_id: int):
    user = org_object_or_404(current_user, User, user_id)
    if user.id == current_user.id:
        flash(_("Du kan inte stänga av ditt eget konto."), "error")
        return redirect(url_for("admin.user_edit", user_id=user.id), code=303)
    user.is_enabled = False
    user.session_token = secrets.token_hex(32)  # every session of the user ends now
    audit.record("user_disabled", "user", user.id)
    db.session.commit()
    flash(_("Kontot är avstängt. Personen loggades ut direkt."))
    return redirect(url_for("admin.user_edit", user_id=user.id), code=303)


@bp.post("/users/<int:user_id>/enable")
@roles(Role.ADMIN)
def user_enable(user_id: int):
    user = org_object_or_404(current_user, User, user_id)
    user.is_enabled = True
    audit.record("user_enabled", "user", user.id)
    db.session.commit()
    flash(_("Kontot är aktiverat igen."))
    return redirect(url_for("admin.user_edit", user_id=user.id), code=303)


@bp.post("/users/<int:user_id>/reset-two-factor")
@roles(Role.ADMIN)
def user_reset_2fa(user_id: int):
    user = org_object_or_404(current_user, User, user_id)
    user.totp_secret = None
    user.totp_last_step = None
    user.session_token = secrets.token_hex(32)  # sign in again, and enrol again if required
    audit.record("totp_reset", "user", user.id)
    db.session.commit()
    flash(_("Tvåstegsverifieringen är nollställd."))
    return redirect(url_for("admin.user_edit", user_id=user.id), code=303)
