"""Fuzzing every route of the URL map with malformed input (issue 16): huge, negative and
non-numeric ids, very long strings, NUL bytes and control characters, unicode, lists where one
value is expected, file parts where text is expected, and dates at the ends of the calendar.

The forms are discovered, not listed: every GET page of the URL map is read once as each role,
and every <form> on it is parsed, so a new form is fuzzed the day it appears. A request starts
from the form's own values (ids, versions, hidden state) and spoils a few of them, which reaches
deeper than all-random input. Each route is fuzzed as a role that may use it, inside its scope.
Nothing may answer 500, and no service may be stored without a name.

FUZZ_EXAMPLES sets the examples per route (default 15; CI may raise it); FUZZ_LOG names a
file that gets one line per request (status, method, route), for counting.
"""

import io
import os
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from app.access import PUBLIC
from app.extensions import db
from app.models import Service, ServiceTranslation
from tests.security_world import (
    World,
    build_world,
    out_of_scope,
    rules_of,
    sign_in_as,
    url_for_rule,
    url_map_app,
    waits_for_merge,
)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
# Who fuzzes a route: the first of these whom the route lets in, within its scope.
ACTORS = ("admin_a", "coordinator_x", "staff_a1")
# Query parameters the app reads somewhere; added to every route's query string.
QUERY_NAMES = (
    "page",
    "site_id",
    "service_id",
    "tab",
    "language",
    "period",
    "on",
    "start",
    "end",
    "bucket",
    "week",
    "next",
    "actions",
    "locale",
    "user",
    "action",
    "object_type",
    "object_id",
    "visitor_lang",
)

IDS = [
    "0",
    "-1",
    str(2**31 - 1),
    str(2**31),
    str(2**63),
    str(10**20),
    str(-(10**20)),
    "99999999999999999999999",
    "1e309",
    "²",
    "١٢",
    " 7 ",
    "0x10",
    "9" * 5000,
]
DATES = [
    "9999-12-31",
    "0001-01-01",
    "2026-02-30",
    "0000-00-00",
    "2026-13-01",
    "+10000-01-01",
    "-2026-01-01",
]
TEXTS = [
    "",
    " ",
    "x" * 5000,
    "ا" * 300,
    "\x00",
    "a\x00b",
    "\x1b[31m",
    "\r\n",
    "\u202egnp.exe",
    "\ufeff",
    "😀" * 50,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "../../etc/passwd",
    "null",
    "[]",
    "{}",
    "true",
]
SCALARS = st.one_of(
    st.sampled_from(IDS + DATES + TEXTS),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=30),
)
FILE = object()  # a marker: send this field as a file part
MALFORMED = st.one_of(
    SCALARS.map(lambda v: [v]),
    st.lists(SCALARS, min_size=2, max_size=3),  # a list where one value is expected
    st.just([FILE]),
)


class FormFinder(HTMLParser):
    """The forms of a page: (action, method, [(name, value)]) with each field's own value."""

    def __init__(self, page_url: str):
        super().__init__()
        self.page_url = page_url
        self.forms: list[tuple[str, str, list[tuple[str, str]]]] = []
        self._fields: list[tuple[str, str]] | None = None
        self._textarea: str | None = None
        self._select: str | None = None
        self._options: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._fields = []
            action = a.get("action") or self.page_url
            self.forms.append((action, (a.get("method") or "get").upper(), self._fields))
        elif tag == "option" and self._select:
            value = a.get("value") or ""
            if "selected" in a:
                self._options.insert(0, value)
            else:
                self._options.append(value)
        elif self._fields is None or not a.get("name"):
            return
        elif tag == "input" and a.get("type") in ("checkbox", "radio"):
            if "checked" in a:
                self._fields.append((a["name"], a.get("value") or "y"))
        elif tag == "input":
            self._fields.append((a["name"], a.get("value") or ""))
        elif tag == "textarea":
            self._textarea = a["name"]
            self._fields.append((a["name"], ""))
        elif tag == "select":
            self._select = a["name"]
            self._options = []

    def handle_endtag(self, tag):
        if tag == "form":
            self._fields = None
        elif tag == "select" and self._select:
            if self._options and self._fields is not None:  # the chosen option, else the first
                self._fields.append((self._select, self._options[0]))
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self._fields:
            name, value = self._fields[-1]
            self._fields[-1] = (name, value + data)


_APP = url_map_app()
CASES = [
    pytest.param(r.rule, r.endpoint, m, id=f"{m} {r.rule}")
    for r in rules_of(_APP)
    for m in ("GET", "POST")
    if m in r.methods
]
# endpoint -> fields of the forms that send to it, found once per session (ids are the same
# in every test: each starts from empty tables and builds the same world).
_FORMS: dict[tuple[str, str], list[tuple[str, str]]] = {}


def actor_for(app, rule) -> str | None:
    access = getattr(app.view_functions[rule.endpoint], "access", None)
    if access == PUBLIC:
        return None
    for actor in ACTORS:
        role = {"admin_a": "admin", "coordinator_x": "coordinator", "staff_a1": "staff"}[actor]
        if role in access and not out_of_scope(rule, actor):
            return actor
    return ACTORS[0]


