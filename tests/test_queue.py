"""Follow-up queues: the workflow table, deadlines in working days, scoping between services
and organisations, optimistic locking, audited contact reveal, the unreachable suggestion,
bounded SQL per page, and the e-mail digest."""

import socket
from dataclasses import dataclass
from datetime import date, timedelta
from email import message_from_bytes, policy
from itertools import product

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import event, func, select, update

from app import privacy
from app.choices import Outcome, ReferralStatus, Role
from app.extensions import db
from app.models import AuditEvent, Referral, ReferralEvent
from app.queue import workflow
from app.workdays import add_working_days, local_today

S = ReferralStatus
HX = {"HX-Request": "true"}


@dataclass
class World:
    org: object
    site: object
    service: object
    staff: object
    coordinator: object
    text: object


@pytest.fixture
def world(make):
    org = make.org()
    site = make.site(org)
    service = make.service(org, slug="sfi")
    staff = make.user(org, sites=[site])
    coordinator = make.user(org, role=Role.COORDINATOR, services=[service], name="Sara Samordnare")
    return World(org, site, service, staff, coordinator, make.consent_text(org))


def refer(make, w: World, service=None, site=None, **kw) -> Referral:
    consent = make.referral_consent(
        site or w.site, [service or w.service], by=w.staff, consent_text=w.text, **kw
    )
    return consent.referrals[0]


def fresh(referral_id: int) -> Referral:
    db.session.expire_all()
    return db.session.get(Referral, referral_id)


def put_in_status(referral: Referral, status: str) -> Referral:
    referral.status = status
    if status == S.CLOSED:
        referral.outcome = Outcome.STARTED
    db.session.commit()
    return referral


def event_count(referral_id: int) -> int:
    return db.session.scalar(select(func.count()).where(ReferralEvent.referral_id == referral_id))


def post_status(client, referral, to_status, headers=None, **extra):
    data = {"version": referral.version, "to_status": to_status, **extra}
    return client.post(f"/queue/referrals/{referral.id}/status", data=data, headers=headers)


# ------------------------------------------------------------------ workflow table

EXPECTED_ALLOWED = {
    (S.NEW, S.CONTACTED),
    (S.NEW, S.IN_PROGRESS),
    (S.NEW, S.CLOSED),
    (S.CONTACTED, S.IN_PROGRESS),
    (S.CONTACTED, S.CLOSED),
    (S.IN_PROGRESS, S.CONTACTED),
    (S.IN_PROGRESS, S.CLOSED),
}


@pytest.mark.parametrize("from_status,to_status", list(product(S, S)))
def test_every_transition_is_allowed_or_refused_as_the_table_says(
    client, make, login, world, from_status, to_status
):
    referral = put_in_status(refer(make, world), from_status)
    before = (referral.status, referral.version, event_count(referral.id))
    login(world.coordinator)
    extra = {"outcome": Outcome.DECLINED} if to_status == S.CLOSED else {}
    response = post_status(client, referral, to_status, **extra)
    after = fresh(referral.id)
    if (from_status, to_status) in EXPECTED_ALLOWED:
        assert workflow.is_allowed(from_status, to_status)
        assert response.status_code == 303
        assert after.status == to_status
        assert after.version == before[1] + 1
        assert event_count(referral.id) == before[2] + 1
    else:
        assert not workflow.is_allowed(from_status, to_status)
        assert response.status_code == 422
        assert "Det steget går inte från nuvarande status." in response.get_data(as_text=True)
        assert (after.status, after.version, event_count(referral.id)) == before


def test_closing_needs_an_outcome_and_only_closing_takes_one(client, make, login, world):
    referral = refer(make, world)
    login(world.coordinator)
    no_outcome = post_status(client, referral, S.CLOSED)
    assert no_outcome.status_code == 422
    assert "Välj ett utfall när du avslutar." in no_outcome.get_data(as_text=True)
    with_outcome = post_status(client, referral, S.CONTACTED, outcome=Outcome.STARTED)
    assert with_outcome.status_code == 422
    assert "Ett utfall anges bara när du avslutar." in with_outcome.get_data(as_text=True)
    # Withdrawn and expired belong to the privacy module (they erase), not to a coordinator.
    system_only = post_status(client, referral, S.CLOSED, outcome=Outcome.WITHDRAWN)
    assert system_only.status_code == 422
    after = fresh(referral.id)
    assert (after.status, after.outcome, after.version) == (S.NEW, None, 1)
    assert event_count(referral.id) == 1  # only "created"


