"""A follow-up's page and its result: who may see it is the queue's rule (the services a
coordinator works, every service for an admin); anything else is not found.

The result form carries the follow-up's version: a stale version, a follow-up recorded or
cancelled meanwhile, or a step the consent no longer allows is a 409 that shows the page as it
is now; a result that does not hang together is a 422 with the message beside its field.
"""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from .. import privacy
from ..access import QUEUE_ROLES, roles
from ..extensions import db
from ..i18n import current_locale
from ..models import FollowUp
from ..names import service_names
from ..web import render
from ..workdays import local_today
from . import bp, queries, records
from .forms import ResultForm


def follow_up_page(item: FollowUp, form: ResultForm | None = None, status: int = 200, **extra):
    referral = item.referral
    consent = referral.consent
    has_details = consent.id in privacy.has_contact_details([consent.id])
    context = {
        "item": item,
        "referral": referral,
        "form": form or ResultForm(formdata=None, version=item.version),
        "service_name": service_names([item.service_id], current_locale())[item.service_id],
        "started_on": records.local_close_date(referral),
        "others": [f for f in queries.of_referral(referral.id) if f.id != item.id],
        "refusal": records.refusal(item),
        "may_contact": consent.follow_up_text_id is not None
        and consent.withdrawn_at is None
        and has_details,
        "re_refer_refusal": records.re_refer_refusal(item, has_details=has_details),
        "today": local_today(),
        "back_url": url_for("queue.service", service_id=item.service_id, tab="follow_up"),
        # For the contact reveal (templates/queue/_contact.html): nothing shown yet.
        "contact": None,
        "erased": not has_details,
        **extra,
    }
    return render("followup/follow_up.html", **context), status


@bp.get("/queue/follow-ups/<int:follow_up_id>")
@roles(*QUEUE_ROLES)
def show(follow_up_id: int):
    return follow_up_page(queries.follow_up_for_user(current_user, follow_up_id))


@bp.post("/queue/follow-ups/<int:follow_up_id>")
@roles(*QUEUE_ROLES)
def record(follow_up_id: int):
    item = queries.follow_up_for_user(current_user, follow_up_id)
    form = ResultForm()
    if form.version.data is None:
        abort(400)  # the form always carries the version; without it, the post was forged
    if form.version.data != item.version:
        return conflict(follow_up_id)
    if (reason := records.refusal(item)) is not None:
        return follow_up_page(item, status=409, refused=reason)
    if not form.validate_on_submit():
        return follow_up_page(item, form, 422)
    try:
        records.record(
            follow_up=item,  # by name: a positional first argument reads as an audit action
            result=form.result.data,
            sfi_level=form.sfi_level.data or None,
            reason_code=form.reason_code.data or None,
            re_refer=bool(form.re_refer.data),
            by=current_user,
        )
        db.session.commit()
    except records.FollowUpRefused as error:
        db.session.rollback()
        fresh = queries.follow_up_for_user(current_user, follow_up_id)
        return follow_up_page(fresh, status=409, refused=error.message)
    except records.FollowUpInvalid as error:
        db.session.rollback()
        form[error.field].errors = [error.message]
        return follow_up_page(queries.follow_up_for_user(current_user, follow_up_id), form, 422)
    except StaleDataError:
        # Someone recorded it between our read and our write; theirs stands.
        db.session.rollback()
        return conflict(follow_up_id)
    flash(gettext("Uppföljningen är sparad."))
    return redirect(url_for("queue.service", service_id=item.service_id, tab="follow_up"), 303)


def conflict(follow_up_id: int):
    db.session.expire_all()
    fresh = queries.follow_up_for_user(current_user, follow_up_id)
    message = gettext("Någon annan hann ändra uppföljningen. Så här ser den ut nu. Inget sparades.")
    return follow_up_page(fresh, status=409, refused=message)
