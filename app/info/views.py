"""The public pages (the service grid, one service, its handout, QR code and recording, how
to withdraw consent) and kiosk mode. Public pages are cacheable for five minutes when nobody
is signed in."""

from flask import (
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from .. import audit
from ..access import ALL_STAFF, PUBLIC, public, roles
from ..audio import send_audio
from ..auth.signin import password_step
from ..extensions import db
from ..i18n import CONTENT_LOCALES, current_locale
from ..models import User
from ..web import form_status
from . import api, bp  # noqa: F401  (api: the HSDS API's routes, on this blueprint)
from .forms import KioskExitForm
from .pages import (
    KIOSK_BLUEPRINTS,
    KIOSK_EXIT_ENDPOINTS,
    mark_cacheable,
    not_found,
    public_page,
    qr_svg,
    wrong_locale,
)
from .queries import (
    active_services,
    find_service,
    find_site,
    offered_services,
    public_organisation,
    public_sites,
    sites_offering,
    translations_for,
)


def absolute_service_url(lang: str, slug: str) -> str:
    return url_for("info.service", lang=lang, slug=slug, _external=True)


# ---------------------------------------------------------------- public pages


@bp.get("/info")
@public
def entry():
    """The public entry: the grid in the reader's language by the app's one locale rule, so
    signed-in staff get their own language and a Dari (prs-AF) browser gets Persian."""
    return redirect(url_for("info.index", lang=current_locale()), code=302)


@bp.get("/<locale:lang>/")
@public
def index(lang: str):
    if lang not in CONTENT_LOCALES:
        return wrong_locale(lang, "info.index")
    org = public_organisation()
    services = active_services(org)
    texts = translations_for([s.id for s in services], lang)
    cards = [(s, texts[s.id]) for s in services if s.id in texts]
    fallback = any(text.locale != lang for _service, text in cards)
    return public_page(
        "info/index.html",
        lang=lang,
        org=org,
        cards=cards,
        fallback=fallback,
        sites=public_sites(org),
    )


@bp.get("/<locale:lang>/withdraw")
@public
def how_to_withdraw(lang: str):
    """Public: how a visitor withdraws consent (the receipt's QR code points here), with the
    open preschools to go to or call."""
    if lang not in CONTENT_LOCALES:
        return wrong_locale(lang, "info.how_to_withdraw")
    org = public_organisation()
    return public_page("info/how_to_withdraw.html", lang=lang, org=org, sites=public_sites(org))


@bp.get("/<locale:lang>/site/<int:site_id>")
@public
def site(lang: str, site_id: int):
    """One open preschool: address, opening hours, map link, phone, the services held there."""
    if lang not in CONTENT_LOCALES:
        return wrong_locale(lang, "info.site", site_id=site_id)
    found = find_site(site_id)
    if found is None:
        return not_found(lang)
    services = offered_services(found)
    texts = translations_for([s.id for s in services], lang)
    offered = [(s, texts[s.id]) for s in services if s.id in texts]
    return public_page(
        "info/site.html", lang=lang, org=found.organisation, site=found, services=offered
    )


@bp.get("/<locale:lang>/<slug>")
@public
def service(lang: str, slug: str):
    return _service_page(lang, slug, "info.service", "info/service.html")


@bp.get("/<locale:lang>/<slug>/print")
@public
def print_view(lang: str, slug: str):
    """A one-page handout (A5 or A4) with the QR code inline, to print and give away."""
    return _service_page(lang, slug, "info.print_view", "info/print.html", with_qr=True)


def _service_page(lang: str, slug: str, endpoint: str, template: str, with_qr: bool = False):
    """One service's text in `lang` (Swedish where it has none yet) as `template`."""
    if lang not in CONTENT_LOCALES:
        return wrong_locale(lang, endpoint, slug=slug)
    found, text = find_service(lang, slug)
    if text is None:
        return not_found(lang)
    url = absolute_service_url(lang, slug)
    qr_code = qr_svg(url).decode() if with_qr else None
    return public_page(
        template,
        lang=lang,
        org=found.organisation,
        service=found,
        sites=sites_offering(found),
        text=text,
        page_url=url,
        qr=qr_code,
    )


@bp.get("/<locale:lang>/<slug>/qr.svg")
@public
def qr(lang: str, slug: str):
    if lang not in CONTENT_LOCALES:
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
    found, text = find_service(lang, slug) if lang in CONTENT_LOCALES else (None, None)
    if text is None or text.locale != lang or not text.audio_filename:
        abort(404)
    response = send_audio(text.audio_filename)
    if response is None:
        abort(404)
    return mark_cacheable(response)


@bp.before_app_request
def keep_kiosk_on_public_pages():
    """While a tablet is in kiosk mode, every page outside the public information and the
    public programme (and static files) leads back to the kiosk's language picker."""
    if not session.get("kiosk") or request.endpoint in (None, "static"):
        return None
    if request.endpoint in KIOSK_EXIT_ENDPOINTS:
        return None
    view = current_app.view_functions.get(request.endpoint)
    if request.blueprint in KIOSK_BLUEPRINTS and getattr(view, "access", None) == PUBLIC:
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
        step = password_step(user, account, form.password.data, url_for("auth.index"))
        if step.response is not None:
            audit.record("kiosk_exit", "user", user.id, user=user)
            db.session.commit()
            return step.response
        form.password.errors.append(step.error or _("Fel lösenord. Kioskläget är kvar."))
        page = render_template("info/kiosk_exit.html", form=form, user=user)
        return page, step.status, step.headers
    return render_template("info/kiosk_exit.html", form=form, user=user), form_status(form)


@bp.app_context_processor
def kiosk_context():
    """Templates know whether the tablet is a kiosk and after how long it goes home."""
    kiosk = session.get("kiosk") if request else None
    return {"kiosk": kiosk, "kiosk_idle": (kiosk or {}).get("idle_seconds", 120)}
