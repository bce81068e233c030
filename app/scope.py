"""Site scoping: the one place that says which rows a user may see.

Every view of site-owned data starts from these helpers. A record outside the user's scope is
answered with 404, exactly like one that does not exist.
"""

from flask import abort
from sqlalchemy import Select, select

from .choices import Role
from .extensions import db
from .models import (
    Consent,
    Referral,
    Service,
    Site,
    User,
    service_coordinators,
    site_memberships,
)


def sites_query(user: User) -> Select:
    """Sites the user works at; an admin sees every site of their organisation."""
    query = select(Site).where(Site.organisation_id == user.organisation_id, Site.is_active)
    if user.role != Role.ADMIN:
        query = query.join(site_memberships, site_memberships.c.site_id == Site.id).where(
            site_memberships.c.user_id == user.id
        )
    return query.order_by(Site.name)


def site_ids(user: User) -> Select:
    return sites_query(user).with_only_columns(Site.id)


def site_for_user(user: User, site_id: int) -> Site:
    site = db.session.scalar(sites_query(user).where(Site.id == site_id))
    if site is None:
        abort(404)
    return site


def services_query(user: User) -> Select:
    """Active services of the user's organisation."""
    return (
        select(Service)
        .where(Service.organisation_id == user.organisation_id, Service.is_active)
        .order_by(Service.sort_order, Service.slug)
    )


def service_for_user(user: User, service_id: int) -> Service:
    service = db.session.scalar(services_query(user).where(Service.id == service_id))
    if service is None:
        abort(404)
    return service


def consents_query(user: User) -> Select:
    """Consents the user may act on (receipt, register extract, withdrawal): staff those of
    their own sites; a coordinator those with a referral to a service they coordinate; an
    admin every consent of their organisation."""
    query = select(Consent).where(Consent.organisation_id == user.organisation_id)
    if user.role == Role.STAFF:
        query = query.where(Consent.site_id.in_(site_ids(user)))
    elif user.role == Role.COORDINATOR:
        coordinated = (
            select(Referral.consent_id)
            .join(service_coordinators, service_coordinators.c.service_id == Referral.service_id)
            .where(service_coordinators.c.user_id == user.id)
        )
        query = query.where(Consent.id.in_(coordinated))
    return query


def consent_for_user(user: User, consent_id: int) -> Consent:
    consent = db.session.scalar(consents_query(user).where(Consent.id == consent_id))
    if consent is None:
        abort(404)
    return consent
