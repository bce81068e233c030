"""Sample data of the admin area for `flask seed-demo`: the audit trail, and what visitors see
of the sites and services here (addresses, phones, opening hours, where to apply).

Addresses are in a town that does not exist (Demostad, postcodes 123 xx) and every phone
number is from the ranges PTS keeps for fiction (08-465 004 00 to 08-465 004 99), so no
demo page sends anyone to a real door or a real person's phone. Links to apply go to the
reserved domain demo-kommun.example."""

from sqlalchemy import select

from .. import audit
from ..choices import Role
from ..extensions import db
from ..models import Organisation, Service, Site, User

WEEKDAYS_9_TO_12 = [[day, "09:00", "12:00"] for day in range(1, 6)]

# Site name -> its address, phone, opening hours and the services held there.
DEMO_SITES = {
    "Öppna förskolan Norr": {
        "address": "Norrgatan 12, 123 45 Demostad",
        "phone": "08-465 004 10",
        "weekly_hours": [
            [1, "09:00", "12:00"],
            [1, "13:00", "16:00"],
            [2, "09:00", "12:00"],
            [3, "09:00", "12:00"],
            [3, "13:00", "16:00"],
            [4, "13:00", "16:00"],
            [5, "09:00", "12:00"],
        ],
        "services": ["sfi", "parenting"],
    },
    "Öppna förskolan Söder": {
        "address": "Södra torget 3, 123 52 Demostad",
        "phone": "08-465 004 20",
        "weekly_hours": [[1, "09:00", "15:00"], [2, "09:00", "15:00"], [4, "09:00", "15:00"]],
        "services": ["so", "guidance"],
    },
}

# Service slug -> where, when and how to apply in the demo municipality.
DEMO_SERVICES = {
    "sfi": {
        "address": "Lärdomsvägen 5, 123 47 Demostad",
        "phone": "08-465 004 30",
        "weekly_hours": [[d, "08:30", "16:00"] for d in range(1, 6)],
        "opening_hours": "Drop-in för frågor tisdagar 13–15.",
        "apply_url": "https://www.demo-kommun.example/sfi/ansok",
    },
    "so": {
        "address": "Lärdomsvägen 5, 123 47 Demostad",
        "phone": "08-465 004 31",
        "weekly_hours": WEEKDAYS_9_TO_12,
        "apply_url": "https://www.demo-kommun.example/samhallsorientering",
    },
    "forskola": {
        "address": "Kommunhuset, Stora torget 1, 123 40 Demostad",
        "phone": "08-465 004 40",
        "weekly_hours": [[d, "08:00", "16:30"] for d in range(1, 6)],
        "apply_url": "https://www.demo-kommun.example/forskola/ansok",
    },
    "employment": {
        "address": "Arbetets gata 9, 123 48 Demostad",
        "phone": "08-465 004 50",
        "weekly_hours": [[d, "10:00", "15:00"] for d in (1, 2, 3, 4)],
        "opening_hours": "Arbetsmarknadsenheten. Boka tid, eller kom på drop-in måndagar.",
        "apply_url": "https://www.demo-kommun.example/arbete/boka",
    },
    "guidance": {
        "address": "Lärdomsvägen 5, 123 47 Demostad",
        "phone": "08-465 004 60",
        "weekly_hours": [[2, "13:00", "16:00"], [4, "09:00", "12:00"]],
        "apply_url": "https://www.demo-kommun.example/vagledning/boka",
    },
    "parenting": {
        "address": "Familjecentralen, Norrgatan 12, 123 45 Demostad",
        "phone": "08-465 004 70",
        "weekly_hours": [[3, "17:30", "19:30"]],
        "opening_hours": "Kurs i sex träffar. Nästa start i mars.",
        "apply_url": "https://www.demo-kommun.example/foraldraskap/anmalan",
    },
}


def seed_demo_security(org: Organisation) -> None:
    """Demo data for the security area: an audit trail worth filtering from the first run."""
    admin = db.session.scalar(
        select(User).where(User.organisation_id == org.id, User.role == Role.ADMIN)
    )
    for user in db.session.scalars(select(User).where(User.organisation_id == org.id)):
        audit.record("user_created", "user", user.id, user=admin, role=user.role)
    audit.record("settings_updated", "organisation", org.id, user=admin, changed=[])


def seed_demo_local_details(org: Organisation) -> None:
    """Fill in what visitors see of the demo sites and services (after the services exist)."""
    services = {
        s.slug: s
        for s in db.session.scalars(select(Service).where(Service.organisation_id == org.id))
    }
    for site in db.session.scalars(select(Site).where(Site.organisation_id == org.id)):
        details = DEMO_SITES.get(site.name)
        if details is None:
            continue
        site.address, site.phone = details["address"], details["phone"]
        site.weekly_hours = details["weekly_hours"]
        site.services = [services[slug] for slug in details["services"] if slug in services]
    for slug, details in DEMO_SERVICES.items():
        if service := services.get(slug):
            for name, value in details.items():
                setattr(service, name, value)
