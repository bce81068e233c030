"""Every route declares who may use it (see app/access.py); a route without a rule fails here."""

from app.access import PUBLIC
from app.choices import Role


def test_every_route_declares_its_access(app):
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        access = getattr(app.view_functions[rule.endpoint], "access", None)
        if access != PUBLIC and not (access and set(access) <= set(Role)):
            missing.append(rule.rule)
    assert missing == []
