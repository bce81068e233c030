"""THE list of timed endpoints, in one place, and the ids from the data set they are built from.

Each entry is (name, method, who is signed in, URL builder, form builder, expected statuses,
share in the HTTP mix). An entry whose URL does not resolve in the app (its area is not merged
yet) or whose `requires` view is missing is left out of a run and listed as skipped, so adding
an endpoint is one line here.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from flask import Flask
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from app.choices import ConsentPurpose, ConsentTextStatus, ReferralStatus, Role
from app.extensions import db
from app.models import (
    ActivitySession,
    ConsentText,
    Organisation,
    Project,
    Referral,
    Service,
    User,
    project_sites,
    service_coordinators,
    site_memberships,
)
from app.workdays import local_today

from . import ORG_SLUG, PASSWORD


@dataclass
class Who:
    """One signed-in user (or an anonymous visitor) with the ids their URLs point at."""

    email: str | None = None
    site_id: int = 0
    service_id: int = 0
    referral_ids: list[int] = field(default_factory=list)
    service_slugs: list[str] = field(default_factory=list)
    year: int = date.today().year
    service_ids: list[int] = field(default_factory=list)  # of the organisation
    text_ids: dict[str, int] = field(default_factory=dict)  # published consent text by locale
    # Sessions at the user's site, today's first, then those held before (area: programme).
    session_ids: list[int] = field(default_factory=list)
    # The organisation's project with the most sites (area: projects).
    project_id: int = 0


@dataclass
class Fixture:
    """Users of each role with real ids from the generated data. Each concurrent client signs
    in as a different user: a sign-in rotates the user's session token, which ends any other
    session of the same user."""

    users: dict[str, list[Who]] = field(default_factory=dict)
    anonymous: Who = field(default_factory=Who)
    password: str = PASSWORD

    def who(self, role: str | None, index: int = 0) -> Who:
        if not role:
            return self.anonymous
        people = self.users[role]
        return people[index % len(people)]

    @classmethod
    def load(cls, app: Flask) -> Fixture:
        fx = cls()
        with app.app_context():
            s = db.session
            # The benchmark's organisation (a national data set holds 24 more).
            org_id = s.scalar(select(Organisation.id).where(Organisation.slug == ORG_SLUG))
            services = select(Service).where(Service.organisation_id == org_id)
            slugs = list(
                s.scalars(services.with_only_columns(Service.slug).order_by(Service.sort_order))
            )
            org = {
                "service_ids": list(
                    s.scalars(services.with_only_columns(Service.id).order_by(Service.sort_order))
                ),
                "text_ids": dict(
                    s.execute(
                        select(ConsentText.locale, ConsentText.id).where(
                            ConsentText.organisation_id == org_id,
                            ConsentText.status == ConsentTextStatus.PUBLISHED,
                            ConsentText.purpose == ConsentPurpose.REFERRAL,
                        )
                    ).all()
                ),
                "project_id": s.scalar(
                    select(project_sites.c.project_id)
                    .join(Project, Project.id == project_sites.c.project_id)
                    .where(Project.organisation_id == org_id)
                    .group_by(project_sites.c.project_id)
                    .order_by(func.count().desc(), project_sites.c.project_id)
                    .limit(1)
                )
                or 0,
            }
            fx.anonymous = Who(service_slugs=slugs)
            for role in Role:
                fx.users[role] = [
                    Who(**{**_who(user_id, email, slugs).__dict__, **org})
                    for user_id, email in s.execute(
                        select(User.id, User.email)
                        .where(User.organisation_id == org_id, User.role == role)
                        .order_by(User.id)
                    )
                ]
            db.session.remove()
        return fx


def _who(user_id: int, email: str, slugs: list[str]) -> Who:
    s = db.session
    site_id = s.scalar(
        select(site_memberships.c.site_id)
        .where(site_memberships.c.user_id == user_id)
        .order_by(site_memberships.c.site_id)
    )
    service_id = s.scalar(
        select(service_coordinators.c.service_id)
        .where(service_coordinators.c.user_id == user_id)
        .order_by(service_coordinators.c.service_id)
    )
    # Open referrals this user may open: at one of their sites, in their service.
    referral_ids = (
        list(
            s.scalars(
                select(Referral.id)
                .join(site_memberships, site_memberships.c.site_id == Referral.site_id)
                .where(
                    site_memberships.c.user_id == user_id,
                    Referral.service_id == service_id,
                    Referral.status != ReferralStatus.CLOSED,
                )
                .order_by(Referral.id.desc())
                .limit(200)
            )
        )
        if service_id
        else []
    )
    session_ids = list(
        s.scalars(
            select(ActivitySession.id)
            .where(ActivitySession.site_id == site_id, ActivitySession.on_date <= local_today())
            .order_by(ActivitySession.on_date.desc(), ActivitySession.start_time)
            .limit(100)
        )
    )
    return Who(email, site_id or 0, service_id or 0, referral_ids, slugs, session_ids=session_ids)


Builder = Callable[[Who, int], str]
FormBuilder = Callable[[Who, int], dict]


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    role: str | None  # None: an anonymous visitor
    url: Builder
    data: FormBuilder | None = None
    expect: tuple[int, ...] = (200,)
    weight: int = 1  # share of the HTTP mix
    requires: str | None = None  # a view that must exist (for URLs another rule could match)
    measures_weight: bool = False  # its compressed size is `page_weight_gz_bytes`
    # In-process only: run before each timed request, outside the clock (weight 0 keeps such
    # an endpoint out of the HTTP mix).
    prepare: Callable[[Flask], None] | None = None
    # A POST that reads (a download): the floor (bench/floor.py) answers it with no work, as a
    # GET page, instead of sending it to the real app as a write.
    reads: bool = False

    @property
    def page_work(self) -> bool:
        """What the floor replaces with a view that does no work: every read."""
        return self.method == "GET" or self.reads


def signed_in_client(app: Flask, fx: Fixture, endpoint: Endpoint):
    """A test client signed in through the real login form as the endpoint's role (none for
    a visitor's endpoint), and the person it acts as."""
    client = app.test_client()
    who = fx.who(endpoint.role)
    if endpoint.role:
        reply = client.post("/login", data={"email": who.email, "password": fx.password})
        if reply.status_code != 303:
            raise SystemExit(f"{endpoint.name}: signing in as {endpoint.role} failed")
    return client, who


