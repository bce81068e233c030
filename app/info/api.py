"""The public catalogue as the HSDS 3.0 API serves it, read-only, for regional and national
directories to harvest (issue 22):

- `GET /api/hsds/services?page=1&per_page=50&locale=sv`: the active services of the public
  organisation (the one the public pages show), a page at a time, in the HSDS API's list
  shape (total_items, total_pages, page_number, size, first_page, last_page, empty, contents);
- `GET /api/hsds/services/<uuid>`: one of them.

Each service is the export's HSDS record (app.info.catalogue.service_record) with its texts in
`locale` where it has them, else in Swedish, as on the public pages; `x_bro_locale` says which,
and `x_bro_page_url` links the public page. No texts of other locales, no inactive service,
nothing of another organisation. Bad query values are a 400 and an unknown or malformed UUID
a 404, each with a JSON body. Answers are cacheable (five minutes, with an ETag) and the
routes rate-limited per address.
"""

from flask import jsonify, request, url_for
from sqlalchemy import exists, func, select

from ..access import public
from ..extensions import db, limiter
from ..i18n import CONTENT_LOCALES, DEFAULT_LOCALE, fallback_locales
from ..models import Service, ServiceTranslation
from ..request_input import parse_id
from . import bp
from .catalogue import service_record
from .pages import mark_cacheable
from .queries import public_organisation, translations_for

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100
# Generous for a harvester walking every page and locale, low enough to stop a flood.
RATE_LIMIT = "120 per minute"


def _error(status: int, message: str):
    return jsonify({"error": message}), status


def _locale() -> str | None:
    locale = request.args.get("locale", DEFAULT_LOCALE)
    return locale if locale in CONTENT_LOCALES else None


def _shown(org_id: int, lang: str):
    """The services a visitor sees: active, of the organisation, with a text to show."""
    has_text = exists().where(
        ServiceTranslation.service_id == Service.id,
        ServiceTranslation.locale.in_(fallback_locales(lang)),
    )
    return select(Service).where(Service.organisation_id == org_id, Service.is_active, has_text)


def _record(service: Service, text: ServiceTranslation, lang: str) -> dict:
    record = service_record(service, text)
    record["x_bro_locale"] = text.locale
    record["x_bro_page_url"] = url_for("info.service", lang=lang, slug=service.slug, _external=True)
    return record


def _json(payload: dict):
    response = jsonify(payload)
    response.headers["Access-Control-Allow-Origin"] = "*"  # public data, read-only
    response.add_etag()
    return mark_cacheable(response).make_conditional(request)


@bp.get("/api/hsds/services")
@public
@limiter.limit(RATE_LIMIT)
def api_services():
    lang = _locale()
    page = parse_id(request.args.get("page", "1"))
    per_page = parse_id(request.args.get("per_page", str(DEFAULT_PER_PAGE)))
    if lang is None:
        return _error(400, "locale: one of " + ", ".join(CONTENT_LOCALES))
    if page is None:
        return _error(400, "page: a whole number from 1")
    if per_page is None or per_page > MAX_PER_PAGE:
        return _error(400, f"per_page: a whole number from 1 to {MAX_PER_PAGE}")
    org = public_organisation()
    services: list[Service] = []
    total = 0
    if org is not None:
        query = _shown(org.id, lang)
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
        services = list(
            db.session.scalars(
                query.order_by(Service.sort_order, Service.slug)
                .limit(per_page)
                .offset((page - 1) * per_page)
            )
        )
    texts = translations_for([s.id for s in services], lang)
    total_pages = max(1, -(-total // per_page))
    return _json(
        {
            "total_items": total,
            "total_pages": total_pages,
            "page_number": page,
            "size": len(services),
            "first_page": page == 1,
            "last_page": page >= total_pages,
            "empty": not services,
            "contents": [_record(s, texts[s.id], lang) for s in services],
        }
    )


@bp.get("/api/hsds/services/<uuid:service_uuid>")
@public
@limiter.limit(RATE_LIMIT)
def api_service(service_uuid):
    lang = _locale()
    if lang is None:
        return _error(400, "locale: one of " + ", ".join(CONTENT_LOCALES))
    org = public_organisation()
    service = (
        db.session.scalar(_shown(org.id, lang).where(Service.uuid == str(service_uuid)))
        if org is not None
        else None
    )
    if service is None:
        return _error(404, "no such service")
    text = translations_for([service.id], lang)[service.id]
    return _json(_record(service, text, lang))
