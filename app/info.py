"""Public service information (area: info).

Owns the pages visitors read without signing in: `/<lang>/` (a picture-led grid of services),
`/<lang>/<slug>` (one service, with read-aloud, an optional audio file, a QR code), its print
handout, and kiosk mode (a staff member hands the tablet to a visitor; only these pages are
reachable until the staff member's password is given again).

Public pages are light on purpose: their own base template without htmx or app.js, and cacheable
for five minutes when nobody is signed in.
"""

import io
import secrets
from pathlib import Path

import segno
from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.routing import BaseConverter
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length

from . import audit
from .access import ALL_STAFF, PUBLIC, public, roles
from .auth import password_step
from .extensions import db
from .i18n import DEFAULT_LOCALE, LOCALES, best_match
from .models import Organisation, Service, ServiceTranslation, User

bp = Blueprint("info", __name__, cli_group=None)


class LocaleConverter(BaseConverter):
    """A language tag such as sv, ar-SE or zh-Hant-TW, so /<lang>/ does not swallow other
    one-segment paths (/no-such-page stays a 404); unknown tags are redirected by the views."""

    regex = r"[A-Za-z]{2,3}(?:[-_](?:[A-Za-z]{4}|[A-Za-z]{2}|[0-9]{3}))?(?:[-_](?:[A-Za-z]{2}|[0-9]{3}))?"


# Registered before the routes below, which use it.
bp.record_once(lambda state: state.app.url_map.converters.setdefault("locale", LocaleConverter))

PUBLIC_MAX_AGE = 300
# Stored audio files: extension -> mimetype; the type is decided from the file's first bytes.
AUDIO_TYPES = {
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "m4a": "audio/mp4",
    "webm": "audio/webm",
}


# ---------------------------------------------------------------- which organisation, which text


def public_organisation() -> Organisation | None:
    """The organisation shown to visitors: the kiosk's, the configured one, else the first."""
    kiosk = session.get("kiosk")
    if kiosk:
        org = db.session.get(Organisation, kiosk["organisation_id"])
        if org is not None:
            return org
    slug = current_app.config.get("PUBLIC_ORGANISATION")
    query = select(Organisation)
    query = query.where(Organisation.slug == slug) if slug else query.order_by(Organisation.id)
    return db.session.scalar(query.limit(1))


def translations_for(service_ids: list[int], lang: str) -> dict[int, ServiceTranslation]:
    """The text to show per service: the visitor's locale, else Swedish (one query)."""
    if not service_ids:
        return {}
    rows = db.session.scalars(
        select(ServiceTranslation).where(
            ServiceTranslation.service_id.in_(service_ids),
            ServiceTranslation.locale.in_({lang, DEFAULT_LOCALE}),
        )
    )
    chosen: dict[int, ServiceTranslation] = {}
    for row in rows:
        if row.locale == lang or row.service_id not in chosen:
            chosen[row.service_id] = row
    return chosen


def active_services(org: Organisation | None) -> list[Service]:
    if org is None:
        return []
    return list(
        db.session.scalars(
            select(Service)
            .where(Service.organisation_id == org.id, Service.is_active)
            .order_by(Service.sort_order, Service.slug)
        )
    )


def find_service(lang: str, slug: str) -> tuple[Service | None, ServiceTranslation | None]:
    org = public_organisation()
    if org is None:
        return None, None
    service = db.session.scalar(
        select(Service).where(
            Service.organisation_id == org.id, Service.slug == slug, Service.is_active
        )
    )
    if service is None:
        return None, None
    return service, translations_for([service.id], lang).get(service.id)


def absolute_service_url(lang: str, slug: str) -> str:
    return url_for("info.service", lang=lang, slug=slug, _external=True)