def test_each_step_records_who_when_reason_and_sets_dates(client, make, login, world):
    referral = refer(make, world)
    login(world.coordinator)
    follow_up = add_working_days(local_today(), 3)
    response = post_status(
        client,
        referral,
        S.IN_PROGRESS,
        reason_code="booked",
        follow_up_date=follow_up.isoformat(),
    )
    assert response.status_code == 303
    after = fresh(referral.id)
    assert after.first_contact_at is not None  # booked at the first call: first contact
    assert after.follow_up_date == follow_up
    step = after.events[-1]
    assert (step.kind, step.by_id, step.from_status, step.to_status, step.reason_code) == (
        "status",
        world.coordinator.id,
        S.NEW,
        S.IN_PROGRESS,
        "booked",
    )
    assert step.at is not None
    post_status(client, after, S.CLOSED, outcome=Outcome.STARTED)
    closed = fresh(referral.id)
    assert (closed.status, closed.outcome) == (S.CLOSED, Outcome.STARTED)
    assert closed.closed_at is not None and closed.follow_up_date is None


def test_a_tampered_reason_is_refused_with_a_message(client, make, login, world):
    referral = refer(make, world)
    login(world.coordinator)
    response = post_status(client, referral, S.CONTACTED, reason_code="because")
    assert response.status_code == 422
    assert "Välj en orsak i listan." in response.get_data(as_text=True)
    assert fresh(referral.id).status == S.NEW


# ------------------------------------------------------------------ deadlines


def test_working_days_skip_a_weekend():
    friday = date(2026, 11, 20)
    assert add_working_days(friday, 1) == date(2026, 11, 23)  # Monday


def test_working_days_skip_christmas_and_new_year():
    # Wed 23 Dec 2026: 24-27 Dec (Christmas Eve, Christmas, Boxing Day, Sunday), 31 Dec and
    # 1-3 Jan are not working days; 28, 29, 30 Dec and 4, 5 Jan are.
    assert add_working_days(date(2026, 12, 23), 5) == date(2027, 1, 5)


def test_first_contact_due_date_is_set_in_working_days_at_creation(make, world, monkeypatch):
    monkeypatch.setattr(privacy, "local_today", lambda: date(2026, 12, 23))
    referral = refer(make, world)
    assert referral.due_date == date(2027, 1, 5)
    world.org.first_contact_working_days = 2
    db.session.commit()
    assert refer(make, world).due_date == date(2026, 12, 29)


def test_default_follow_up_is_five_working_days_after_the_step(
    client, make, login, world, monkeypatch
):
    referral = refer(make, world)
    monkeypatch.setattr(workflow, "local_today", lambda: date(2026, 12, 23))
    login(world.coordinator)
    post_status(client, referral, S.CONTACTED)
    assert fresh(referral.id).follow_up_date == date(2027, 1, 5)


def test_overdue_referrals_stand_out_with_a_word_and_filter(client, make, login, world):
    late = refer(make, world)
    late.due_date = late.follow_up_date = local_today() - timedelta(days=1)
    on_time = refer(make, world)
    db.session.commit()
    login(world.coordinator)
    html = client.get(f"/queue/services/{world.service.id}").get_data(as_text=True)
    assert html.count("<strong>Försenad</strong>") == 1
    assert html.index(f'id="referral-{late.id}"') < html.index(f'id="referral-{on_time.id}"')
    only_late = client.get(f"/queue/services/{world.service.id}?overdue=1").get_data(as_text=True)
    assert f'id="referral-{late.id}"' in only_late
    assert f'id="referral-{on_time.id}"' not in only_late


def test_my_tasks_today_lists_only_mine_due_today_or_overdue(client, make, login, world):
    other = make.user(world.org, role=Role.COORDINATOR, services=[world.service])
    due_today = refer(make, world)
    overdue = refer(make, world)
    later = refer(make, world)
    someone_elses = refer(make, world)
    due_today.due_date = due_today.follow_up_date = local_today()
    overdue.due_date = overdue.follow_up_date = local_today() - timedelta(days=3)
    someone_elses.due_date = someone_elses.follow_up_date = local_today()
    for r in (due_today, overdue, later):
        r.assignee_id = world.coordinator.id
    someone_elses.assignee_id = other.id
    db.session.commit()
    login(world.coordinator)
    html = client.get("/queue/today").get_data(as_text=True)
    assert f'id="referral-{due_today.id}"' in html
    assert f'id="referral-{overdue.id}"' in html
    assert f'id="referral-{later.id}"' not in html
    assert f'id="referral-{someone_elses.id}"' not in html


# ------------------------------------------------------------------ queue page


def test_coordinator_with_one_service_goes_straight_to_its_queue(client, make, login, world):
    login(world.coordinator)
    assert client.get("/").location == "/queue/"
    assert client.get("/queue/").location == f"/queue/services/{world.service.id}"


def test_admin_sees_every_service_of_the_organisation_only(client, make, login, world):
    second = make.service(world.org, slug="so")
    foreign = make.service(make.org(), slug="arbete")
    admin = make.user(world.org, role=Role.ADMIN)
    login(admin)
    html = client.get("/queue/").get_data(as_text=True)
    assert f"/queue/services/{world.service.id}" in html
    assert f"/queue/services/{second.id}" in html
    assert f"/queue/services/{foreign.id}" not in html
    assert client.get(f"/queue/services/{second.id}").status_code == 200
    assert client.get(f"/queue/services/{foreign.id}").status_code == 404


