"""Reads of the public pages: which organisation a visitor sees, which text of a service
(the visitor's language, else Swedish) in one query, and the organisation's open preschools
(sites) with the services held at each."""

from flask import current_app, session
from sqlalchemy import select

from ..extensions import db
from ..i18n import fallback_locales
from ..models import Organisation, Service, ServiceTranslation, Site, site_services


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
    """The whole text to show per service (one query), chosen by the rule that names services
    everywhere (`i18n.fallback_locales`): the visitor's locale, else Swedish. A service with
    neither has no text to show and is left out."""
    if not service_ids:
        return {}
    order = fallback_locales(lang)
    rows = db.session.scalars(
        select(ServiceTranslation).where(
            ServiceTranslation.service_id.in_(service_ids), ServiceTranslation.locale.in_(order)
        )
    )
    chosen: dict[int, ServiceTranslation] = {}
    for row in sorted(rows, key=lambda r: order.index(r.locale), reverse=True):
        chosen[row.service_id] = row  # the preferred locale comes last and wins
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


def public_sites(org: Organisation | None) -> list[Site]:
    """The organisation's active open preschools, by name."""
    if org is None:
        return []
    return list(
        db.session.scalars(
            select(Site).where(Site.organisation_id == org.id, Site.is_active).order_by(Site.name)
        )
    )


def find_site(site_id: int) -> Site | None:
    """An active site of the organisation visitors see, or None (another organisation's
    site is as unknown here as a missing one)."""
    org = public_organisation()
    if org is None:
        return None
    return db.session.scalar(
        select(Site).where(Site.id == site_id, Site.organisation_id == org.id, Site.is_active)
    )


def offered_services(site: Site) -> list[Service]:
    """The active services held at `site`, in the catalogue's order."""
    return [s for s in site.services if s.is_active]


def sites_offering(service: Service) -> list[Site]:
    """The active sites where `service` is held, by name."""
    return list(
        db.session.scalars(
            select(Site)
            .join(site_services, site_services.c.site_id == Site.id)
            .where(site_services.c.service_id == service.id, Site.is_active)
            .order_by(Site.name)
        )
    )