def visit_form(fx: Who, n: int) -> dict:
    return {
        "form_key": secrets.token_urlsafe(24),
        "visit_date": local_today().isoformat(),
        "part_of_day": "morning" if n % 3 else "afternoon",
        "women": 1,
        "men": 0,
        "other_adults": 0,
        "children_0_1": 0,
        "children_1_3": 1,
        "children_3_6": 0,
        "languages": ["ar"] if n % 2 else ["so", "sv"],
        "topics": ["sfi"] if n % 4 else [],
        "is_new": "new" if n % 5 == 0 else "returning",
    }


def referral_form(who: Who, n: int) -> dict:
    """A consented referral to two services, as the three steps of the flow post it last;
    the contact details are obviously fake (a number from PTS's range for fiction)."""
    lang = ("ar", "so", "ti", "fa", "uk")[n % 5]
    first, second = n % len(who.service_ids), (n + 1) % len(who.service_ids)
    return {
        "form_key": secrets.token_urlsafe(24),
        "service_id": [who.service_ids[first], who.service_ids[second]],
        "text_id": who.text_ids[lang],
        "visitor_lang": lang,
        "method": "tablet",
        "agree_processing": "y",
        "agree_disclosure": "y",
        "first_name": f"Testperson {n % 1000}",
        "phone": f"+467017406{5 + n % 95:02d}",
        "contact_language": lang,
        "best_time": "any",
    }


def _referral(fx: Who, n: int) -> int:
    return fx.referral_ids[n % len(fx.referral_ids)] if fx.referral_ids else 0


def _session(fx: Who, n: int) -> int:
    return fx.session_ids[n % len(fx.session_ids)] if fx.session_ids else 0