def test_staff_cannot_open_queues(client, make, login, world):
    login(world.staff)
    assert client.get("/queue/").status_code == 403


def test_tabs_count_per_status_and_list_one_status(client, make, login, world):
    contacted = put_in_status(refer(make, world), S.CONTACTED)
    refer(make, world)
    refer(make, world)
    put_in_status(refer(make, world), S.CLOSED)
    login(world.coordinator)
    html = client.get(f"/queue/services/{world.service.id}").get_data(as_text=True)
    for tab, total in (
        ("open", 3),
        ("new", 2),
        ("contacted", 1),
        ("in_progress", 0),
        ("closed", 1),
    ):
        assert f'<span class="tab-count" id="queue-count-{tab}">\n  {total}' in html
    contacted_tab = client.get(f"/queue/services/{world.service.id}?tab=contacted")
    html = contacted_tab.get_data(as_text=True)
    assert html.count('<li class="queue-item') == 1 and f'id="referral-{contacted.id}"' in html


def test_filters_by_site_language_interpreter_and_assignee(client, make, login, world):
    other_site = make.site(world.org)
    a = refer(make, world, language="so", interpreter_needed=True)
    b = refer(make, world, site=other_site, language="ar")
    b.assignee_id = world.coordinator.id
    db.session.commit()
    login(world.coordinator)
    base = f"/queue/services/{world.service.id}"

    def shown(query):
        html = client.get(f"{base}?{query}").get_data(as_text=True)
        return {r.id for r in (a, b) if f'id="referral-{r.id}"' in html}

    assert shown("") == {a.id, b.id}
    assert shown(f"site_id={other_site.id}") == {b.id}
    assert shown("language=so") == {a.id}
    assert shown("interpreter=1") == {a.id}
    assert shown("mine=1") == {b.id}


def test_queue_list_never_shows_contact_details(client, make, login, world):
    refer(make, world, first_name="Hodan", phone="+46701112233")
    login(world.coordinator)
    html = client.get(f"/queue/services/{world.service.id}").get_data(as_text=True)
    assert "Hodan" not in html and "701112233" not in html


def count_statements(client, url) -> int:
    statements = []

    def listener(conn, cursor, statement, *args):
        statements.append(statement)

    db.session.commit()  # both measurements start outside a transaction
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert response.status_code == 200
    return len(statements)


def test_queue_page_runs_the_same_number_of_queries_for_3_or_60_rows(client, make, login, world):
    other = make.user(world.org, role=Role.COORDINATOR, services=[world.service])
    login(world.coordinator)
    url = f"/queue/services/{world.service.id}"
    for _ in range(3):
        refer(make, world)
    few = count_statements(client, url)
    for n in range(57):
        referral = refer(make, world, language=("ar", "so", "fa")[n % 3])
        referral.assignee_id = (world.coordinator.id, other.id, None)[n % 3]
    db.session.commit()
    many = count_statements(client, url)
    assert few == many


def test_the_list_pages_read_no_assign_menu_and_keep_to_ten_statements(client, make, login, world):
    """A list row links to its actions (htmx fetches them), so the coordinators its assign
    menu would offer are not read: the queue was 11 statements on the national benchmark."""
    for _ in range(3):
        refer(make, world)
    login(world.coordinator)
    for url in (f"/queue/services/{world.service.id}", "/queue/today"):
        statements = []
        db.session.commit()
        listener = lambda _c, _cur, statement, *a: statements.append(statement)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        queries = [s for s in statements if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))]
        assert not [s for s in queries if s.startswith("SELECT service_coordinator.service_id")]
        assert len(queries) <= 10, "\n".join(q[:100] for q in queries)


def test_referral_page_timeline_queries_do_not_grow_with_events(client, make, login, world):
    referral = refer(make, world)
    workflow.assign(referral, world.coordinator, by=world.coordinator)
    db.session.commit()  # signing in below starts a new request, which would drop it
    login(world.coordinator)
    url = f"/queue/referrals/{referral.id}"
    few = count_statements(client, url)
    other = make.user(world.org, role=Role.COORDINATOR, services=[world.service])
    for n in range(12):
        workflow.log_attempt(
            referral,
            by=(world.coordinator, other)[n % 2],
            channel="phone",
            result="no_answer",
            on_date=local_today(),
        )
        workflow.assign(referral, (other, world.coordinator)[n % 2], by=world.coordinator)
    db.session.commit()
    many = count_statements(client, url)
    assert few == many
    html = client.get(url).get_data(as_text=True)
    assert html.count("Kontaktförsök: Telefonsamtal, Inget svar") == 12
    assert other.name in html


# ------------------------------------------------------------------ scoping


