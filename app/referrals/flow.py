"""The three steps of a referral: choose services and language, the visitor's consent screen,
then the contact details. Nothing is stored before the last step (or the visitor's "no").

Where the organisation has published a follow-up text, the consent screen also offers the
optional agreement to be contacted again later; its text travels as `follow_up_text_id`."""

from dataclasses import dataclass

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from .. import audit, outbox, privacy
from ..access import signed_in
from ..audio import send_audio
from ..choices import ConsentPurpose, ConsentTextStatus
from ..extensions import db
from ..i18n import CONTENT_LOCALES, current_locale, ui_locale
from ..models import AnonymousInterest, ConsentText, Service, Site
from ..names import service_names
from ..request_input import ids_or_404, parse_id
from ..scope import services_query, site_for_user
from ..texts import published_text
from ..web import claim_form_key, commit_once, render, replayed_target
from ..workdays import local_today
from . import bp
from .forms import ConsentForm, ContactForm, StartForm


@dataclass
class FlowState:
    """What the steps carry in hidden fields, checked again on every POST."""

    site: Site
    services: list[Service]
    visitor_lang: str
    text: ConsentText
    follow_up_text: ConsentText | None = None  # offered only when one is published


def _start_form(formdata=None) -> StartForm:
    form = StartForm(formdata=formdata)
    services = list(db.session.scalars(services_query(current_user)))
    names = service_names([s.id for s in services], current_locale())
    form.service_id.choices = [(s.id, names[s.id]) for s in services]
    if formdata is None:
        form.visitor_lang.data = "sv"
    return form


@bp.get("/sites/<int:site_id>/referrals/new")
@signed_in
def new(site_id: int):
    site = site_for_user(current_user, site_id)
    return render("referrals/new.html", site=site, form=_start_form())


@bp.get("/sites/<int:site_id>/referrals/consent")
@signed_in
def consent(site_id: int):
    """Step 2: the consent screen, in the language the visitor chose."""
    site = site_for_user(current_user, site_id)
    form = _start_form(request.args)
    if not form.validate():
        return render("referrals/new.html", site=site, form=form), 422
    services = _services_or_404(form.service_id.data)
    text = published_text(site.organisation_id, form.visitor_lang.data)
    if text is None:
        flash(
            _("Det finns ingen publicerad samtyckestext. Be en administratör publicera en."),
            "error",
        )
        return render("referrals/new.html", site=site, form=form), 409
    follow_up = published_text(
        site.organisation_id, form.visitor_lang.data, ConsentPurpose.FOLLOW_UP
    )
    state = FlowState(site, services, form.visitor_lang.data, text, follow_up)
    return _render_consent(state, ConsentForm(formdata=None))


@bp.get("/consent-texts/<int:text_id>/audio")
@signed_in
def consent_audio(text_id: int):
    """The recorded reading of a consent text version of the user's organisation: played on
    the consent screen, and to the admin who uploaded it."""
    text = db.session.scalar(
        select(ConsentText).where(
            ConsentText.id == text_id, ConsentText.organisation_id == current_user.organisation_id
        )
    )
    response = send_audio(text.audio_filename) if text else None
    if response is None:
        abort(404)
    return response


@bp.post("/sites/<int:site_id>/referrals/consent")
@signed_in
def answer(site_id: int):
    """The visitor's answer: "no" counts the interest anonymously; "yes" leads to step 3."""
    state = _state_from_form(site_id)
    if request.form.get("answer") == "no":
        return _record_refusal(state)
    form = ConsentForm()
    if form.agree_follow_up.data and state.follow_up_text is None:
        abort(400)  # agreed to a text that was not shown
    if not form.validate():
        return _render_consent(state, form, status=422)
    language = ui_locale(state.visitor_lang)  # a lättläst reader is contacted in Swedish
    return _render_contact(state, ContactForm.after_consent(form, language))


@bp.post("/sites/<int:site_id>/referrals")
@signed_in
def create(site_id: int):
    """Step 3: consent, contact details and one referral per service, and the confirmation
    message when she chose a channel for messages, in one transaction."""
    state = _state_from_form(site_id)
    form = ContactForm()
    if not form.validate():
        if form.consent_missing:
            abort(400)  # the consent step was skipped or tampered with: store nothing
        return _render_contact(state, form, status=422)
    if form.follow_up_agreed and state.follow_up_text is None:
        abort(400)
    key = form.form_key.data
    if target := replayed_target(key):
        return redirect(target, code=303)
    consent = privacy.record_consent(
        site=state.site,
        services=state.services,
        consent_text=state.text,
        method=form.method.data,
        contact=privacy.ContactInput(
            first_name=form.first_name.data.strip(),
            phone_e164=form.phone_e164,
            email=(form.email.data or "").strip().lower() or None,
            best_time=form.best_time.data,
        ),
        language=form.contact_language.data,
        interpreter_needed=form.interpreter_needed.data,
        by=current_user,
        follow_up_text=state.follow_up_text if form.follow_up_agreed else None,
        facts=form.target_facts(),
        message_channel=form.chosen_channel,
    )
    # Queued in this transaction, sent later by `flask send-outbox`: never from the request.
    outbox.queue_confirmation(consent)
    target = url_for("referrals.receipt", consent_id=consent.id)
    claim_form_key(key, current_user.id, target)
    return redirect(commit_once(key) or target, code=303)


