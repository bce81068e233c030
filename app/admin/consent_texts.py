"""Admin: consent texts, versioned per locale and purpose: the referral's consent, and the
optional follow-up agreement (being contacted again later about how it went), which the
consent screen offers only where a follow-up text is published. A draft can be edited; a
published version is immutable (every consent points at the exact version and locale it
showed), so a change is a new version. Each version may have a recorded reading, uploaded and replaced as a service
text's is (app.audio), also once published: the recording helps the visitor listen and
changes nothing of the text she agrees to. The first versions every organisation starts
with are seeded by `consent_versions`."""

from flask import current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import audit
from ..access import roles
from ..audio import remove_recording, replace_recording
from ..choices import ConsentPurpose, ConsentTextStatus, Role
from ..extensions import db
from ..i18n import CONTENT_LOCALES
from ..models import ConsentText, utcnow
from ..request_input import uploads
from ..scope import org_object_or_404, org_query
from ..web import form_status, render
from . import SECTIONS, bp
from .consent_versions import next_version
from .forms import AudioForm, ConfirmForm, ConsentTextForm

SECTIONS.append(
    (
        "admin.consent_texts",
        _l("Samtyckestexter"),
        _l("Texten besökaren läser innan hon eller han samtycker, på varje språk."),
    )
)


@bp.get("/consent-texts/")
@roles(Role.ADMIN)
def consent_texts():
    texts = db.session.scalars(
        org_query(current_user, ConsentText).order_by(
            ConsentText.purpose, ConsentText.locale, ConsentText.version.desc()
        )
    ).all()
    by_purpose = {
        purpose: {
            code: [t for t in texts if t.purpose == purpose and t.locale == code]
            for code in CONTENT_LOCALES
        }
        for purpose in ConsentPurpose
    }
    follow_up_published = any(
        t.status == ConsentTextStatus.PUBLISHED
        for t in texts
        if t.purpose == ConsentPurpose.FOLLOW_UP
    )
    return render(
        "admin/consent_texts/index.html",
        by_purpose=by_purpose,
        follow_up_published=follow_up_published,
    )


@bp.route("/consent-texts/new", methods=["GET", "POST"])
@roles(Role.ADMIN)
def consent_text_new():
    """A new draft; ?purpose= and ?locale= start from the newest version of that purpose in
    that locale."""
    form = ConsentTextForm()
    if request.method == "GET":
        locale = request.args.get("locale", "sv")
        purpose = request.args.get("purpose", ConsentPurpose.REFERRAL)
        form.locale.data = locale if locale in CONTENT_LOCALES else "sv"
        form.purpose.data = purpose if purpose in set(ConsentPurpose) else ConsentPurpose.REFERRAL
        latest = db.session.scalar(
            org_query(current_user, ConsentText)
            .where(
                ConsentText.locale == form.locale.data,
                ConsentText.purpose == form.purpose.data,
            )
            .order_by(ConsentText.version.desc())
            .limit(1)
        )
        if latest is not None:
            form.body.data, form.legal_basis.data = latest.body, latest.legal_basis
    if not form.validate_on_submit():
        return render("admin/consent_texts/edit.html", form=form, text=None), form_status(form)
    org_id = current_user.organisation_id
    text = ConsentText(
        organisation_id=org_id,
        locale=form.locale.data,
        purpose=form.purpose.data,
        version=next_version(org_id, form.locale.data, form.purpose.data),
        legal_basis=form.legal_basis.data,
        body=form.body.data.strip(),
        created_by_id=current_user.id,
    )
    db.session.add(text)
    db.session.flush()
    audit.record(
        "consent_text_created",
        "consent_text",
        text.id,
        version=text.version,
        purpose=text.purpose,
    )
    db.session.commit()
    flash(_("Utkastet är sparat."))
    return redirect(url_for("admin.consent_texts"), code=303)


@bp.route("/consent-texts/<int:text_id>/edit", methods=["GET", "POST"])
@roles(Role.ADMIN)
def consent_text_edit(text_id: int):
    text = org_object_or_404(current_user, ConsentText, text_id)
    if text.status == ConsentTextStatus.PUBLISHED:
        # Consents point at this exact version: it must read tomorrow as it read when given.
        flash(_("En publicerad text kan inte ändras. Skapa en ny version."), "error")
        if request.method == "GET":
            return redirect(url_for("admin.consent_texts"), code=303)
        return consent_texts(), 409
    form = ConsentTextForm(obj=text)
    # The locale and purpose of a version never change.
    for fixed in (form.locale, form.purpose):
        fixed.render_kw = {"disabled": True}
    form.locale.data, form.purpose.data = text.locale, text.purpose
    if not form.validate_on_submit():
        return render("admin/consent_texts/edit.html", form=form, text=text), form_status(form)
    text.legal_basis = form.legal_basis.data
    text.body = form.body.data.strip()
    audit.record("consent_text_edited", "consent_text", text.id, version=text.version)
    db.session.commit()
    flash(_("Utkastet är sparat."))
    return redirect(url_for("admin.consent_texts"), code=303)


@bp.post("/consent-texts/<int:text_id>/publish")
@roles(Role.ADMIN)
def consent_text_publish(text_id: int):
    text = org_object_or_404(current_user, ConsentText, text_id)
    if text.status != ConsentTextStatus.PUBLISHED:
        text.status = ConsentTextStatus.PUBLISHED
        text.published_at = utcnow()
        audit.record("consent_text_published", "consent_text", text.id, version=text.version)
        db.session.commit()
        flash(_("Texten är publicerad."))
    return redirect(url_for("admin.consent_texts"), code=303)


def _audio_page(text: ConsentText, form: AudioForm, status: int = 200):
    page = render(
        "admin/consent_texts/audio.html",
        text=text,
        form=form,
        remove_form=ConfirmForm(),
        max_mb=round(current_app.config["AUDIO_MAX_BYTES"] / (1024 * 1024), 1),
    )
    return page, status


@bp.get("/consent-texts/<int:text_id>/audio")
@roles(Role.ADMIN)
def consent_text_audio(text_id: int):
    return _audio_page(org_object_or_404(current_user, ConsentText, text_id), AudioForm())


@bp.post("/consent-texts/<int:text_id>/audio")
@uploads("audio")
@roles(Role.ADMIN)
def consent_text_audio_upload(text_id: int):
    text = org_object_or_404(current_user, ConsentText, text_id)
    form = AudioForm()
    if form.validate_on_submit():
        problem = replace_recording(
            text,
            form.audio.data,
            "consent_text_audio_upload",
            "consent_text",
            text.id,
            version=text.version,
            locale=text.locale,
        )
        if problem is None:
            flash(_("Ljudfilen är sparad."))
            return redirect(url_for("admin.consent_text_audio", text_id=text.id), code=303)
        form.audio.errors.append(problem)
    return _audio_page(text, form, 422)


@bp.post("/consent-texts/<int:text_id>/audio/delete")
@roles(Role.ADMIN)
def consent_text_audio_delete(text_id: int):
    text = org_object_or_404(current_user, ConsentText, text_id)
    if ConfirmForm().validate_on_submit() and text.audio_filename:
        remove_recording(
            text,
            "consent_text_audio_remove",
            "consent_text",
            text.id,
            version=text.version,
            locale=text.locale,
        )
        flash(_("Ljudfilen är borttagen."))
    return redirect(url_for("admin.consent_text_audio", text_id=text.id), code=303)
