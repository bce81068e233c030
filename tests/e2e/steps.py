"""Steps and database look-ups the journeys share: the demo's sites and services by name,
referrals made through the privacy layer (for scenarios that start after the staff's part),
and a user's language preference set for one test."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.choices import ConsentTextStatus
from app.extensions import db
from app.models import ConsentText, Service, Site, User
from tests.e2e.helpers import LiveServer
from tests.factories import Factory

NORTH = "Öppna förskolan Norr"


def site_id(live_server: LiveServer, name: str = NORTH) -> int:
    with live_server.app.app_context():
        return db.session.scalar(select(Site.id).where(Site.name == name))


def service_ids(live_server: LiveServer, *slugs: str) -> list[int]:
    with live_server.app.app_context():
        ids = dict(db.session.execute(select(Service.slug, Service.id)).all())
    return [ids[slug] for slug in slugs]


@dataclass(frozen=True)
class Made:
    consent_id: int
    reference_code: str
    referral_ids: list[int]


def make_referral(
    live_server: LiveServer,
    *slugs: str,
    first_name: str,
    phone: str,
    language: str = "ar",
    by: str = "brobyggare@demo.test",
) -> Made:
    """A visitor's consent and one referral per service, as the staff's flow stores them."""
    with live_server.app.app_context():
        staff = db.session.scalar(select(User).where(User.email == by))
        site = db.session.scalar(select(Site).where(Site.name == NORTH))
        services = list(db.session.scalars(select(Service).where(Service.slug.in_(slugs))))
        text = db.session.scalar(
            select(ConsentText).where(
                ConsentText.locale == language, ConsentText.status == ConsentTextStatus.PUBLISHED
            )
        )
        consent = Factory(db.session).referral_consent(
            site, services, staff, first_name, phone, language, consent_text=text
        )
        made = Made(consent.id, consent.reference_code, [r.id for r in consent.referrals])
        db.session.remove()
    return made


@contextmanager
def preferred_language(live_server: LiveServer, email: str, code: str):
    """Signed-in pages follow the user's stored preference; set it for one block, then put
    Swedish back even if the block fails, so other tests see the demo's language."""
    with live_server.app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        user.locale = code
        db.session.commit()
    try:
        yield
    finally:
        with live_server.app.app_context():
            user = db.session.scalar(select(User).where(User.email == email))
            user.locale = "sv"
            db.session.commit()


def open_actions(page: Page, referral_id: int):
    """The row of a referral with its action forms open. In a queue list the row has an
    "Åtgärder" link: htmx swaps in the row with its forms, and without JavaScript the link
    opens the referral's page with them. A referral's page has a <details> instead."""
    row = page.locator(f"#referral-{referral_id}")
    link = row.locator("a.queue-actions")
    if link.count():
        link.click()
        row = page.locator(f"#referral-{referral_id}")
    details = row.locator("details.queue-actions")
    if details.get_attribute("open") is None:
        row.locator("summary").click()
    expect(details).to_have_attribute("open", "")
    return row
