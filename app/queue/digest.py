"""`flask send-digests`: a daily e-mail to each coordinator with the number of new and overdue
referrals per service they cover, in the coordinator's language. Counts only, never a name,
phone number or anything else about a visitor. Coordinators with nothing new or overdue get
no mail. Sent over plain SMTP (`SMTP_HOST`, `SMTP_PORT`, `SMTP_FROM`) with the standard library.
"""

from __future__ import annotations

import smtplib
from collections import defaultdict
from email.message import EmailMessage

from flask import current_app, url_for
from flask_babel import force_locale, format_date, ngettext
from flask_babel import gettext as _
from sqlalchemy import select

from ..choices import Role
from ..extensions import db
from ..i18n import best_match
from ..models import Service, User, service_coordinators
from ..names import service_names
from ..workdays import local_today
from .queries import ServiceCounts, service_overview


def coordinators_with_services() -> list[tuple[User, list[Service]]]:
    """Enabled coordinators and the active services they cover, in one query."""
    pairs = db.session.execute(
        select(User, Service)
        .join(service_coordinators, service_coordinators.c.user_id == User.id)
        .join(Service, Service.id == service_coordinators.c.service_id)
        .where(User.is_enabled, User.role == Role.COORDINATOR, Service.is_active)
        .order_by(User.id, Service.sort_order, Service.slug)
    )
    grouped: dict[int, tuple[User, list[Service]]] = {}
    for user, service in pairs:
        grouped.setdefault(user.id, (user, []))[1].append(service)
    return list(grouped.values())


def queue_link() -> str | None:
    if not current_app.config.get("SERVER_NAME"):
        return None
    return url_for("queue.index", _external=True)


def build_message(
    user: User, services: list[Service], counts: dict[int, ServiceCounts]
) -> EmailMessage | None:
    """The digest for one coordinator in their locale, or None when there is nothing to do."""
    if not any(counts[s.id].new or counts[s.id].overdue for s in services):
        return None
    locale = best_match(user.locale)
    with force_locale(locale):
        names = service_names([s.id for s in services], locale)
        today = format_date(local_today(), "long")
        lines = [_("Läget i dina köer %(date)s:", date=today), ""]
        for service in services:
            c = counts[service.id]
            # Each count agrees with its own number ("1 ny", "2 nya"), so each is a plural
            # message of its own, the same as on the queue page; the line only joins them.
            lines.append(
                _(
                    "%(service)s: %(new)s, %(overdue)s",
                    service=names[service.id],
                    new=ngettext("%(num)s ny", "%(num)s nya", c.new),
                    overdue=ngettext("%(num)s försenad", "%(num)s försenade", c.overdue),
                )
            )
        if link := queue_link():
            lines += ["", _("Öppna köerna: %(url)s", url=link)]
        lines += ["", _("Meddelandet innehåller inga personuppgifter.")]
        message = EmailMessage()
        message["Subject"] = _("Bro: dina köer %(date)s", date=today)
        message["From"] = current_app.config["SMTP_FROM"]
        message["To"] = user.email
        message.set_content("\n".join(lines))
    return message


def send_digests() -> int:
    """Send every due digest over one SMTP connection; returns how many were sent."""
    groups = coordinators_with_services()
    service_ids = sorted({s.id for _, services in groups for s in services})
    counts: dict[int, ServiceCounts] = defaultdict(ServiceCounts)
    counts.update(service_overview(service_ids, local_today()))
    messages = [m for user, services in groups if (m := build_message(user, services, counts))]
    if not messages:
        return 0
    config = current_app.config
    with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=30) as smtp:
        for message in messages:
            smtp.send_message(message)
    return len(messages)