def seed_pages(world: World) -> list[str]:
    """Pages whose forms only show with the right query: the consent screen, a referral's
    open action forms."""
    return [
        f"/sites/{world.site_a1.id}/referrals/consent"
        f"?service_id={world.service_x.id}&visitor_lang=sv",
        f"/queue/referrals/{world.referral_a1_x.id}?actions=1",
    ]


def discover_forms(app, client, world: World) -> None:
    """Read every GET page as each actor and remember the forms by the endpoint they send to."""
    adapter = app.url_map.bind("localhost")
    pages = [
        url_for_rule(r, world)
        for r in rules_of(app)
        if "GET" in r.methods and not waits_for_merge(app, r)
    ]
    for actor in (None, *ACTORS):
        sign_in_as(client, world.users.get(actor) if actor else None)
        for url in [*pages, *seed_pages(world)]:
            response = client.get(url)
            if response.status_code != 200 or "html" not in response.mimetype:
                continue
            finder = FormFinder(url)
            finder.feed(response.get_data(as_text=True))
            for action, method, fields in finder.forms:
                try:
                    endpoint, _args = adapter.match(urlsplit(action).path, method=method)
                except HTTPException:
                    continue
                known = _FORMS.setdefault((endpoint, method), [])
                known.extend(f for f in fields if f not in known)
    # The contact step is only reached by answering yes on the consent screen.
    sign_in_as(client, world.users["staff_a1"])
    consent = dict(_FORMS.get(("referrals.answer", "POST"), []))
    consent.update(agree_processing="y", agree_disclosure="y", method="tablet", answer="yes")
    page = client.post(f"/sites/{world.site_a1.id}/referrals/consent", data=consent)
    finder = FormFinder("")
    finder.feed(page.get_data(as_text=True))
    for _action, _method, fields in finder.forms:
        _FORMS.setdefault(("referrals.create", "POST"), []).extend(fields)
    db.session.rollback()


def request_data(base: list[tuple[str, str]], spoiled: dict[str, list]) -> tuple[MultiDict, bool]:
    """The form's values with the spoiled ones replaced; True when a file part is among them."""
    data = MultiDict([(k, v) for k, v in base if k not in spoiled])
    has_file = False
    for name, values in spoiled.items():
        for value in values:
            if value is FILE:
                has_file = True
                data.add(name, (io.BytesIO(b"\x00fuzz"), "fuzz.txt"))
            else:
                data.add(name, value)
    return data, has_file


def nameless_services() -> int:
    """Services without a translation, or with a translation whose name is blank."""
    named = select(ServiceTranslation.service_id).where(
        func.length(func.trim(ServiceTranslation.name)) > 0
    )
    blank = select(func.count(ServiceTranslation.id)).where(
        func.length(func.trim(ServiceTranslation.name)) == 0
    )
    without = select(func.count(Service.id)).where(Service.id.not_in(named))
    return db.session.scalar(without) + db.session.scalar(blank)


@pytest.mark.parametrize("path,endpoint,method", CASES)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_malformed_input_never_gives_a_500(app, client, make, path, endpoint, method, data):
    rule = next(r for r in app.url_map.iter_rules() if r.rule == path and r.endpoint == endpoint)
    if reason := waits_for_merge(app, rule):
        pytest.skip(reason)
    world = getattr(app, "_fuzz_world", None)
    if world is None:  # once per test: hypothesis runs every example on the same app
        world = app._fuzz_world = build_world(make)
        if not _FORMS:
            discover_forms(app, client, world)
        app._fuzz_actor = actor_for(app, rule)
    actor = app._fuzz_actor
    user = world.users.get(actor) if actor else None
    if user is not None:
        make.session.refresh(user)  # a sign-out rotates the token; sign in again
    sign_in_as(client, user)
    base = _FORMS.get((endpoint, method), [])
    own = sorted({k for k, _v in base})
    # Mostly the form's own fields, plus a few query parameters the app reads anywhere.
    spoiled = data.draw(
        st.dictionaries(st.sampled_from(own or list(QUERY_NAMES)), MALFORMED, max_size=3),
        "fields",
    )
    extra = data.draw(st.dictionaries(st.sampled_from(QUERY_NAMES), SCALARS, max_size=2), "query")
    url = url_for_rule(rule, world)
    values, has_file = request_data(base, spoiled)
    if method == "GET":
        query = MultiDict([(k, v) for k, v in values.items(multi=True) if isinstance(v, str)])
        query.update(extra)
        response = client.get(url, query_string=query)
    else:
        response = client.post(
            url,
            data=values,
            query_string=extra,
            content_type="multipart/form-data" if has_file else None,
        )
    if log := os.environ.get("FUZZ_LOG"):  # counts for a report: one line per request
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"{response.status_code} {method} {path}\n")
    db.session.rollback()
    assert response.status_code < 500, (method, url, spoiled, response.status_code)
    assert nameless_services() == 0, (method, url, spoiled)