def qr_svg(url: str) -> bytes:
    """The QR code of `url` as a small SVG (no XML declaration, scalable by CSS)."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(
        buffer,
        kind="svg",
        xmldecl=False,
        scale=4,
        border=2,
        light="#fff",
        svgclass="qr",
        lineclass=None,
    )
    return buffer.getvalue()


# ---------------------------------------------------------------- responses


def public_page(template: str, status: int = 200, **context):
    """Render a public page; cacheable for visitors, never for a signed-in user or a kiosk."""
    response = current_app.make_response((render_template(template, **context), status))
    if status == 200:
        mark_cacheable(response)
    return response


def mark_cacheable(response):
    if not current_user.is_authenticated and not session.get("kiosk"):
        response.cache_control.public = True
        response.cache_control.max_age = PUBLIC_MAX_AGE
    return response


def wrong_locale(lang: str, endpoint: str, **values):
    """A locale we do not serve: go to the closest one (e.g. /ar-SE/ -> /ar/)."""
    return redirect(url_for(endpoint, lang=best_match(lang), **values), code=302)


def not_found(lang: str):
    return public_page("info/not_found.html", status=404, lang=lang)


# ---------------------------------------------------------------- public pages


@bp.get("/info")
@public
def entry():
    """The public entry for visitors: the grid in the browser's best language."""
    lang = request.accept_languages.best_match(list(LOCALES)) or DEFAULT_LOCALE
    return redirect(url_for("info.index", lang=lang), code=302)


@bp.get("/<locale:lang>/")
@public
def index(lang: str):
    if lang not in LOCALES:
        return wrong_locale(lang, "info.index")
    org = public_organisation()
    services = active_services(org)
    texts = translations_for([s.id for s in services], lang)
    cards = [(s, texts[s.id]) for s in services if s.id in texts]
    fallback = any(text.locale != lang for _service, text in cards)
    return public_page("info/index.html", lang=lang, org=org, cards=cards, fallback=fallback)


@bp.get("/<locale:lang>/<slug>")
@public
def service(lang: str, slug: str):
    if lang not in LOCALES:
        return wrong_locale(lang, "info.service", slug=slug)
    found, text = find_service(lang, slug)
    if text is None:
        return not_found(lang)
    return public_page(
        "info/service.html",
        lang=lang,
        service=found,
        text=text,
        page_url=absolute_service_url(lang, slug),
    )


@bp.get("/<locale:lang>/<slug>/print")
@public
def print_view(lang: str, slug: str):
    """A one-page handout (A5 or A4) with the QR code inline, to print and give away."""
    if lang not in LOCALES:
        return wrong_locale(lang, "info.print_view", slug=slug)
    found, text = find_service(lang, slug)
    if text is None:
        return not_found(lang)
    url = absolute_service_url(lang, slug)
    return public_page(
        "info/print.html",
        lang=lang,
        service=found,
        text=text,
        page_url=url,
        qr=qr_svg(url).decode(),
    )


@bp.get("/<locale:lang>/<slug>/qr.svg")
@public
def qr(lang: str, slug: str):
    if lang not in LOCALES:
        return wrong_locale(lang, "info.qr", slug=slug)
    found, text = find_service(lang, slug)
    if text is None:
        abort(404)
    response = current_app.response_class(
        qr_svg(absolute_service_url(lang, slug)), mimetype="image/svg+xml"
    )
    return mark_cacheable(response)


@bp.get("/<locale:lang>/<slug>/audio")
@public
def audio(lang: str, slug: str):
    """The recorded reading of one translation, with the mimetype stored with it."""
    found, text = find_service(lang, slug) if lang in LOCALES else (None, None)
    if text is None or text.locale != lang or not text.audio_filename:
        abort(404)
    path = audio_dir() / text.audio_filename
    extension = path.suffix.lstrip(".")
    if extension not in AUDIO_TYPES or not path.is_file():
        abort(404)
    response = send_file(path, mimetype=AUDIO_TYPES[extension], conditional=True)
    return mark_cacheable(response)


# ---------------------------------------------------------------- audio files


def audio_dir() -> Path:
    path = Path(current_app.instance_path) / "audio"
    path.mkdir(parents=True, exist_ok=True)
    return path


def sniff_audio(data: bytes) -> str | None:
    """The audio extension a file's bytes prove, or None (never trust the name).

    An MP3 may start with an ID3 tag; then the tag's own length must lead to an MPEG frame,
    so "ID3" followed by a web page is not audio."""
    if data.startswith(b"ID3") and len(data) >= 10:
        size = 0
        for byte in data[6:10]:  # a "syncsafe" integer: 7 bits a byte
            if byte & 0x80:
                return None
            size = (size << 7) | byte
        start = 10 + size + (10 if data[5] & 0x10 else 0)  # a footer doubles the header
        return "mp3" if _is_mpeg_frame(data[start : start + 2]) else None
    if _is_mpeg_frame(data[:2]):
        return "mp3"
    if data.startswith(b"OggS"):
        return "ogg"
    if data[4:8] == b"ftyp":
        return "m4a"
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    return None


def _is_mpeg_frame(head: bytes) -> bool:
    return len(head) == 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0


