"""The partners' inbound queue: the list by tab, a referral with the fields the receiving
service needs, and its steps.

A step is a POST carrying the referral's version: a stale version is a 409 that shows the
referral as it is now, a step the workflow refuses is a 409 with the reason, invalid input a
422 with the message beside the field. htmx gets the referral's working part back, a plain
form a 303 to the referral's page.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from .. import privacy
from ..access import PARTNER_ROLES, roles
from ..choices import PartnerStep
from ..extensions import db
from ..i18n import current_locale
from ..names import service_names
from ..web import is_htmx, paginate, render
from ..workdays import local_today
from . import bp, queries, workflow
from .forms import StepForm

CONFLICT = _l(
    "Någon annan hann ändra hänvisningen. Så här ser den ut nu. Gör om ditt val om det behövs."
)


@bp.get("/")
@roles(*PARTNER_ROLES)
def inbound():
    tab = request.args.get("tab", queries.NEW)
    if tab not in queries.TABS:
        tab = queries.NEW
    today = local_today()
    page = paginate(queries.inbound_query(current_user, tab, today))
    return render(
        "partners/inbound.html",
        tab=tab,
        page=page,
        counts=queries.tab_counts(current_user, today),
        service_names=service_names({r.service_id for r in page.items}, current_locale()),
        is_ack_overdue=lambda r: workflow.is_ack_overdue(r, today),
        partner=current_user.partner,
        today=today,
    )


def referral_page(referral_id: int, status: int = 200, form: StepForm | None = None, **extra):
    """The referral's page, or for htmx its working part (appointment, steps, history)."""
    item = queries.referral_for_user(current_user, referral_id)
    events, who = queries.timeline(item)
    context = {
        "referral": item,
        "events": events,
        "who": who,
        "steps": [s for s in PartnerStep if s in workflow.allowed_steps(item)],
        "form": form,
        "service_name": service_names({item.service_id}, current_locale())[item.service_id],
        "ack_overdue": workflow.is_ack_overdue(item),
        **extra,
    }
    if not is_htmx():
        context["contact"] = privacy.contact_details(
            item.consent, by=current_user, action="partner_contact_read"
        )
        db.session.commit()  # the audit event of the read is written before anything is shown
    return render("partners/referral.html", partial="partners/_work.html", **context), status


@bp.get("/referrals/<int:referral_id>")
@roles(*PARTNER_ROLES)
def referral(referral_id: int):
    return referral_page(referral_id)


@bp.post("/referrals/<int:referral_id>/step")
@roles(*PARTNER_ROLES)
def step(referral_id: int):
    item = queries.referral_for_user(current_user, referral_id)
    form = StepForm()
    if form.version.data is None:
        abort(400)  # every step form carries the version; without it, the post was forged
    if form.version.data != item.version:
        return conflict(referral_id)
    if not form.validate_on_submit():
        return referral_page(referral_id, 422, form=form)
    try:
        workflow.record_step(
            item,
            form.step.data,
            by=current_user,
            reason=form.reason.data or None,
            day=form.day.data,
            at=form.time.data,
            place=form.place.data or None,
        )
        db.session.commit()
    except workflow.WorkflowError as error:
        db.session.rollback()
        return referral_page(referral_id, 409, refused=error.message)
    except StaleDataError:
        db.session.rollback()  # someone committed between our read and our write; theirs stands
        return conflict(referral_id)
    if is_htmx():
        return referral_page(referral_id, saved=True)
    flash(gettext("Steget är sparat."))
    return redirect(url_for("partners.referral", referral_id=item.id), code=303)


def conflict(referral_id: int):
    db.session.rollback()
    db.session.expire_all()
    return referral_page(referral_id, 409, refused=CONFLICT)
