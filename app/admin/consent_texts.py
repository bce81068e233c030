"""Admin: consent texts, versioned per locale. A draft can be edited; a published version is
immutable (every consent points at the exact version and locale it showed), so a change is a
new version. Also `seed_consent_texts`, the first published text in every UI locale, from
seed/consent_texts.json (locale -> text; data, not UI messages: admins replace them)."""

import json
from pathlib import Path

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from .. import audit
from ..access import roles
from ..choices import ConsentTextStatus, LegalBasis, Role
from ..extensions import db
from ..i18n import LOCALES
from ..info.catalogue import SeedError
from ..models import ConsentText, Organisation, User, utcnow
from ..scope import org_object_or_404, org_query
from ..text_input import clean_text
from ..web import form_status, render
from . import SECTIONS, bp

SECTIONS.append(
    (
        "admin.consent_texts",
        _l("Samtyckestexter"),
        _l("Texten besökaren läser innan hon eller han samtycker, på varje språk."),
    )
)


class ConsentTextForm(FlaskForm):
    locale = SelectField(_l("Språk"), choices=lambda: list(LOCALES.items()))
    legal_basis = SelectField(_l("Rättslig grund"), choices=LegalBasis.choices)
    body = TextAreaField(
        _l("Text"),
        validators=[DataRequired(message=_l("Skriv texten.")), Length(max=10000)],
        filters=[clean_text],
    )


def next_version(org_id: int, locale: str) -> int:
    """Versions count per locale: the highest so far plus one."""
    highest = db.session.scalar(
        select(func.max(ConsentText.version)).where(
            ConsentText.organisation_id == org_id, ConsentText.locale == locale
        )
    )
    return (highest or 0) + 1


@bp.get("/consent-texts/")
@roles(Role.ADMIN)
def consent_texts():
    texts = db.session.scalars(
        org_query(current_user, ConsentText).order_by(
            ConsentText.locale, ConsentText.version.desc()
        )
    ).all()
    by_locale = {code: [t for t in texts if t.locale == code] for code in LOCALES}
    return render("admin/consent_texts/index.html", by_locale=by_locale)


@bp.route("/consent-texts/new", methods=["GET", "POST"])
@roles(Role.ADMIN)
def consent_text_new():
    """A new draft; ?locale= starts from the newest version in that locale."""
    form = ConsentTextForm()
    if request.method == "GET":
        locale = request.args.get("locale", "sv")
        form.locale.data = locale if locale in LOCALES else "sv"
        latest = db.session.scalar(
            org_query(current_user, ConsentText)
            .where(ConsentText.locale == form.locale.data)
            .order_by(ConsentText.version.desc())
            .limit(1)
        )
        if latest is not None:
            form.body.data, form.legal_basis.data = latest.body, latest.legal_basis
    if not form.validate_on_submit():
        return render("admin/consent_texts/edit.html", form=form, text=None), form_status(form)
    text = ConsentText(
        organisation_id=current_user.organisation_id,
        locale=form.locale.data,
        version=next_version(current_user.organisation_id, form.locale.data),
        legal_basis=form.legal_basis.data,
        body=form.body.data.strip(),
        created_by_id=current_user.id,
    )
    db.session.add(text)
    db.session.flush()
    audit.record("consent_text_created", "consent_text", text.id, version=text.version)
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
    form.locale.render_kw = {"disabled": True}  # the locale of a version never changes
    form.locale.data = text.locale
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


# Shipped with the package (pyproject's package-data). Each text names both things agreed to:
# the processing of the contact details (GDPR) and the waiver of secrecy (OSL 12 kap.).
SEED_FILE = Path(__file__).resolve().parent / "seed" / "consent_texts.json"


def seed_texts(legal_basis: str) -> dict[str, str]:
    """locale -> the first consent text, from the seed file, each checked as the admin's form
    checks a new text; raises SeedError naming every problem (a fault of the package: no
    organisation may start without a consent text it can show in every locale)."""
    try:
        texts = json.loads(SEED_FILE.read_bytes())
    except (OSError, ValueError) as error:
        raise SeedError(f"{SEED_FILE.name}: {error}") from None
    if not isinstance(texts, dict) or set(texts) != set(LOCALES):
        raise SeedError(f"{SEED_FILE.name}: one text for each of {', '.join(LOCALES)} expected")
    problems, bodies = [], {}
    for locale, body in texts.items():
        if not isinstance(body, str):
            problems.append(f"{locale}: text expected")
            continue
        form = ConsentTextForm(
            formdata=MultiDict({"locale": locale, "legal_basis": legal_basis, "body": body}),
            meta={"csrf": False},
        )
        if not form.validate():
            problems.append(f"{locale}: {form.errors}")
            continue
        bodies[locale] = form.body.data.strip()  # as the admin's screen stores it
    if problems:
        raise SeedError(f"{SEED_FILE.name}: {'; '.join(problems)}")
    return bodies


def seed_consent_texts(org: Organisation, by: User | None = None) -> None:
    """A published first version in every UI locale (data, not messages: admins edit them)."""
    now = utcnow()
    for locale, body in seed_texts(org.legal_basis).items():
        db.session.add(
            ConsentText(
                organisation_id=org.id,
                locale=locale,
                version=next_version(org.id, locale),
                legal_basis=org.legal_basis,
                body=body,
                status=ConsentTextStatus.PUBLISHED,
                published_at=now,
                created_by_id=by.id if by else None,
            )
        )
    db.session.flush()