def test_other_services_and_organisations_are_not_found(client, make, login, world):
    second = make.service(world.org, slug="so")
    theirs = refer(make, world, service=second)
    foreign_org = make.org()
    foreign_site = make.site(foreign_org)
    foreign_service = make.service(foreign_org, slug="sfi")
    foreign_staff = make.user(foreign_org, sites=[foreign_site])
    foreign = make.referral_consent(foreign_site, [foreign_service], by=foreign_staff).referrals[0]
    login(world.coordinator)
    assert client.get(f"/queue/services/{second.id}").status_code == 404
    assert client.get(f"/queue/services/{foreign_service.id}").status_code == 404
    for referral in (theirs, foreign):
        assert client.get(f"/queue/referrals/{referral.id}").status_code == 404
        assert post_status(client, referral, S.CONTACTED).status_code == 404
        assert client.post(f"/queue/referrals/{referral.id}/contact").status_code == 404
        assert fresh(referral.id).status == S.NEW
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "contact_read")
        )
        == 0
    )


# ------------------------------------------------------------------ conflicts


def test_second_coordinator_with_the_same_version_gets_409_and_current_state(
    app, client, make, login, world
):
    second = make.user(world.org, role=Role.COORDINATOR, services=[world.service], name="Omar")
    referral = refer(make, world)
    other_client = app.test_client()
    login(world.coordinator)
    login(second, c=other_client)
    first = post_status(client, referral, S.CONTACTED, headers=HX)
    assert first.status_code == 200
    late = other_client.post(
        f"/queue/referrals/{referral.id}/status",
        data={"version": 1, "to_status": S.CLOSED, "outcome": Outcome.DECLINED},
        headers=HX,
    )
    assert late.status_code == 409
    html = late.get_data(as_text=True)
    assert "Någon annan hann ändra hänvisningen." in html
    assert "Kontaktad" in html  # the current status, as the first coordinator left it
    assert 'name="version" value="2"' in html  # ready to act on the current version
    after = fresh(referral.id)
    assert (after.status, after.outcome, after.version) == (S.CONTACTED, None, 2)
    # Without JavaScript: the referral page with the same message, still 409.
    plain = other_client.post(
        f"/queue/referrals/{referral.id}/assign",
        data={"version": 1, "assignee_id": str(second.id)},
    )
    assert plain.status_code == 409
    assert "Någon annan hann ändra hänvisningen." in plain.get_data(as_text=True)
    assert fresh(referral.id).assignee_id is None


def test_a_write_that_loses_the_race_after_the_check_is_a_409(
    client, make, login, world, monkeypatch
):
    referral = refer(make, world)
    real_change = workflow.change_status

    def someone_commits_first(item, *args, **kwargs):
        # Another request bumps the version between our check and our write.
        db.session.execute(
            update(Referral)
            .where(Referral.id == item.id)
            .values(version=Referral.version + 1)
            .execution_options(synchronize_session=False)
        )
        return real_change(item, *args, **kwargs)

    monkeypatch.setattr(workflow, "change_status", someone_commits_first)
    login(world.coordinator)
    response = post_status(client, referral, S.CONTACTED, headers=HX)
    assert response.status_code == 409
    assert "Någon annan hann ändra hänvisningen." in response.get_data(as_text=True)
    assert fresh(referral.id).status == S.NEW


def test_missing_version_is_refused_as_tampering(client, make, login, world):
    referral = refer(make, world)
    login(world.coordinator)
    response = client.post(
        f"/queue/referrals/{referral.id}/status", data={"to_status": S.CONTACTED}
    )
    assert response.status_code == 400
    assert fresh(referral.id).status == S.NEW


# ------------------------------------------------------------------ htmx and plain forms


def test_htmx_action_returns_the_row_and_counts_out_of_band(client, make, login, world):
    referral = refer(make, world)
    login(world.coordinator)
    queue_page = {**HX, "HX-Current-URL": f"http://localhost/queue/services/{world.service.id}"}
    response = post_status(client, referral, S.CONTACTED, headers=queue_page)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith("<li") and f'id="referral-{referral.id}"' in html
    assert '<span class="tab-count" id="queue-count-new" data-hx-swap-oob="true">\n  0' in html
    assert (
        '<span class="tab-count" id="queue-count-contacted" data-hx-swap-oob="true">\n  1' in html
    )
    assert "<html" not in html


def test_htmx_action_from_a_page_without_tabs_sends_no_counts(client, make, login, world):
    """The referral page and "my tasks" have no tab counts: swapping some in out of band
    would find no target, which htmx reports as an error in the browser."""
    referral = refer(make, world)
    login(world.coordinator)
    steps = ((f"/queue/referrals/{referral.id}", S.CONTACTED), ("/queue/today", S.IN_PROGRESS))
    for page, to_status in steps:
        headers = {**HX, "HX-Current-URL": f"http://localhost{page}"}
        response = post_status(client, fresh(referral.id), to_status, headers=headers)
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert f'id="referral-{referral.id}"' in html
        assert "queue-count-" not in html
    assert fresh(referral.id).status == S.IN_PROGRESS


