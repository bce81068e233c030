"""Admin: the service catalogue of the admin's own organisation (area: info).

Lists services with each locale's state (missing / draft / reviewed), edits a service and one
translation at a time, uploads or removes a translation's recorded reading, and exports or
imports the whole catalogue as HSDS-shaped JSON. Every change is audited. Texts are plain text:
templates escape them and keep line breaks, so HTML typed here is shown, never run.
"""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..access import roles
from ..audio import remove_recording, replace_recording
from ..choices import Role, TranslationStatus
from ..extensions import db
from ..i18n import CONTENT_LOCALES, DEFAULT_LOCALE
from ..info import catalogue
from ..info.forms import NewServiceForm, ServiceForm, TranslationForm
from ..models import Service, ServiceTranslation
from ..names import service_names
from ..request_input import uploads
from ..scope import org_object_or_404, org_query
from ..web import claim_form_key, commit_once, form_status, paginate, replayed_target
from . import SECTIONS, bp
from .forms import AudioForm, ConfirmForm

SECTIONS.append(
    (
        "admin.services",
        _l("Tjänster"),
        _l("Tjänsterna besökare kan läsa om, på alla språk."),
    )
)

MISSING = "missing"


class ImportForm(FlaskForm):
    file = FileField(_l("JSON-fil"), validators=[FileRequired(_l("Välj en fil."))])


def checked_locale(code: str) -> str:
    """The locale of the text being edited; named `code` in URLs because `lang` would switch
    the admin's own interface language (see i18n.select_locale)."""
    if code not in CONTENT_LOCALES:  # lättläst (sv-ll) is edited like the others
        abort(404)
    return code


def translation(service: Service, lang: str) -> ServiceTranslation | None:
    return db.session.scalar(
        select(ServiceTranslation).where(
            ServiceTranslation.service_id == service.id, ServiceTranslation.locale == lang
        )
    )


@bp.get("/services/")
@roles(Role.ADMIN)
def services():
    page = paginate(org_query(current_user, Service).order_by(Service.sort_order, Service.slug))
    states: dict[int, dict[str, str]] = {s.id: {} for s in page.items}
    if states:
        rows = db.session.execute(
            select(
                ServiceTranslation.service_id, ServiceTranslation.locale, ServiceTranslation.status
            ).where(ServiceTranslation.service_id.in_(list(states)))
        )
        for service_id, locale, status in rows:
            states[service_id][locale] = status
    return render_template(
        "admin/services/list.html",
        page=page,
        states=states,
        # Swedish: the catalogue's source language, in which admins keep it.
        names=service_names(states, DEFAULT_LOCALE),
        missing=MISSING,
    )


@bp.route("/services/new", methods=["GET", "POST"])
@roles(Role.ADMIN)
def service_new():
    form = NewServiceForm(organisation_id=current_user.organisation_id)
    key = request.form.get("form_key")
    if request.method == "POST" and (target := replayed_target(key)):
        return redirect(target, code=303)  # a double tap or a retry: the first one won
    if form.validate_on_submit():
        service = Service(organisation_id=current_user.organisation_id)
        form.populate_obj(service)
        service.translations.append(
            ServiceTranslation(
                locale=DEFAULT_LOCALE, name=form.name.data.strip(), status=TranslationStatus.DRAFT
            )
        )
        db.session.add(service)
        try:
            db.session.flush()
        except IntegrityError:  # the same slug saved a moment ago by someone else
            db.session.rollback()
            form.slug.errors.append(_("Det kortnamnet används redan."))
            return render_template("admin/services/edit.html", form=form, service=None), 422
        audit.record("service_create", "service", service.id, slug=service.slug)
        target = url_for("admin.translation_edit", service_id=service.id, code=DEFAULT_LOCALE)
        if key:
            claim_form_key(key, current_user.id, target)
        if replayed := commit_once(key):
            return redirect(replayed, code=303)
        flash(_("Tjänsten är skapad. Skriv nu den svenska texten."))
        return redirect(target, code=303)
    return render_template("admin/services/edit.html", form=form, service=None), form_status(form)