def _record_refusal(state: FlowState):
    """No consent: one anonymous interest per service (service, language, site, date), nothing
    that could name the visitor."""
    key = request.form.get("form_key")
    if not key:
        abort(400)
    if target := replayed_target(key):
        return redirect(target, code=303)
    today = local_today()
    language = ui_locale(state.visitor_lang)  # the language spoken: Swedish for lättläst
    for service in state.services:
        db.session.add(
            AnonymousInterest(
                organisation_id=state.site.organisation_id,
                site_id=state.site.id,
                service_id=service.id,
                language=language,
                on_date=today,
                recorded_by_id=current_user.id,
            )
        )
    audit.record(
        "consent_refused",
        "site",
        state.site.id,
        services=[s.id for s in state.services],
        language=language,
    )
    target = url_for("referrals.new", site_id=state.site.id)
    claim_form_key(key, current_user.id, target)
    flash(_("Intresset räknades anonymt. Inga personuppgifter sparades."))
    return redirect(commit_once(key) or target, code=303)


def _state_from_form(site_id: int) -> FlowState:
    """Re-check the hidden state: services of the organisation (else 404), a content locale, a
    published consent text of the organisation and, when one was shown, a published follow-up
    text of it (else 400)."""
    site = site_for_user(current_user, site_id)
    raw_ids = request.form.getlist("service_id")
    text_id = parse_id(request.form.get("text_id"))
    visitor_lang = request.form.get("visitor_lang")
    if not raw_ids or text_id is None or visitor_lang not in CONTENT_LOCALES:
        abort(400)
    services = _services_or_404(ids_or_404(raw_ids))
    text = _published_or_400(site, text_id, ConsentPurpose.REFERRAL)
    follow_up_text = None
    if raw_follow_up := request.form.get("follow_up_text_id"):
        follow_up_id = parse_id(raw_follow_up)
        if follow_up_id is None:
            abort(400)
        follow_up_text = _published_or_400(site, follow_up_id, ConsentPurpose.FOLLOW_UP)
    return FlowState(site, services, visitor_lang, text, follow_up_text)


def _published_or_400(site: Site, text_id: int, purpose: str) -> ConsentText:
    text = db.session.scalar(
        select(ConsentText).where(
            ConsentText.id == text_id,
            ConsentText.organisation_id == site.organisation_id,
            ConsentText.purpose == purpose,
            ConsentText.status == ConsentTextStatus.PUBLISHED,
        )
    )
    if text is None:
        abort(400)
    return text


def _services_or_404(ids: list[int]) -> list[Service]:
    wanted = set(ids)
    services = list(db.session.scalars(services_query(current_user).where(Service.id.in_(wanted))))
    if len(services) != len(wanted):
        abort(404)
    return services


def _render_consent(state: FlowState, form: ConsentForm, status: int = 200):
    """The consent screen: the visitor's part (the published text plus generated parts, the two
    agreements and her answer) in her language, the page around it and the staff's question
    (how the consent was given) in the staff member's. A lättläst reader gets the lättläst
    text, in the Swedish UI, and service names."""
    names = service_names([s.id for s in state.services], state.visitor_lang)
    body = render(
        "referrals/consent.html",
        state=state,
        org=state.site.organisation,
        form=form,
        names=names,
        visitor_ui=ui_locale(state.visitor_lang),
        fallback=state.text.locale != state.visitor_lang,
        languages=_language_links(state),
    )
    return body, status


def _language_links(state: FlowState) -> list[tuple[str, str, str]]:
    """(code, endonym, URL) to show the same consent screen in another language."""
    args = MultiDict([("service_id", s.id) for s in state.services])
    links = []
    for code, name in CONTENT_LOCALES.items():
        args["visitor_lang"] = code
        links.append(
            (
                code,
                name,
                url_for("referrals.consent", site_id=state.site.id, **args.to_dict(flat=False)),
            )
        )
    return links


def _render_contact(state: FlowState, form: ContactForm, status: int = 200):
    names = service_names([s.id for s in state.services], current_locale())
    return render("referrals/contact.html", state=state, form=form, names=names), status