def test_plain_form_redirects_back_to_the_queue_it_came_from(client, make, login, world):
    referral = refer(make, world)
    login(world.coordinator)
    back = f"/queue/services/{world.service.id}?tab=new&overdue=1"
    response = post_status(client, referral, S.CONTACTED, next=back)
    assert response.status_code == 303 and response.location == back
    outside = post_status(client, fresh(referral.id), S.IN_PROGRESS, next="https://evil.test/")
    assert outside.location == f"/queue/referrals/{referral.id}"


def test_queue_list_links_to_each_rows_actions_instead_of_sending_every_form(
    client, make, login, world
):
    """A page of 25 rows used to carry 25 × 5 forms (about 180 KB on a full queue) that few
    rows are ever acted on with; the list now has one link per row."""
    first, second = refer(make, world), refer(make, world)
    login(world.coordinator)
    html = client.get(f"/queue/services/{world.service.id}?tab=new").get_data(as_text=True)
    assert 'name="to_status"' not in html and '<details class="queue-actions"' not in html
    for referral in (first, second):
        assert f'href="/queue/referrals/{referral.id}?next=' in html
        assert f'data-hx-target="#referral-{referral.id}"' in html


def test_actions_link_gives_htmx_the_row_with_its_forms_open(client, make, login, world):
    referral = refer(make, world)
    login(world.coordinator)
    back = f"/queue/services/{world.service.id}?tab=new"
    url = f"/queue/referrals/{referral.id}"
    html = client.get(url, query_string={"actions": 1, "next": back}, headers=HX).get_data(
        as_text=True
    )
    assert html.lstrip().startswith("<li") and "<html" not in html
    assert f'<details class="queue-actions" id="actions-{referral.id}" open>' in html
    assert html.count(f'name="next" value="{back.replace("&", "&amp;")}"') >= 4
    assert "queue-count-" not in html  # a look changes nothing: no counts to refresh