# Extensions accepted in a file name, per sniffed type.
AUDIO_EXTENSIONS = {
    "mp3": {"mp3"},
    "ogg": {"ogg", "oga", "opus"},
    "m4a": {"m4a", "mp4", "aac"},
    "webm": {"webm", "weba"},
}


def store_audio(upload) -> tuple[str | None, str | None]:
    """Save an uploaded audio file under a random name; (filename, None) or (None, message)."""
    limit = current_app.config["AUDIO_MAX_BYTES"]
    data = upload.read(limit + 1)
    if len(data) > limit:
        megabytes = round(limit / (1024 * 1024), 1)
        return None, _("Filen är för stor. Den får vara högst %(size)s MB.", size=megabytes)
    kind = sniff_audio(data)
    extension = (upload.filename or "").rsplit(".", 1)[-1].lower()
    if kind is None or extension not in AUDIO_EXTENSIONS[kind]:
        return None, _("Filen är inte ljud av en typ vi tar emot (MP3, OGG, M4A eller WebM).")
    name = f"{secrets.token_hex(16)}.{kind}"
    (audio_dir() / name).write_bytes(data)
    return name, None


def delete_audio(filename: str | None) -> None:
    if filename:
        (audio_dir() / Path(filename).name).unlink(missing_ok=True)


# ---------------------------------------------------------------- kiosk mode


class KioskExitForm(FlaskForm):
    password = PasswordField(
        _l("Lösenord"), validators=[DataRequired(_l("Skriv ditt lösenord.")), Length(max=200)]
    )


@bp.before_app_request
def keep_kiosk_on_public_pages():
    """While a tablet is in kiosk mode, every page outside the public information (and static
    files) leads back to the kiosk's language picker."""
    if not session.get("kiosk") or request.endpoint in (None, "static"):
        return None
    view = current_app.view_functions.get(request.endpoint)
    if request.blueprint == "info" and getattr(view, "access", None) == PUBLIC:
        return None
    return redirect(url_for("info.kiosk_home"), code=303)


@bp.get("/kiosk/")
@public
def kiosk_home():
    """The language picker a kiosk returns to; also usable outside kiosk mode."""
    return render_template("info/kiosk.html", lang=None)


@bp.route("/kiosk/start", methods=["GET", "POST"])
@roles(*ALL_STAFF)
def kiosk_start():
    """Hand the tablet over: the staff session ends, the kiosk remembers who started it."""
    if request.method == "GET":
        return render_template("info/kiosk_start.html")
    user = current_user._get_current_object()
    audit.record("kiosk_start", "user", user.id, user=user)
    db.session.commit()
    logout_user()
    session.clear()
    session["kiosk"] = {
        "user_id": user.id,
        "organisation_id": user.organisation_id,
        "idle_seconds": user.organisation.kiosk_idle_seconds,
    }
    return redirect(url_for("info.kiosk_home"), code=303)


@bp.route("/kiosk/exit", methods=["GET", "POST"])
@public
def kiosk_exit():
    """Leave kiosk mode: a sign-in of the staff member who started it, through the same
    password step as the sign-in page (its throttle, its audit events, then the second factor
    where the user has or needs it). The kiosk cookie alone is worth nothing."""
    kiosk = session.get("kiosk")
    if not kiosk:
        return redirect(url_for("auth.login"), code=303)
    user = db.session.get(User, kiosk["user_id"])
    form = KioskExitForm()
    if form.validate_on_submit():
        account = user.email if user else f"kiosk-user-{kiosk['user_id']}"
        step = password_step(user, account, form.password.data, url_for("home.index"))
        if step.response is not None:
            audit.record("kiosk_exit", "user", user.id, user=user)
            db.session.commit()
            return step.response
        form.password.errors.append(step.error or _("Fel lösenord. Kioskläget är kvar."))
        page = render_template("info/kiosk_exit.html", form=form, user=user)
        return page, step.status, step.headers
    status = 422 if request.method == "POST" else 200
    return render_template("info/kiosk_exit.html", form=form, user=user), status


@bp.app_context_processor
def kiosk_context():
    """Templates know whether the tablet is a kiosk and after how long it goes home."""
    kiosk = session.get("kiosk") if request else None
    return {"kiosk": kiosk, "kiosk_idle": (kiosk or {}).get("idle_seconds", 120)}


from . import catalogue  # noqa: E402

catalogue.register_commands(bp)
