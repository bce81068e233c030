"""After the consent: the visitor's receipt, "my referrals", the register extract (GDPR art. 15)
and withdrawal."""

import segno
from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import audit, outbox, privacy
from ..access import ALL_STAFF, roles, signed_in
from ..extensions import db, limiter
from ..i18n import current_locale
from ..models import Consent, FollowUp, Referral, ReferralEvent, User
from ..names import service_names
from ..scope import consent_for_user, consents_query, sites_query
from ..web import form_status, paginate, render
from . import bp
from .common import kept_until, visitor_locale
from .forms import ExtractForm


@bp.get("/referrals/mine")
@signed_in
def mine():
    """The referrals the current user created, so they can tell the visitor what happened."""
    query = (
        select(Referral)
        .where(Referral.created_by_id == current_user.id)
        .options(selectinload(Referral.consent), selectinload(Referral.site))
        .order_by(Referral.created_at.desc(), Referral.id.desc())
    )
    page = paginate(query)
    names = service_names([r.service_id for r in page.items], current_locale())
    sites = db.session.scalars(sites_query(current_user)).all()
    return render("referrals/mine.html", page=page, names=names, sites=sites)


@bp.get("/referrals/receipt/<int:consent_id>")
@signed_in
def receipt(consent_id: int):
    """A printable receipt in the visitor's language, with a QR code to the withdrawal page,
    the channel she chose for messages and the address of her status page; the staff's page
    around it (menu, buttons) in the staff member's."""
    consent = consent_for_user(current_user, consent_id)
    lang = visitor_locale(consent)
    withdraw_url = url_for("info.how_to_withdraw", lang=lang, _external=True)
    return render(
        "referrals/receipt.html",
        consent=consent,
        visitor_ui=lang,
        names=service_names([r.service_id for r in consent.referrals], lang),
        until=kept_until(consent),
        withdraw_url=withdraw_url,
        status_url=url_for("referrals.status", lang=lang, _external=True),
        qr=segno.make(withdraw_url, error="m").svg_data_uri(scale=4, border=2),
    )


@bp.route("/referrals/extract", methods=["GET", "POST"])
@signed_in
@limiter.limit("10 per minute", key_func=lambda: f"extract:{current_user.id}", methods=["POST"])
def extract():
    """Register extract: the reference code and the visitor's phone number must both match;
    anything else gets one generic answer, so the screen cannot be used to probe codes."""
    form = ExtractForm()
    if not form.validate_on_submit():
        return render("referrals/extract_form.html", form=form), form_status(form)
    consent = privacy.find_for_extract(current_user.organisation, form.code.data, form.phone.data)
    if consent is not None:  # a match outside the user's scope is no match
        consent = db.session.scalar(consents_query(current_user).where(Consent.id == consent.id))
    if consent is None:
        audit.record("register_extract_refused", "organisation", current_user.organisation_id)
        db.session.commit()
        flash(_("Ingen träff. Kontrollera koden och telefonnumret."), "error")
        return render("referrals/extract_form.html", form=form), 404
    contact = privacy.contact_details(consent, by=current_user, action="register_extract")
    lang = visitor_locale(consent)
    referrals = list(
        db.session.scalars(
            select(Referral)
            .where(Referral.consent_id == consent.id)
            .options(
                selectinload(Referral.assignee),
                selectinload(Referral.events).selectinload(ReferralEvent.by),
            )
            .order_by(Referral.id)
        )
    )
    people = _names_of({consent.recorded_by_id, consent.withdrawn_by_id})
    follow_ups = _follow_ups_of([r.id for r in referrals])
    messages = outbox.messages_of(consent.id)
    db.session.commit()  # the audit event of the read is written before anything is shown
    return render(  # the extract in the visitor's language, the staff's page around it in theirs
        "referrals/extract.html",
        consent=consent,
        visitor_ui=lang,
        contact=contact,
        referrals=referrals,
        names=service_names([r.service_id for r in referrals], lang),
        people=people,
        follow_ups=follow_ups,
        messages=messages,
        until=kept_until(consent),
    )


@bp.route("/consents/<int:consent_id>/withdraw", methods=["GET", "POST"])
@roles(*ALL_STAFF)
def withdraw(consent_id: int):
    """Confirm, then erase the contact details at once and close the referrals as withdrawn."""
    consent = consent_for_user(current_user, consent_id)
    if request.method == "GET":
        names = service_names([r.service_id for r in consent.referrals], current_locale())
        return render("referrals/withdraw.html", consent=consent, names=names)
    if consent.withdrawn_at is None:
        privacy.withdraw(consent, by=current_user)
        flash(_("Samtycket är återkallat. Kontaktuppgifterna är raderade."))
    return redirect(url_for("referrals.receipt", consent_id=consent.id), code=303)


def _follow_ups_of(referral_ids: list[int]) -> dict[int, list[FollowUp]]:
    """The follow-ups of these referrals (months, due date, status, result), in one query."""
    by_referral: dict[int, list[FollowUp]] = {}
    if referral_ids:
        for follow_up in db.session.scalars(
            select(FollowUp)
            .where(FollowUp.referral_id.in_(referral_ids))
            .order_by(FollowUp.referral_id, FollowUp.months)
        ):
            by_referral.setdefault(follow_up.referral_id, []).append(follow_up)
    return by_referral


def _names_of(user_ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())
