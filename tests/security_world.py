"""The world the security tests attack: two organisations, their sites, services, users and
records, and the rules that say which actor may reach which record.

Extend it in two places when a new kind of URL parameter appears:
- `PARAMETERS`: how to fill the parameter from the world (a record of site A1 / org A);
- `SCOPE`: which actors must get 404 for that record (they are outside its site or service).
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from flask import Flask

from app import create_app
from app.access import PUBLIC
from app.choices import Funder, Indicator, Role
from app.models import ActivitySchedule, Project, ProjectTarget, ServiceTranslation, User
from app.workdays import local_today

# The actors, in the order they act on each route: whoever may change the world last.
ACTORS = (
    "anonymous",
    "staff_a1",
    "staff_a2",
    "coordinator_x",
    "coordinator_y",
    "partner_x",
    "partner_y",
    "admin_b",
    "admin_a",
)


@dataclass
class World:
    users: dict[str, User] = field(default_factory=dict)
    records: dict[str, object] = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.records[name]
        except KeyError as error:
            raise AttributeError(name) from error


def build_world(make) -> World:
    """Org A (sites A1, A2; services X, Y) with one user per actor, and records in site A1;
    org B with its own site, service, admin and records."""
    with make.one_commit():
        return _build_world(make)


def _build_world(make) -> World:
    w = World()
    org_a = make.org(name="Kommun A", slug="kommun-a")
    a1 = make.site(org_a, name="Förskolan A1")
    a2 = make.site(org_a, name="Förskolan A2")
    x = make.service(org_a, slug="sfi")
    x.translations.append(ServiceTranslation(locale="ar", name="SFI", summary="ملخص"))
    make.session.flush()
    y = make.service(org_a, slug="forskola")
    org_b = make.org(name="Kommun B", slug="kommun-b")
    b1 = make.site(org_b, name="Förskolan B1")
    bx = make.service(org_b, slug="sfi-b")
    w.users = {
        "staff_a1": make.user(org_a, Role.STAFF, sites=[a1], name="Staff A1"),
        "staff_a2": make.user(org_a, Role.STAFF, sites=[a2], name="Staff A2"),
        "coordinator_x": make.user(org_a, Role.COORDINATOR, services=[x], name="Coord X"),
        "coordinator_y": make.user(org_a, Role.COORDINATOR, services=[y], name="Coord Y"),
        "admin_a": make.user(org_a, Role.ADMIN, name="Admin A"),
        "admin_b": make.user(org_b, Role.ADMIN, name="Admin B"),
    }
    # Receiving services (issue 21): one for service X, one for service Y.
    partner_x = make.partner(org_a, [x], name="SFI-skolan")
    partner_y = make.partner(org_a, [y], name="Förskoleantagningen")
    w.users["partner_x"] = make.partner_user(partner_x, name="Partner X")
    w.users["partner_y"] = make.partner_user(partner_y, name="Partner Y")
    staff_b = make.user(org_b, Role.STAFF, sites=[b1], name="Staff B1")
    consent = make.referral_consent(a1, [x], by=w.users["staff_a1"])
    consent_b = make.referral_consent(b1, [bx], by=staff_b)
    w.records = {
        "org_a": org_a,
        "org_b": org_b,
        "site_a1": a1,
        "site_a2": a2,
        "site_b1": b1,
        "service_x": x,
        "service_y": y,
        "service_b": bx,
        "visit_a1": make.visit(a1, w.users["staff_a1"]),
        "visit_b1": make.visit(b1, staff_b),
        "consent_a1": consent,
        "referral_a1_x": consent.referrals[0],
        "consent_b1": consent_b,
        "text_a": consent.consent_text,
        "staff_b1": staff_b,
        "partner_ax": partner_x,
    }
    activity = make.activity(a1)
    schedule = ActivitySchedule(
        rule="FREQ=WEEKLY;BYDAY=MO",
        starts_on=local_today(),
        ends_on=local_today() + timedelta(days=60),
        start_time=time(10),
        end_time=time(11),
    )
    activity.schedules.append(schedule)
    make.session.flush()
    w.records.update(
        activity_a1=activity,
        schedule_a1=schedule,
        session_a1=make.activity_session(activity, schedule_id=schedule.id),
    )
    # A follow-up needs a referral that closed as started: its own, so the other routes still
    # find referral_a1_x open.
    started = make.referral_consent(
        a1, [x], by=w.users["staff_a1"], consent_text=consent.consent_text
    )
    w.records["follow_up_a1_x"] = make.follow_up(started.referrals[0])
    project = Project(
        organisation_id=org_a.id,
        name="Vägen till arbete",
        funder=Funder.LANSSTYRELSEN_37A,
        starts_on=local_today() - timedelta(days=30),
        ends_on=local_today() + timedelta(days=300),
        sites=[a1],
        services=[x],
    )
    project.targets.append(ProjectTarget(indicator=Indicator.REFERRALS, target=10))
    make.session.add(project)
    make.session.flush()
    w.records["project_a"] = project
    return w


# How to fill each URL parameter with a record of site A1 / organisation A.
PARAMETERS = {
    "site_id": lambda w: w.site_a1.id,
    "visit_id": lambda w: w.visit_a1.id,
    "service_id": lambda w: w.service_x.id,
    "referral_id": lambda w: w.referral_a1_x.id,
    "consent_id": lambda w: w.consent_a1.id,
    "text_id": lambda w: w.text_a.id,
    "user_id": lambda w: w.users["staff_a1"].id,
    "lang": lambda w: "sv",
    "slug": lambda w: w.service_x.slug,
    "code": lambda w: "ar",  # a locale code: the admin edits one translation of a service
    "activity_id": lambda w: w.activity_a1.id,
    "schedule_id": lambda w: w.schedule_a1.id,
    "session_id": lambda w: w.session_a1.id,
    "follow_up_id": lambda w: w.follow_up_a1_x.id,
    "project_id": lambda w: w.project_a.id,
    "partner_id": lambda w: w.partner_ax.id,
    "service_uuid": lambda w: w.service_x.uuid,  # the public HSDS API (issue 22)
}

# Actors for whom the record behind a parameter is out of scope, so the answer must be 404.
# Coordinators belong to no site: site-owned records are not theirs, except a referral (and
# its consent) of their own service, which is left to the route.
SCOPE = {
    "site_id": {"staff_a2", "coordinator_x", "coordinator_y", "admin_b"},
    # Only the recorder edits or undoes a visit, and only on its day (issue 4).
    "visit_id": {"staff_a2", "coordinator_x", "coordinator_y", "admin_b", "admin_a"},
    # A partner sees only referrals to the services its organisation receives.
    "referral_id": {"staff_a2", "coordinator_y", "partner_y", "admin_b"},
    # Receipts, extracts and withdrawal: staff of the consent's site, a coordinator of one of
    # its referrals' services, an admin of the organisation (issue 16 closed the hole where
    # any coordinator of the organisation could withdraw any consent).
    "consent_id": {"staff_a2", "coordinator_y", "admin_b"},
    # A coordinator works only the queues of the services assigned to them.
    "service_id": {"admin_b", "coordinator_y"},
    "text_id": {"admin_b"},
    "user_id": {"admin_b"},
    # The programme belongs to a site, like its visits: its staff and the organisation's admin.
    "activity_id": {"staff_a2", "coordinator_x", "coordinator_y", "admin_b"},
    "schedule_id": {"staff_a2", "coordinator_x", "coordinator_y", "admin_b"},
    "session_id": {"staff_a2", "coordinator_x", "coordinator_y", "admin_b"},
    # A follow-up is worked in its service's queue, like its referral.
    "follow_up_id": {"staff_a2", "coordinator_y", "admin_b"},
    # A project is the organisation's: its admins keep it, its coordinators read its report.
    "project_id": {"admin_b"},
    # A partner organisation is the organisation's: its admins keep it.
    "partner_id": {"admin_b"},
    "lang": set(),
    "slug": set(),
    "service_uuid": set(),  # public: the HSDS API
    "code": set(),
}

# Answers the generic rule cannot know, per (endpoint, actor) -> allowed status codes.
# Add a line when a route's rule is narrower or wider than its parameters suggest.
EXPECTED: dict[tuple[str, str], set[int]] = {
    # Staff of A1 acts first and ends the schedule; the admin then finds it gone.
    ("programme.remove_schedule", "admin_a"): {303, 404},
    # The world's consent text has no recording: everyone who may hear one is told there is
    # none (tests/test_local_details.py plays one to staff and refuses another organisation).
    **{
        ("referrals.consent_audio", actor): {404}
        for actor in ("staff_a1", "staff_a2", "coordinator_x", "coordinator_y", "admin_a")
    },
}


def rules_of(app: Flask):
    """Every routed view except static files, sorted for stable test ids."""
    return sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint != "static"),
        key=lambda r: (r.rule, r.endpoint),
    )


def url_map_app() -> Flask:
    """An app built only to read its URL map at collection time (no database is touched)."""
    return create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "collect"}
    )


def waits_for_merge(app: Flask, rule) -> str | None:
    """Why a route cannot be tested in this tree yet: the start page redirects to each role's
    landing page, which other areas provide. Once they are merged this returns None."""
    from app.auth.views import LANDING

    if rule.endpoint == "auth.index":
        missing = [e for e in LANDING.values() if e not in app.view_functions]
        if missing:
            return f"landing pages not merged yet: {missing}"
    return None


def unfillable(rule) -> set[str]:
    return set(rule.arguments) - set(PARAMETERS)


def url_for_rule(rule, world: World) -> str:
    values = {name: PARAMETERS[name](world) for name in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


def access_of(app: Flask, endpoint: str):
    return getattr(app.view_functions[endpoint], "access", None)


def sign_in_as(client, user: User | None) -> None:
    """Put `user` in the client's session the way a real sign-in does (without Argon2's cost).

    The user is re-read so a rotated session token (a sign-out, a disabling) is honoured."""
    with client.session_transaction() as session:
        session.clear()
        if user is None:
            return
        now = datetime.now(UTC).timestamp()
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        session["signed_in_at"] = session["last_seen"] = now


def out_of_scope(rule, actor: str) -> bool:
    return any(actor in SCOPE.get(name, set()) for name in rule.arguments)


def expected_answer(app: Flask, rule, actor: str, users: dict[str, User]):
    """('ok'|'login'|'forbidden'|'not_found'|'explicit', extra) for one actor on one route."""
    access = access_of(app, rule.endpoint)
    if (rule.endpoint, actor) in EXPECTED:
        return "explicit", EXPECTED[(rule.endpoint, actor)]
    if access == PUBLIC:
        return "public", None
    if actor == "anonymous":
        return "login", None
    if users[actor].role not in access:
        return "forbidden", None
    if out_of_scope(rule, actor):
        return "not_found", None
    return "allowed", None
