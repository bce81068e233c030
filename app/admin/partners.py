"""Admin: the partner organisations (the receiving services: an SFI school's admissions, the
employment service's contact, the preschool placement office, a civil-society group), the
services whose referrals each receives, whom a visitor calls about a booked time, and their
users. A partner's users are made here, with role partner and the partner set; their access,
password and two-factor are kept on the users screen like everyone's.

A deactivated partner keeps its users and history; what it may see is the partners area's."""

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import audit
from ..access import roles
from ..choices import Role
from ..extensions import db
from ..i18n import DEFAULT_LOCALE
from ..models import Partner, Service, User, partner_services
from ..names import service_names
from ..scope import org_object_or_404, org_query
from ..web import form_status, paginate, render
from . import SECTIONS, bp
from .accounts import create_user
from .forms import PartnerForm, PartnerUserForm

SECTIONS.append(
    (
        "admin.partners",
        _l("Mottagande verksamheter"),
        _l("Verksamheter som tar emot hänvisningar, deras tjänster och konton."),
    )
)

# The fields an edit compares to say in the audit log what changed (never their values).
AUDITED = ("name", "kind", "phone", "is_active")
# The new user's form shares the partner's page with the partner's form: its own field names.
USER_PREFIX = "user"


def partner_form(partner: Partner | None, *, posted: bool = True) -> PartnerForm:
    """The partner form; its services to choose from are the organisation's active services
    and those the partner already receives (named in Swedish, the catalogue's language).
    `posted=False` shows the stored partner while another form on its page was posted."""
    form = PartnerForm(
        **({} if posted else {"formdata": None}),
        obj=partner,
        organisation_id=current_user.organisation_id,
        editing_id=partner.id if partner else None,
    )
    query = select(Service.id).where(Service.organisation_id == current_user.organisation_id)
    if partner is None:
        query = query.where(Service.is_active)
    else:
        linked = select(partner_services.c.service_id).where(
            partner_services.c.partner_id == partner.id
        )
        query = query.where(or_(Service.is_active, Service.id.in_(linked)))
    ids = list(db.session.scalars(query.order_by(Service.sort_order, Service.slug)))
    names = service_names(ids, DEFAULT_LOCALE)
    form.services.choices = [(i, names[i]) for i in ids]
    if partner is not None and not (posted and form.is_submitted()):
        form.services.data = [s.id for s in partner.services]
    return form


def _save(partner: Partner, form: PartnerForm) -> dict:
    """Write the form into `partner`; what changed, as codes and ids for the audit log."""
    before = {k: getattr(partner, k) for k in AUDITED}
    before_services = {s.id for s in partner.services}
    for name in AUDITED:
        setattr(partner, name, getattr(form, name).data)
    chosen = set(form.services.data or ())  # validate_choice: the organisation's services only
    with db.session.no_autoflush:  # the name is checked by the constraint in _stored
        partner.services = list(
            db.session.scalars(org_query(current_user, Service).where(Service.id.in_(chosen)))
        )
    changed = {"changed": [k for k in AUDITED if getattr(partner, k) != before[k]]}
    if chosen != before_services:
        changed["services"] = sorted(chosen)
    return changed


def _stored(partner: Partner, form: PartnerForm, action: str, **detail) -> bool:
    """Commit the partner with its audit event. False, with the message beside the name, when
    another admin took the name in the meantime and the database's unique constraint refused
    it (the form's check finds every other case first)."""
    try:
        db.session.add(partner)
        db.session.flush()
        audit.record(action, "partner", partner.id, **detail)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        form.name.errors = [_("Det finns redan en mottagande verksamhet med det namnet.")]
        return False
    return True


@bp.get("/partners/")
@roles(Role.ADMIN)
def partners():
    query = (
        org_query(current_user, Partner)
        .options(selectinload(Partner.services))
        .order_by(Partner.is_active.desc(), Partner.name, Partner.id)
    )
    page = paginate(query)
    ids = [p.id for p in page.items]
    users = dict(
        db.session.execute(
            select(User.partner_id, func.count(User.id))
            .where(User.partner_id.in_(ids))
            .group_by(User.partner_id)
        ).all()
    )
    names = service_names(sorted({s.id for p in page.items for s in p.services}), DEFAULT_LOCALE)
    return render("admin/partners.html", page=page, users=users, names=names)


@bp.route("/partners/new", methods=["GET", "POST"])
@roles(Role.ADMIN)
def partner_new():
    form = partner_form(None)
    if form.validate_on_submit():
        partner = Partner(organisation_id=current_user.organisation_id)
        changed = _save(partner, form)
        services = changed.get("services", [])
        if _stored(partner, form, "partner_created", kind=partner.kind, services=services):
            flash(_("Den mottagande verksamheten är sparad."))
            return redirect(url_for("admin.partner_edit", partner_id=partner.id), code=303)
    return render("admin/partner_form.html", form=form, partner=None), form_status(form)


def _partner_page(partner: Partner, form: PartnerForm, user_form: PartnerUserForm):
    users = (
        select(User)
        .where(User.organisation_id == partner.organisation_id, User.partner_id == partner.id)
        .order_by(User.is_enabled.desc(), User.name, User.id)
    )
    return render(
        "admin/partner_form.html",
        form=form,
        partner=partner,
        user_form=user_form,
        users=paginate(users),
    )


@bp.route("/partners/<int:partner_id>", methods=["GET", "POST"])
@roles(Role.ADMIN)
def partner_edit(partner_id: int):
    partner = org_object_or_404(current_user, Partner, partner_id)
    form = partner_form(partner)
    if form.validate_on_submit():
        changed = _save(partner, form)
        if _stored(partner, form, "partner_changed", **changed):
            flash(_("Den mottagande verksamheten är sparad."))
            return redirect(url_for("admin.partner_edit", partner_id=partner.id), code=303)
    user_form = PartnerUserForm(
        formdata=None, prefix=USER_PREFIX, organisation_id=current_user.organisation_id
    )
    return _partner_page(partner, form, user_form), form_status(form)


@bp.post("/partners/<int:partner_id>/users")
@roles(Role.ADMIN)
def partner_user_new(partner_id: int):
    partner = org_object_or_404(current_user, Partner, partner_id)
    user_form = PartnerUserForm(prefix=USER_PREFIX, organisation_id=current_user.organisation_id)
    if user_form.validate_on_submit():
        create_user(
            current_user.organisation_id,
            user_form.password.data,
            role=Role.PARTNER,
            partner_id=partner.id,
            name=user_form.name.data,
            email=user_form.email.data,
            locale=user_form.locale.data or None,
        )
        db.session.commit()
        flash(_("Kontot är skapat."))
        return redirect(url_for("admin.partner_edit", partner_id=partner.id), code=303)
    return _partner_page(partner, partner_form(partner, posted=False), user_form), 422
