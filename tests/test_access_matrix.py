"""THE access-control matrix: every route of the URL map × GET and POST × every actor.

The expected class of answer comes from the access each view declares (app/access.py) and
the scope of the records its URL parameters name (tests/security_world.py):
- public: never 401 or 403;
- a role route: anonymous is sent to /login, a role not declared gets 403, an actor outside
  the record's site or organisation gets 404, and one inside is let through;
- nobody ever gets a 500.
A route with a URL parameter the world cannot fill fails, so new routes are thought about.
"""

import pytest

from app.access import PUBLIC
from app.choices import Role
from tests.security_world import (
    ACTORS,
    PARAMETERS,
    build_world,
    expected_answer,
    rules_of,
    sign_in_as,
    unfillable,
    url_for_rule,
    url_map_app,
    waits_for_merge,
)

_APP = url_map_app()
CASES = [
    pytest.param(rule.rule, rule.endpoint, method, id=f"{method} {rule.rule} {rule.endpoint}")
    for rule in rules_of(_APP)
    for method in ("GET", "POST")
    if method in rule.methods
]


def find_rule(app, path: str, endpoint: str):
    return next(r for r in app.url_map.iter_rules() if r.rule == path and r.endpoint == endpoint)


def test_every_route_declares_access_and_fillable_parameters(app):
    problems = []
    for rule in rules_of(app):
        access = getattr(app.view_functions[rule.endpoint], "access", None)
        if access != PUBLIC and not (access and set(access) <= set(Role)):
            problems.append(f"{rule.rule}: no @public/@roles declaration")
        if missing := unfillable(rule):
            problems.append(f"{rule.rule}: the world cannot fill {sorted(missing)}")
    assert problems == [], "Add the access declaration, or teach tests/security_world.py"


def test_the_world_fills_every_parameter_name_of_the_brief():
    names = {
        "site_id",
        "visit_id",
        "service_id",
        "referral_id",
        "consent_id",
        "text_id",
        "user_id",
        "lang",
        "slug",
        "code",
    }
    assert names <= set(PARAMETERS)


@pytest.mark.parametrize("path,endpoint,method", CASES)
def test_access_matrix(app, client, make, path, endpoint, method):
    rule = find_rule(app, path, endpoint)
    assert not unfillable(rule), f"the world cannot fill {sorted(unfillable(rule))}"
    if reason := waits_for_merge(app, rule):
        pytest.skip(reason)
    world = build_world(make)
    url = url_for_rule(rule, world)
    failures = []
    for actor in ACTORS:
        user = world.users.get(actor)
        if user is not None:
            make.session.refresh(user)  # a rotated token (sign-out) is honoured
        sign_in_as(client, user)
        response = client.open(url, method=method, data={} if method == "POST" else None)
        status = response.status_code
        kind, allowed = expected_answer(app, rule, actor, world.users)
        location = response.headers.get("Location", "")
        ok = status < 500
        if kind == "explicit":
            ok = status in allowed
        elif kind == "public":
            ok = ok and status not in (401, 403)
        elif kind == "login":
            ok = status in (302, 303) and "/login" in location
        elif kind == "forbidden":
            ok = status == 403
        elif kind == "not_found":
            ok = status == 404
        elif kind == "allowed":
            ok = ok and status not in (401, 403, 404)
        if not ok:
            failures.append(f"{actor}: expected {kind}, got {status} {location}")
    assert failures == [], f"{method} {url}"


def test_admin_of_another_organisation_gets_404_on_each_admin_record_screen(client, make):
    """Spot check the matrix's own reasoning on this area's screens."""
    world = build_world(make)
    sign_in_as(client, world.users["admin_b"])
    for url in (
        f"/admin/users/{world.users['staff_a1'].id}",
        f"/admin/sites/{world.site_a1.id}",
    ):
        assert client.get(url).status_code == 404
        assert client.post(url, data={"name": "x"}).status_code == 404
    assert client.post(f"/admin/users/{world.users['staff_a1'].id}/disable").status_code == 404
    make.session.refresh(world.users["staff_a1"])
    assert world.users["staff_a1"].is_enabled