@bp.route("/services/<int:service_id>", methods=["GET", "POST"])
@roles(Role.ADMIN)
def service_edit(service_id: int):
    service = org_object_or_404(current_user, Service, service_id)
    form = ServiceForm(
        obj=service, organisation_id=current_user.organisation_id, service_id=service.id
    )
    if form.validate_on_submit():
        form.populate_obj(service)
        audit.record("service_update", "service", service.id, slug=service.slug)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            form.slug.errors.append(_("Det kortnamnet används redan."))
            return render_template("admin/services/edit.html", form=form, service=service), 422
        flash(_("Ändringarna är sparade."))
        return redirect(url_for("admin.services"), code=303)
    page = render_template("admin/services/edit.html", form=form, service=service)
    return page, form_status(form)


def _translation_page(service, lang, row, form, audio_form, status=200):
    source = translation(service, DEFAULT_LOCALE) if lang != DEFAULT_LOCALE else None
    return (
        render_template(
            "admin/services/translation.html",
            service=service,
            lang=lang,
            row=row,
            source=source,
            form=form,
            audio_form=audio_form,
            remove_form=ConfirmForm(),
            max_mb=round(current_app.config["AUDIO_MAX_BYTES"] / (1024 * 1024), 1),
        ),
        status,
    )


@bp.route("/services/<int:service_id>/texts/<code>", methods=["GET", "POST"])
@roles(Role.ADMIN)
def translation_edit(service_id: int, code: str):
    service = org_object_or_404(current_user, Service, service_id)
    lang = checked_locale(code)
    row = translation(service, lang)
    form = TranslationForm(obj=row)
    if form.validate_on_submit():
        if row is None:
            row = ServiceTranslation(service_id=service.id, locale=lang)
            db.session.add(row)
        form.populate_obj(row)
        db.session.flush()
        audit.record("service_translation_update", "service", service.id, locale=lang)
        db.session.commit()
        flash(_("Texten är sparad."))
        return redirect(url_for("admin.translation_edit", service_id=service.id, code=lang), 303)
    return _translation_page(service, lang, row, form, AudioForm(), form_status(form))


@bp.post("/services/<int:service_id>/texts/<code>/audio")
@uploads("audio")
@roles(Role.ADMIN)
def translation_audio(service_id: int, code: str):
    service = org_object_or_404(current_user, Service, service_id)
    lang = checked_locale(code)
    row = translation(service, lang)
    if row is None:
        abort(404)
    audio_form = AudioForm()
    if audio_form.validate_on_submit():
        problem = replace_recording(
            row, audio_form.audio.data, "service_audio_upload", "service", service.id, locale=lang
        )
        if problem is None:
            flash(_("Ljudfilen är sparad."))
            return redirect(
                url_for("admin.translation_edit", service_id=service.id, code=lang), 303
            )
        audio_form.audio.errors.append(problem)
    return _translation_page(service, lang, row, TranslationForm(obj=row), audio_form, 422)


@bp.post("/services/<int:service_id>/texts/<code>/audio/delete")
@roles(Role.ADMIN)
def translation_audio_delete(service_id: int, code: str):
    service = org_object_or_404(current_user, Service, service_id)
    lang = checked_locale(code)
    row = translation(service, lang)
    if row is None or not ConfirmForm().validate_on_submit():
        abort(404 if row is None else 400)
    remove_recording(row, "service_audio_remove", "service", service.id, locale=lang)
    flash(_("Ljudfilen är borttagen."))
    return redirect(url_for("admin.translation_edit", service_id=service.id, code=lang), 303)


@bp.get("/services/export")
@roles(Role.ADMIN)
def services_export():
    org = current_user.organisation
    body = catalogue.export_json(org)
    audit.record("catalogue_export", "organisation", org.id)
    db.session.commit()
    response = current_app.response_class(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="tjanster-{org.slug}.json"'
    return response


@bp.route("/services/import", methods=["GET", "POST"])
@uploads("file")
@roles(Role.ADMIN)
def services_import():
    form = ImportForm()
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            data = catalogue.load_json(form.file.data.read())
            result = catalogue.import_catalogue(current_user.organisation, data)
        except catalogue.CatalogueError as error:
            db.session.rollback()
            problems = error.errors
            form.file.errors = list(problems)  # beside the upload field, where the eye is
        else:
            db.session.commit()
            flash(
                _(
                    "Katalogen är inläst: %(created)s nya och %(updated)s ändrade tjänster.",
                    created=result["created"],
                    updated=result["updated"],
                )
            )
            return redirect(url_for("admin.services"), code=303)
    page = render_template("admin/services/import.html", form=form, problems=problems)
    return page, form_status(form)
