"""The visitors' programme (area: programme): an index of every site's next few sessions, this
week and next per site in the visitor's language, the calendar feed (.ics) per site and
locale, and the printable weekly poster.
Public pages under /<lang>/programme, light like info's (its base template, cacheable for
visitors, no script needed); they answer as info's pages do (`info.pages`)."""

from datetime import timedelta

from flask import abort, current_app, request, session, url_for

from ..access import public
from ..i18n import CONTENT_LOCALES
from ..info.pages import mark_cacheable, not_found, public_page, qr_svg, wrong_locale
from ..info.queries import find_site, public_organisation, public_sites
from ..models import Site
from ..workdays import local_today
from . import bp
from .feed import calendar
from .queries import pictogram
from .weekly import (
    FEED_WEEKS,
    Programme,
    change_note,
    coming_weeks,
    languages_note,
    monday_of,
    next_sessions,
    one_week,
    programmes,
)

# A poster keeps to one A4 page by its type: from 12 sessions a week two columns, from 24
# smaller type still (static/css/app.css, "The poster"; tests/e2e prints them).
POSTER_DENSE = 12
POSTER_CROWDED = 24


def poster_density(sessions: int) -> str:
    if sessions >= POSTER_CROWDED:
        return "is-crowded"
    return "is-dense" if sessions >= POSTER_DENSE else ""


def coming_at(site: Site, lang: str) -> Programme:
    """For a site's own public page (info/site.html): what is left of this week and next."""
    return coming_weeks([site], lang)[0]


# For the programme's templates, and info/site.html, which shows the site's coming week.
bp.add_app_template_global(pictogram, "activity_pictogram")
bp.add_app_template_global(change_note, "session_change_note")
bp.add_app_template_global(languages_note, "session_languages")
bp.add_app_template_global(coming_at, "programme_coming")


@bp.get("/<locale:lang>/programme")
@public
def public_index(lang: str):
    """Every open preschool with its next few sessions and a link to its whole programme:
    all sites' two weeks on one page weighed too much on a visitor's phone."""
    if lang not in CONTENT_LOCALES:
        return wrong_locale(lang, "programme.public_index")
    org = public_organisation()
    return public_page(
        "programme/public_index.html",
        lang=lang,
        org=org,
        programmes=next_sessions(public_sites(org), lang),
    )


@bp.get("/<locale:lang>/programme/<int:site_id>")
@public
def public_site(lang: str, site_id: int):
    """One open preschool's programme, with its calendar feed and poster."""
    if lang not in CONTENT_LOCALES:
        return wrong_locale(lang, "programme.public_site", site_id=site_id)
    site = find_site(site_id)
    if site is None:
        return not_found(lang)
    page_url = url_for("programme.public_site", lang=lang, site_id=site.id, _external=True)
    return public_page(
        "programme/public_site.html",
        lang=lang,
        org=site.organisation,
        site=site,
        programme=coming_weeks([site], lang)[0],
        feed_url=url_for("programme.feed", lang=lang, site_id=site.id, _external=True),
        # A kiosk's tablet is shared: the visitor takes the programme with her by its QR code.
        qr=qr_svg(page_url).decode() if session.get("kiosk") else None,
    )


@bp.get("/<locale:lang>/programme/<int:site_id>.ics")
@public
def feed(lang: str, site_id: int):
    """The calendar feed: from this week's Monday, eight weeks of sessions (RFC 5545). A
    feed has no page to redirect to, so an unknown locale is as unknown as a site: 404."""
    site = find_site(site_id) if lang in CONTENT_LOCALES else None
    if site is None:
        abort(404)
    first = monday_of(local_today())
    last = first + timedelta(weeks=FEED_WEEKS, days=-1)
    body = calendar(
        site,
        programmes([site], lang, first, last)[0],
        host=request.host.split(":")[0],
        page_url=url_for("programme.public_site", lang=lang, site_id=site.id, _external=True),
        first=first,
        last=last,
    )
    response = current_app.response_class(body, content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = f'inline; filename="programme-{site.id}-{lang}.ics"'
    return mark_cacheable(response)


@bp.get("/<locale:lang>/programme/<int:site_id>/poster")
@public
def poster(lang: str, site_id: int):
    """One A4 page for the wall: the whole week (this one, or the next with ?week=next), in
    large type with pictograms and a QR code to the site's programme."""
    upcoming = request.args.get("week") == "next"
    if lang not in CONTENT_LOCALES:
        next_week = {"week": "next"} if upcoming else {}
        return wrong_locale(lang, "programme.poster", site_id=site_id, **next_week)
    site = find_site(site_id)
    if site is None:
        return not_found(lang)
    monday = monday_of(local_today()) + timedelta(weeks=1 if upcoming else 0)
    programme = one_week(site, lang, monday)
    page_url = url_for("programme.public_site", lang=lang, site_id=site.id, _external=True)
    return public_page(
        "programme/public_poster.html",
        lang=lang,
        org=site.organisation,
        site=site,
        programme=programme,
        week=programme.weeks[0],
        density=poster_density(programme.weeks[0].size),
        page_url=page_url,
        qr=qr_svg(page_url).decode(),
    )
