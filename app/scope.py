"""Site scoping: the one place that says which rows a user may see.

Every view of site-owned data starts from these helpers. A record outside the user's scope is
answered with 404, exactly like one that does not exist.
"""

from typing import Any, TypeVar

from flask import abort
from sqlalchemy import Select, select

from .choices import Role
from .extensions import db
from .models import (
    Consent,
    Partner,
    Referral,
    Service,
    Site,
    User,
    partner_services,
    service_coordinators,
    site_memberships,
)

M = TypeVar("M")


def one_or_404(query: Select) -> Any:
    """The one row `query` finds, or 404: a row outside the user's scope is answered exactly
    like one that does not exist."""
    found = db.session.scalar(query)
    if found is None:
        abort(404)
    return found


def org_query(user: User, model: type[M]) -> Select:
    """Every row of `model` (Site, User, Service, ConsentText, AuditEvent...) in the user's
    organisation, active or not: what the admin screens list and act on."""
    return select(model).where(model.organisation_id == user.organisation_id)


def org_object_or_404(user: User, model: type[M], object_id: int) -> M:
    """One row of `model` in the user's organisation, or 404."""
    return one_or_404(org_query(user, model).where(model.id == object_id))


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
    return one_or_404(sites_query(user).where(Site.id == site_id))


def services_query(user: User) -> Select:
    """Active services of the user's organisation."""
    return (
        select(Service)
        .where(Service.organisation_id == user.organisation_id, Service.is_active)
        .order_by(Service.sort_order, Service.slug)
    )


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
    return one_or_404(consents_query(user).where(Consent.id == consent_id))


def partner_referrals_query(user: User) -> Select:
    """Referrals a partner user may see: to a service their (active) partner organisation
    receives, in their organisation, whose consent covers disclosure to the receiving service
    and is neither withdrawn nor erased. Nobody else's, and nothing of a visit."""
    received = (
        select(partner_services.c.service_id)
        .join(Partner, Partner.id == partner_services.c.partner_id)
        .where(Partner.id == user.partner_id, Partner.is_active)
    )
    return (
        select(Referral)
        .join(Consent, Consent.id == Referral.consent_id)
        .where(
            Referral.organisation_id == user.organisation_id,
            Referral.service_id.in_(received),
            Consent.disclosure_agreed,
            Consent.withdrawn_at.is_(None),
            Consent.erased_at.is_(None),
        )
    )


def partner_referral_for_user(user: User, referral_id: int) -> Referral:
    """One referral a partner user may see, or 404."""
    return one_or_404(partner_referrals_query(user).where(Referral.id == referral_id))
