"""Demo data for the statistics: half a year of past visits at the demo sites, so the
dashboard has something to show on a fresh `make run` (today is left to the visits area), some
of them met at an outreach place or come after outreach, and the people bridge builders
informed elsewhere, a few times a week."""

import random
from datetime import timedelta

from ..choices import OutreachPlace, PartOfDay, Topic
from ..extensions import db
from ..models import InformationContact, Organisation, Visit, VisitLanguage
from ..workdays import is_working_day, local_today
from . import summary

LANGUAGES = ("ar", "fa", "so", "ti", "uk", "ckb", "sv")


def seed_demo(org: Organisation) -> None:
    rng = random.Random(2026)  # noqa: S311 - the same demo every time, not a secret
    today = local_today()
    for site in org.sites:
        for back in range(1, 183):
            day = today - timedelta(days=back)
            if not is_working_day(day):
                continue
            if rng.random() < 0.4:
                db.session.add(
                    InformationContact(
                        site_id=site.id,
                        on_date=day,
                        place=rng.choice(list(OutreachPlace)).value,
                        people=rng.randint(1, 8),
                        languages=rng.sample(LANGUAGES, 1),
                    )
                )
            for _ in range(rng.randint(0, 6)):
                is_new = rng.random() < 0.25
                visit = Visit(
                    site_id=site.id,
                    visit_date=day,
                    part_of_day=rng.choice(list(PartOfDay)).value,
                    women=rng.choice((1, 1, 1, 2)),
                    men=rng.choice((0, 0, 0, 1)),
                    children_0_1=rng.randint(0, 1),
                    children_1_3=rng.randint(0, 2),
                    children_3_6=rng.randint(0, 1),
                    is_new=is_new,
                    after_outreach=is_new and rng.random() < 0.3,
                    outreach_place=(
                        rng.choice(list(OutreachPlace)).value if rng.random() < 0.05 else None
                    ),
                    topics=sum(t.value for t in Topic if rng.random() < 0.2),
                )
                visit.languages = [
                    VisitLanguage(code=code, site_id=site.id, visit_date=day)
                    for code in rng.sample(LANGUAGES, rng.choice((1, 1, 2)))
                ]
                db.session.add(visit)
    db.session.flush()
    # Inserted past the write path: recompute the daily summaries the dashboard reads.
    summary.rebuild(db.session)