def test_actions_link_without_javascript_opens_the_referral_page_and_comes_back(
    client, make, login, world
):
    referral = refer(make, world)
    login(world.coordinator)
    back = f"/queue/services/{world.service.id}"
    page = client.get(f"/queue/referrals/{referral.id}?actions=1&next={back}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html
    assert f'id="actions-{referral.id}" open>' in html
    assert f'name="next" value="{back}"' in html
    response = post_status(client, referral, S.CONTACTED, next=back)
    assert response.location == back
    foreign = client.get(f"/queue/referrals/{referral.id}?actions=1&next=https://evil.test/")
    assert 'name="next" value="https://evil.test/"' not in foreign.get_data(as_text=True)


# ------------------------------------------------------------------ attempts, follow-up, assign


def log(client, referral, result="no_answer", on_date=None, headers=None):
    return client.post(
        f"/queue/referrals/{referral.id}/attempts",
        data={
            "version": referral.version,
            "channel": "phone",
            "result": result,
            "on_date": on_date or local_today().isoformat(),
        },
        headers=headers,
    )


def test_suggests_closing_as_unreachable_after_the_configured_failed_attempts(
    client, make, login, world
):
    world.org.unreachable_after_attempts = 2
    db.session.commit()
    referral = refer(make, world)
    login(world.coordinator)
    first = log(client, referral, headers=HX).get_data(as_text=True)
    assert "Avsluta som ej nåbar" not in first
    second = log(client, fresh(referral.id), result="wrong_number", headers=HX)
    assert "Avsluta som ej nåbar" in second.get_data(as_text=True)
    after = fresh(referral.id)
    assert after.failed_attempts == 2 and after.first_contact_at is None
    attempt = after.events[-1]
    assert (attempt.kind, attempt.channel, attempt.result, attempt.on_date) == (
        "attempt",
        "phone",
        "wrong_number",
        local_today(),
    )
    # The suggestion is one click: a form that closes with the outcome "unreachable".
    closed = post_status(client, after, S.CLOSED, outcome="unreachable", headers=HX)
    assert closed.status_code == 200
    assert (fresh(referral.id).status, fresh(referral.id).outcome) == (S.CLOSED, "unreachable")


def test_reaching_the_visitor_is_the_first_contact(client, make, login, world):
    referral = refer(make, world)
    login(world.coordinator)
    assert log(client, referral, result="reached").status_code == 303
    after = fresh(referral.id)
    assert after.status == S.CONTACTED and after.first_contact_at is not None
    assert after.failed_attempts == 0


@pytest.mark.parametrize(
    "on_date,message",
    [
        ("23/11/2026", "Skriv datumet som ÅÅÅÅ-MM-DD."),
        ("", "Fyll i ett datum."),
        ((date.today() + timedelta(days=2)).isoformat(), "Datumet kan inte vara i framtiden."),
    ],
)
def test_attempt_with_a_bad_date_changes_nothing(client, make, login, world, on_date, message):
    referral = refer(make, world)
    login(world.coordinator)
    response = log(client, referral, on_date=on_date or " ", headers=HX)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert fresh(referral.id).failed_attempts == 0 and event_count(referral.id) == 1


def test_follow_up_date_is_set_or_refused_with_a_message(client, make, login, world):
    referral = refer(make, world)
    login(world.coordinator)
    url = f"/queue/referrals/{referral.id}/follow-up"
    wrong = client.post(url, data={"version": 1, "follow_up_date": "next monday"})
    assert wrong.status_code == 422
    assert "Skriv datumet som ÅÅÅÅ-MM-DD." in wrong.get_data(as_text=True)
    past = client.post(url, data={"version": 1, "follow_up_date": "2020-01-01"})
    assert "Datumet har redan passerat." in past.get_data(as_text=True)
    assert fresh(referral.id).version == 1
    day = add_working_days(local_today(), 10)
    assert (
        client.post(url, data={"version": 1, "follow_up_date": day.isoformat()}).status_code == 303
    )
    assert fresh(referral.id).follow_up_date == day


def test_assign_to_me_or_another_coordinator_of_the_service(client, make, login, world):
    colleague = make.user(world.org, role=Role.COORDINATOR, services=[world.service])
    referral = refer(make, world)
    login(world.coordinator)
    url = f"/queue/referrals/{referral.id}/assign"
    assert (
        client.post(url, data={"version": 1, "assignee_id": world.coordinator.id}).status_code
        == 303
    )
    assert fresh(referral.id).assignee_id == world.coordinator.id
    client.post(url, data={"version": 2, "assignee_id": colleague.id})
    after = fresh(referral.id)
    assert after.assignee_id == colleague.id
    assert [e.assignee_id for e in after.events if e.kind == "assigned"] == [
        world.coordinator.id,
        colleague.id,
    ]


@pytest.mark.parametrize("who", ["other_service", "other_org", "nobody", "text"])
def test_unknown_assignee_is_refused_and_nothing_changes(client, make, login, world, who):
    outsider = {
        "other_service": lambda: (
            make.user(
                world.org, role=Role.COORDINATOR, services=[make.service(world.org, slug="so")]
            ).id
        ),
        "other_org": lambda: make.user(role=Role.COORDINATOR).id,
        "nobody": lambda: 99999,
        "text": lambda: "me",
    }[who]()
    referral = refer(make, world)
    login(world.coordinator)
    response = client.post(
        f"/queue/referrals/{referral.id}/assign", data={"version": 1, "assignee_id": outsider}
    )
    assert response.status_code == 400
    after = fresh(referral.id)
    assert (after.assignee_id, after.version, event_count(referral.id)) == (None, 1, 1)


# ------------------------------------------------------------------ contact details


def test_contact_details_only_on_explicit_request_and_audited(client, make, login, world):
    referral = refer(make, world, first_name="Hodan", phone="+46701112233")
    login(world.coordinator)
    page = client.get(f"/queue/referrals/{referral.id}").get_data(as_text=True)
    assert "Hodan" not in page and "701112233" not in page
    assert "Visa kontaktuppgifter" in page
    assert not db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "contact_read")
    ).all()
    shown = client.post(f"/queue/referrals/{referral.id}/contact")
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "Hodan" in html and "+46701112233" in html
    reads = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "contact_read")).all()
    assert [(a.user_id, a.object_type, a.object_id) for a in reads] == [
        (world.coordinator.id, "consent", referral.consent_id)
    ]
    assert "Hodan" not in str(reads[0].detail)
    fragment = client.post(f"/queue/referrals/{referral.id}/contact", headers=HX)
    assert fragment.get_data(as_text=True).lstrip().startswith("<section")


def audit_rows(action: str) -> list[tuple]:
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    )
    return [(e.user_id, e.object_type, e.object_id, e.detail) for e in events]


def test_every_queue_action_writes_a_referral_updated_audit_event(client, make, login, world):
    referral = refer(make, world, first_name="Hodan", phone="+46701112233")
    login(world.coordinator)
    url = f"/queue/referrals/{referral.id}"
    day = add_working_days(local_today(), 4)
    client.post(f"{url}/assign", data={"version": 1, "assignee_id": world.coordinator.id})
    log(client, fresh(referral.id), result="reached")
    client.post(f"{url}/follow-up", data={"version": 3, "follow_up_date": day.isoformat()})
    post_status(client, fresh(referral.id), S.CLOSED, outcome=Outcome.STARTED)
    me, ref = world.coordinator.id, referral.id
    assert audit_rows("referral_updated") == [
        (me, "referral", ref, {"step": "assign", "status": S.NEW, "outcome": None, "assignee_id": me}),
        (me, "referral", ref, {"step": "attempt", "status": S.CONTACTED, "outcome": None, "assignee_id": me}),
        (me, "referral", ref, {"step": "follow_up", "status": S.CONTACTED, "outcome": None, "assignee_id": me}),
        (me, "referral", ref, {"step": "status", "status": S.CLOSED, "outcome": Outcome.STARTED, "assignee_id": me}),
    ]  # fmt: skip


