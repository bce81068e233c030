"""Sample visits for `flask seed-demo`: a few weeks of plausible visits at every site."""

import random
from datetime import date, timedelta

from sqlalchemy import select

from ..choices import PartOfDay, Topic
from ..extensions import db
from ..models import Organisation, Site, User, Visit, VisitLanguage, site_memberships
from ..stats import summary
from ..workdays import is_working_day, local_today
from .queries import local_day_start_utc

_DEMO_LANGUAGES = ("ar", "ar", "ar", "so", "so", "ti", "prs", "fa", "uk", "ckb", "en", "sv")


def seed_demo_visits(org: Organisation, weeks: int = 4) -> None:
    """A few weeks of plausible visits at every site of `org` (working days only)."""
    today = local_today()
    for site in org.sites:
        rng = random.Random(f"{org.slug}-{site.name}")  # noqa: S311 (demo data, not secrets)
        recorder = db.session.scalar(
            select(User.id)
            .join(site_memberships, site_memberships.c.user_id == User.id)
            .where(site_memberships.c.site_id == site.id)
            .order_by(User.id)
            .limit(1)
        )
        for back in range(weeks * 7, -1, -1):
            day = today - timedelta(days=back)
            if is_working_day(day):
                for _n in range(rng.randint(5, 14)):
                    db.session.add(_demo_visit(rng, site, day, recorder))
    # Inserted past the write path: recompute the statistics' daily summaries.
    summary.rebuild(db.session)


def _demo_visit(rng: random.Random, site: Site, day: date, recorder: int | None) -> Visit:
    visit = Visit(
        site_id=site.id,
        visit_date=day,
        part_of_day=rng.choice(list(PartOfDay)).value,
        women=rng.choice((1, 1, 1, 1, 2)),
        men=rng.choice((0, 0, 0, 1)),
        other_adults=0,
        children_0_1=rng.choice((0, 0, 1)),
        children_1_3=rng.choice((0, 1, 1, 2)),
        children_3_6=rng.choice((0, 0, 1)),
        is_new=rng.random() < 0.25,
        topics=sum(t.value for t in Topic if rng.random() < 0.12),
        recorded_by_id=recorder,
        created_at=local_day_start_utc(day) + timedelta(hours=rng.randint(8, 15)),
    )
    for code in sorted(set(rng.sample(_DEMO_LANGUAGES, rng.choice((1, 1, 1, 2))))):
        visit.languages.append(VisitLanguage(code=code, site_id=site.id, visit_date=day))
    return visit
