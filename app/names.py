"""What a service is called in the reader's language: one rule and one query for every page,
list and export that names a service.

The rule: the service's translation in the reader's locale, else the Swedish one
(`i18n.fallback_locales`; every service is created with a Swedish name), else its slug, so no
service is ever shown without a name.
"""

from collections.abc import Iterable

from sqlalchemy import ColumnElement, func, select

from . import swedish_terms
from .extensions import db
from .i18n import fallback_locales
from .models import Service, ServiceTranslation


def service_name_column(locale: str) -> ColumnElement[str]:
    """`Service`'s name in `locale` as a column of any query over `Service`: correlated lookups
    on the (service, locale) unique index, so a list is named in the same query that reads it."""
    candidates = [
        select(ServiceTranslation.name)
        .where(ServiceTranslation.service_id == Service.id, ServiceTranslation.locale == code)
        .scalar_subquery()
        for code in fallback_locales(locale)
    ]
    name = func.coalesce(*candidates, Service.slug)
    return swedish_terms.plain_column(name).label("name")  # no [[ ]] marks outside the texts


def service_names(service_ids: Iterable[int], locale: str) -> dict[int, str]:
    """Service id -> its name in `locale` for many services, in one query."""
    ids = set(service_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Service.id, service_name_column(locale)).where(Service.id.in_(ids))
    )
    return {service_id: name for service_id, name in rows}