def test_a_refused_or_stale_queue_action_writes_no_audit_event(client, make, login, world):
    referral = refer(make, world)
    login(world.coordinator)
    assert post_status(client, referral, S.CLOSED).status_code == 422  # no outcome
    stale = {"version": 7, "follow_up_date": add_working_days(local_today(), 4).isoformat()}
    assert client.post(f"/queue/referrals/{referral.id}/follow-up", data=stale).status_code == 409
    assert audit_rows("referral_updated") == []


def test_after_withdrawal_the_page_says_the_details_are_erased(client, make, login, world):
    referral = refer(make, world, first_name="Hodan")
    privacy.withdraw(referral.consent, by=world.staff)
    login(world.coordinator)
    page = client.get(f"/queue/referrals/{referral.id}").get_data(as_text=True)
    assert "Kontaktuppgifterna är raderade" in page and "Visa kontaktuppgifter" not in page
    assert "Återkallad" in page  # the outcome privacy.withdraw recorded, on the timeline
    posted = client.post(f"/queue/referrals/{referral.id}/contact").get_data(as_text=True)
    assert "Kontaktuppgifterna är raderade" in posted and "Hodan" not in posted


# ------------------------------------------------------------------ digest


class Sink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            (envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_sink(app):
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, SMTP_FROM="bro@kommun.test")
    yield sink
    controller.stop()


def test_digest_has_counts_per_service_and_no_personal_data(app, make, world, smtp_sink):
    late = refer(make, world, first_name="Hodan", phone="+46701112233")
    late.due_date = late.follow_up_date = local_today() - timedelta(days=2)
    refer(make, world)
    put_in_status(refer(make, world), S.CONTACTED)
    english = make.user(
        world.org, role=Role.COORDINATOR, services=[world.service], locale="en", name="Eve"
    )
    make.user(world.org, role=Role.COORDINATOR, services=[make.service(world.org, slug="idle")])
    result = app.test_cli_runner().invoke(args=["send-digests"])
    assert result.exit_code == 0 and "Digests sent: 2" in result.output
    by_recipient = {rcpt[0]: msg for rcpt, msg in smtp_sink.messages}
    assert set(by_recipient) == {world.coordinator.email, english.email}  # idle gets none
    swedish = by_recipient[world.coordinator.email].get_content()
    assert "SFI: 2 nya, 1 försenad" in swedish
    english_body = by_recipient[english.email].get_content()
    assert "SFI: 2 new, 1 overdue" in english_body
    for body in (swedish, english_body):
        assert "Hodan" not in body and "701112233" not in body
        assert world.coordinator.name not in body


def test_digest_without_smtp_host_says_so_and_succeeds(app, make, world):
    app.config["SMTP_HOST"] = None
    refer(make, world)
    result = app.test_cli_runner().invoke(args=["send-digests"])
    assert result.exit_code == 0
    assert "SMTP_HOST is not set" in result.output


def test_demo_seed_fills_the_queues_in_every_status(app):
    from app.admin.commands import create_demo

    create_demo()
    statuses = set(db.session.scalars(select(Referral.status).distinct()))
    assert statuses == set(S)
    assert db.session.scalar(select(func.count()).where(Referral.failed_attempts >= 3)) >= 1


def test_coordinator_of_several_services_sees_each_with_counts(client, make, login, world):
    second = make.service(world.org, slug="so")
    world.coordinator.services = [world.service, second]
    db.session.commit()
    late = refer(make, world, service=second)
    late.due_date = late.follow_up_date = local_today() - timedelta(days=1)
    db.session.commit()
    login(world.coordinator)
    html = client.get("/queue/").get_data(as_text=True)
    assert f"/queue/services/{world.service.id}" in html
    assert f"/queue/services/{second.id}" in html
    assert "1 försenad" in html and "1 försenade" not in html


def test_counts_agree_with_their_number(client, make, login, world):
    """Issue 18: "1 öppna · 1 nya" read wrong; each count is a plural message (ngettext)."""
    # Two services, so the overview lists them rather than sending on to the only queue.
    world.coordinator.services = [world.service, make.service(world.org, slug="so")]
    late = refer(make, world)
    late.due_date = late.follow_up_date = local_today() - timedelta(days=1)
    db.session.commit()
    login(world.coordinator)
    html = client.get("/queue/").get_data(as_text=True)
    assert "1 öppen" in html and "1 ny" in html and "1 försenad" in html
    assert "1 öppna" not in html and "1 nya" not in html
    refer(make, world)
    html = client.get("/queue/").get_data(as_text=True)
    assert "2 öppna" in html and "2 nya" in html
    page = client.get(f"/queue/services/{world.service.id}").get_data(as_text=True)
    assert "2 hänvisningar, den som ska göras först överst." in page