ENDPOINTS: list[Endpoint] = [
    # The areas' pages named in issue 10 (they join a run as soon as their views are merged).
    # `dashboard_year` repeats one view, so its referral figures come from the cache that a
    # referral change empties (app.stats.cache); `dashboard_year_first_view` empties it first.
    Endpoint(
        "visit_create",
        "POST",
        Role.STAFF,
        lambda fx, n: f"/sites/{fx.site_id}/visits",
        visit_form,
        expect=(303,),
        weight=3,
        requires="visits.create",
    ),
    Endpoint(
        "today",
        "GET",
        Role.STAFF,
        lambda fx, n: f"/sites/{fx.site_id}/today",
        weight=4,
        requires="visits.today",
    ),
    Endpoint(
        "queue",
        "GET",
        Role.COORDINATOR,
        lambda fx, n: f"/queue/services/{fx.service_id}?status=new",
        weight=3,
        requires="queue.index",
    ),
    Endpoint(
        "referral_detail",
        "GET",
        Role.COORDINATOR,
        lambda fx, n: f"/queue/referrals/{_referral(fx, n)}",
        weight=2,
        requires="queue.index",
    ),
    Endpoint(
        "dashboard_year",
        "GET",
        Role.ADMIN,
        lambda fx, n: "/stats/?period=year",
        requires="stats.dashboard",
    ),
    Endpoint(
        "dashboard_year_first_view",
        "GET",
        Role.ADMIN,
        lambda fx, n: "/stats/?period=year",
        weight=0,
        requires="stats.dashboard",
        prepare=lambda app: app.extensions.pop("stats_referral_cache", None),
    ),
    Endpoint(
        "export_csv_year",
        "POST",
        Role.ADMIN,
        lambda fx, n: "/stats/export.csv",
        lambda fx, n: {"period": "year"},
        requires="stats.dashboard",
        reads=True,  # a POST for its CSRF token; it writes one audit event
    ),
    Endpoint(
        "public_service_page",
        "GET",
        None,
        lambda fx, n: (
            f"/{('sv', 'ar', 'so', 'en')[n % 4]}/{fx.service_slugs[n % len(fx.service_slugs)]}"
        ),
        weight=4,
        measures_weight=True,
    ),
    # The programme (issue 19). `today` above lists the day's sessions at the top.
    Endpoint(
        "session_page",
        "GET",
        Role.STAFF,
        lambda fx, n: f"/programme/sessions/{_session(fx, n)}",
        weight=2,
        requires="programme.session",
    ),
    # The visitors' programme: every site's this week and next, in four languages.
    Endpoint(
        "public_programme",
        "GET",
        None,
        lambda fx, n: f"/{('sv', 'ar', 'so', 'en')[n % 4]}/programme",
        weight=2,
        requires="programme.public_index",
    ),
    # Issue 20: the report of the project with the most sites, actual against target over its
    # whole period (the generator's covers the three years). A report is read a few times a
    # year, so it stays out of the HTTP mix, which keeps the mix comparable to earlier runs.
    Endpoint(
        "project_report",
        "GET",
        Role.ADMIN,
        lambda fx, n: f"/stats/projects/{fx.project_id}",
        weight=0,
        requires="stats.project_report",
    ),
    # Foundation pages: always present, so the harness is proven end to end on any tree.
    Endpoint("login_page", "GET", None, lambda fx, n: "/login", weight=2),
    Endpoint("home_redirect", "GET", Role.ADMIN, lambda fx, n: "/", expect=(302,)),
    Endpoint("admin_index", "GET", Role.ADMIN, lambda fx, n: "/admin/"),
    Endpoint(
        "locale_switch",
        "POST",
        Role.STAFF,
        lambda fx, n: "/locale",
        lambda fx, n: {"locale": ("sv", "en")[n % 2], "next": "/login"},
        expect=(303,),
    ),
]


def landing(app: Flask, who: Who, role: str) -> str:
    """A page of `role` for `who` with a form on it (every full page has the language
    switcher's), to read the CSRF token from after signing in: the role's first page in the
    table, or, while its area is not in this tree, the error page a GET of the POST-only
    switcher answers."""
    fx = Fixture(users={r: [who] for r in Role}, anonymous=who)
    pages = [e for e in available(app, fx)[0] if e.role == role and e.method == "GET"]
    pages = [e for e in pages if 200 in e.expect]
    return pages[0].url(who, 0) if pages else "/locale"


def ordinals(roles: list) -> list[int]:
    """For each client, its number among the clients of the same role: client k of a role
    signs in as that role's k-th user, so no two clients share a user."""
    seen: dict = {}
    numbers = []
    for role in roles:
        numbers.append(seen.get(role, 0))
        seen[role] = numbers[-1] + 1
    return numbers


def available(app: Flask, fx: Fixture, endpoints=None) -> tuple[list[Endpoint], list[str]]:
    """The endpoints this app serves (URL resolves, required view exists), and the skipped names."""
    adapter = app.url_map.bind("localhost")
    found, skipped = [], []
    for endpoint in endpoints or ENDPOINTS:
        path = endpoint.url(fx.who(endpoint.role), 0).split("?", 1)[0]
        try:
            rule_endpoint, _args = adapter.match(path, method=endpoint.method)
            ok = rule_endpoint != "static" and (
                endpoint.requires is None or endpoint.requires in app.view_functions
            )
        except HTTPException:
            ok = False
        (found if ok else skipped).append(endpoint if ok else endpoint.name)
    return found, skipped
