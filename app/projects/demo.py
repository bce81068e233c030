"""Sample projects for `flask seed-demo` (area: projects): two invented funded efforts with
their sites, services, activities and targets, so the project report has something to
compare. The periods count from today, so the demo reads the same in any year."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..choices import ActivityKind, Funder, Gender, Indicator
from ..extensions import db
from ..models import Activity, Organisation, Project, ProjectTarget, Service
from ..workdays import local_today

W, M = Gender.WOMAN.value, Gender.MAN.value

# (indicator, gender, service slug, target) for a three-year county-funded effort at two
# open preschools: "30 % go on to work or studies", "20 work placements (10 women, 10 men)".
ROAD_TO_WORK = [
    (Indicator.WOMEN_REACHED, None, None, 300),
    (Indicator.VISITS, None, None, 2400),
    (Indicator.SESSIONS_HELD, None, None, 400),
    (Indicator.PARTICIPANTS, None, None, 120),
    (Indicator.PARTICIPANTS, W, None, 100),
    (Indicator.PARTICIPANTS, M, None, 20),
    (Indicator.REFERRALS, None, None, 150),
    (Indicator.REFERRALS, None, "sfi", 60),
    (Indicator.REFERRALS, None, "employment", 40),
    (Indicator.STARTED, None, None, 60),
    (Indicator.STARTED, W, None, 50),
    (Indicator.STARTED, None, "sfi", 25),
    (Indicator.WORK_OR_STUDIES, None, None, 36),
    (Indicator.WORK_OR_STUDIES, W, None, 30),
    (Indicator.WORK_OR_STUDIES, M, None, 6),
    (Indicator.WORK_PLACEMENTS, None, None, 20),
    (Indicator.WORK_PLACEMENTS, W, None, 10),
    (Indicator.WORK_PLACEMENTS, M, None, 10),
    (Indicator.CONVERSATIONS, None, None, 200),
]
# A two-year SKR agreement on parenting support at one open preschool.
PARENTS = [
    (Indicator.WOMEN_REACHED, None, None, 120),
    (Indicator.VISITS, None, None, 900),
    (Indicator.SESSIONS_HELD, None, None, 80),
    (Indicator.PARTICIPANTS, None, None, 60),
    (Indicator.PARTICIPANTS, W, None, 50),
    (Indicator.PARTICIPANTS, M, None, 10),
    (Indicator.REFERRALS, None, None, 40),
    (Indicator.REFERRALS, None, "parenting", 25),
    (Indicator.STARTED, None, None, 20),
    (Indicator.STARTED, None, "forskola", 10),
    (Indicator.WORK_OR_STUDIES, None, None, 10),
    (Indicator.CONVERSATIONS, None, None, 60),
]


def seed_demo_projects(org: Organisation) -> list[Project]:
    """ "Vägen till arbete" (Länsstyrelsen §37a: every demo site, SFI, civic orientation,
    employment and guidance, from the first of January last year to the end of next year)
    and "Föräldrar i Sverige" (SKR agreement: the first site, preschool and parenting, two
    years from last August). Run after the services and the programme's activities."""
    today = local_today()
    services = dict(
        db.session.execute(
            select(Service.slug, Service).where(Service.organisation_id == org.id)
        ).all()
    )
    activities = list(
        db.session.scalars(
            select(Activity).where(Activity.organisation_id == org.id).order_by(Activity.id)
        )
    )
    sites = list(org.sites)
    if not sites:
        return []
    road_start, road_end = date(today.year - 1, 1, 1), date(today.year + 1, 12, 31)
    parents_start = date(today.year - 1, 8, 1)
    parents_end = date(today.year + 1, 7, 31)
    projects = [
        _project(
            org,
            f"Vägen till arbete {road_start.year}–{road_end.year}",
            Funder.LANSSTYRELSEN_37A,
            (road_start, road_end),
            sites,
            [services[s] for s in ("sfi", "so", "employment", "guidance") if s in services],
            [
                a
                for a in activities
                if a.kind
                in (ActivityKind.SFI, ActivityKind.LANGUAGE_CAFE, ActivityKind.INFORMATION_MEETING)
            ],
            ROAD_TO_WORK,
            services,
        ),
        _project(
            org,
            "Föräldrar i Sverige",
            Funder.SKR,
            (parents_start, parents_end),
            sites[:1],
            [services[s] for s in ("parenting", "forskola") if s in services],
            [
                a
                for a in activities
                if a.kind == ActivityKind.PARENTING_GROUP and a.site_id == sites[0].id
            ],
            PARENTS,
            services,
        ),
    ]
    db.session.add_all(projects)
    db.session.flush()
    return projects


def _project(org, name, funder, period, sites, services, activities, targets, by_slug):
    starts_on, ends_on = period
    project = Project(
        organisation_id=org.id,
        name=name,
        funder=funder.value,
        starts_on=starts_on,
        ends_on=ends_on,
        sites=list(sites),
        services=list(services),
        activities=list(activities),
    )
    project.targets = [
        ProjectTarget(
            indicator=indicator.value,
            gender=gender,
            service_id=by_slug[slug].id if slug else None,
            target=number,
        )
        for indicator, gender, slug, number in targets
        if slug is None or slug in by_slug
    ]
    return project