def test_coordinator_without_services_is_told_how_to_get_one(client, make, login, world):
    login(make.user(world.org, role=Role.COORDINATOR))
    html = client.get("/queue/").get_data(as_text=True)
    assert "Du är inte samordnare för någon tjänst ännu." in html


@pytest.mark.parametrize("action", ["attempts", "follow-up"])
def test_a_closed_referral_takes_no_attempts_or_follow_ups(client, make, login, world, action):
    referral = put_in_status(refer(make, world), S.CLOSED)
    version, follow_up = referral.version, referral.follow_up_date
    login(world.coordinator)
    data = {
        "version": version,
        "channel": "phone",
        "result": "no_answer",
        "on_date": local_today().isoformat(),
        "follow_up_date": add_working_days(local_today(), 2).isoformat(),
    }
    response = client.post(f"/queue/referrals/{referral.id}/{action}", data=data)
    assert response.status_code == 422
    assert "Hänvisningen är avslutad." in response.get_data(as_text=True)
    after = fresh(referral.id)
    assert (after.version, after.failed_attempts, after.follow_up_date) == (version, 0, follow_up)


def test_a_version_that_is_not_a_number_is_refused_as_tampering(client, make, login, world):
    referral = refer(make, world)
    login(world.coordinator)
    response = client.post(
        f"/queue/referrals/{referral.id}/status", data={"version": "x", "to_status": S.CONTACTED}
    )
    assert response.status_code == 400
    assert fresh(referral.id).status == S.NEW


# ------------------------------------------------------------------ conflict history (issue 18)


def lose_the_race(app, client, make, login, world, page: str):
    """The first coordinator moves the referral on; the second, still on version 1 on `page`,
    tries to close it and gets the 409 htmx answer."""
    second = make.user(world.org, role=Role.COORDINATOR, services=[world.service], name="Omar")
    referral = refer(make, world)
    other_client = app.test_client()
    login(world.coordinator)
    login(second, c=other_client)
    assert post_status(client, referral, S.CONTACTED, headers=HX).status_code == 200
    late = other_client.post(
        f"/queue/referrals/{referral.id}/status",
        data={"version": 1, "to_status": S.CLOSED, "outcome": Outcome.DECLINED},
        headers={**HX, "HX-Current-URL": f"http://localhost{page.format(id=referral.id)}"},
    )
    assert late.status_code == 409
    return referral, late.get_data(as_text=True)


def test_a_409_on_the_referral_page_refreshes_its_history_out_of_band(
    app, client, make, login, world
):
    referral, html = lose_the_race(app, client, make, login, world, "/queue/referrals/{id}")
    assert f'id="referral-{referral.id}"' in html  # the row, as before
    oob = '<section class="card history" id="referral-history"'
    assert oob in html and 'data-hx-swap-oob="true"' in html.split(oob)[1].split(">")[0]
    history = html.split(oob)[1]
    assert "Sara Samordnare" in history and "Kontaktad" in history  # who changed what


def test_a_409_in_a_queue_list_shows_the_history_in_the_row(app, client, make, login, world):
    referral, html = lose_the_race(
        app, client, make, login, world, f"/queue/services/{world.service.id}"
    )
    row = html.split(f'id="referral-{referral.id}"')[1]
    assert f'id="history-{referral.id}"' in row and "Sara Samordnare" in row
    assert 'id="referral-history"' not in html  # no out-of-band target on a list


def test_a_saved_action_says_so_and_refreshes_the_referral_pages_history(
    client, make, login, world
):
    referral = refer(make, world)
    login(world.coordinator)
    on_list = {**HX, "HX-Current-URL": f"http://localhost/queue/services/{world.service.id}"}
    html = post_status(client, referral, S.CONTACTED, headers=on_list).get_data(as_text=True)
    assert '<p class="flash" role="status">Ändringen är sparad.</p>' in html
    assert "history" not in html  # a list has no history to refresh
    on_page = {**HX, "HX-Current-URL": f"http://localhost/queue/referrals/{referral.id}"}
    response = post_status(client, fresh(referral.id), S.IN_PROGRESS, headers=on_page)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'role="status">Ändringen är sparad.' in html
    history = html.split('id="referral-history"')[1]
    assert "Steg: Kontaktad → Pågår" in history  # the step just saved
    # Without JavaScript the confirmation is a flash on the page the redirect leads to.
    data = {"version": fresh(referral.id).version, "to_status": S.CONTACTED}
    url = f"/queue/referrals/{referral.id}/status"
    response = client.post(url, data=data, follow_redirects=True)
    assert "Ändringen är sparad." in response.get_data(as_text=True)
