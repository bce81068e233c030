"""How a public page answers (area: info): rendered and cacheable for visitors, a locale we do
not serve sent to the closest one, the public "not found" page, and a QR code as inline SVG.
Logic, not views, so another area's public pages (the programme) answer the same way."""

import io

import segno
from flask import current_app, redirect, render_template, session, url_for
from flask_login import current_user

from ..i18n import CONTENT_LOCALES, best_match

PUBLIC_MAX_AGE = 300
# The blueprints whose public pages a kiosk may show; anything else leads back to its picker.
KIOSK_BLUEPRINTS = frozenset({"info", "programme"})
# Leaving kiosk mode through the organisation's identity provider (app/auth/sso.py): the
# start and the provider's return, which then asks for the second factor like the password.
KIOSK_EXIT_ENDPOINTS = frozenset({"auth.sso_start", "auth.sso_callback"})


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
    """A locale we do not serve: go to the closest one (e.g. /ar-SE/ -> /ar/, /SV_LL/ ->
    /sv-ll/; lättläst only when asked for, as browsers never do)."""
    written = lang.replace("_", "-").lower()
    target = written if written in CONTENT_LOCALES else best_match(lang)
    return redirect(url_for(endpoint, lang=target, **values), code=302)


def not_found(lang: str):
    return public_page("info/not_found.html", status=404, lang=lang)
