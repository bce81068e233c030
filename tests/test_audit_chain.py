"""The audit log's hash chains and the database's refusals: every event follows the one before
it in its organisation's chain, `flask audit-verify` finds the first broken link, the database
refuses UPDATE, TRUNCATE and DELETE of an event within its retention (also to the app's own
runtime role on PostgreSQL), and concurrent writers never fork a chain."""

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app import audit
from app.choices import Role
from app.extensions import db
from app.models import AnonymousInterest, AuditChain, AuditEvent, Organisation, utcnow
from tests.conftest import ROOT, make_app
from tests.factories import Factory, visit_form

OLD = timedelta(days=400)


def is_pg() -> bool:
    return db.engine.dialect.name == "postgresql"


def count() -> int:
    return db.session.scalar(select(func.count(AuditEvent.id)))


def verify(app) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["audit-verify", "--batch-size", "2"])
    return result.exit_code, result.output


def chain_ids(organisation_id: int | None) -> list[int]:
    where = (
        AuditEvent.organisation_id.is_(None)
        if organisation_id is None
        else AuditEvent.organisation_id == organisation_id
    )
    return list(db.session.scalars(select(AuditEvent.id).where(where).order_by(AuditEvent.id)))


@contextmanager
def triggers_bypassed() -> Iterator[None]:
    """What only the database's owner can do: change the log behind the triggers' back."""
    connection = db.session.connection()
    if is_pg():
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
    else:
        audit.unprotect_audit_table(connection)
    yield
    if not is_pg():
        audit.protect_audit_table(connection)
    db.session.commit()


@pytest.fixture
def org(make) -> Organisation:
    return make.org(audit_retention_days=200)


def some_events(org: Organisation, n: int = 4) -> list[int]:
    for i in range(n):
        audit.record("site_updated", "site", i + 1, organisation_id=org.id, step=i)
        db.session.commit()
    return chain_ids(org.id)


# --- the chain -----------------------------------------------------------------------------


def test_the_chain_verifies_after_real_app_activity(app, client, make, login):
    org = make.org()
    site = make.site(org)
    admin = make.user(org, Role.ADMIN)
    staff = make.user(org, Role.STAFF, sites=[site])
    client.post("/login", data={"email": "nobody@example.test", "password": "x" * 12})
    client.post("/login", data={"email": staff.email, "password": "wrong password 1"})
    login(staff)
    visit = visit_form(form_key="chain-visit", visit_date=date.today().isoformat())
    assert client.post(f"/sites/{site.id}/visits", data=visit).status_code == 303
    client.post("/logout")
    login(admin)
    assert client.get("/admin/audit/export.csv").status_code == 200
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"login", "login_failed", "audit_exported"} <= actions
    assert None in set(db.session.scalars(select(AuditEvent.organisation_id)))

    code, output = verify(app)
    assert code == 0, output
    assert f"Audit chain whole: {count()} events checked." in output
    for organisation_id in (org.id, None):
        rows = db.session.execute(
            select(AuditEvent.prev_hash, AuditEvent.hash)
            .where(AuditEvent.id.in_(chain_ids(organisation_id)))
            .order_by(AuditEvent.id)
        ).all()
        assert rows[0].prev_hash == audit.GENESIS
        assert all(later.prev_hash == earlier.hash for earlier, later in zip(rows, rows[1:]))
    head = db.session.get(AuditChain, org.id)
    assert (head.head_id, head.anchor_hash) == (chain_ids(org.id)[-1], audit.GENESIS)


def test_an_edited_event_is_reported_and_no_other(app, org):
    ids = some_events(org)
    assert verify(app)[0] == 0
    with triggers_bypassed():
        db.session.execute(
            text("UPDATE audit_event SET detail = :d WHERE id = :id"),
            {"d": '{"step": 99}', "id": ids[1]},
        )
    code, output = verify(app)
    assert code == 1
    assert f"Audit chain broken at event {ids[1]}: its content does not match" in output


def test_a_removed_event_and_a_removed_tail_are_reported(app, org):
    ids = some_events(org)
    with triggers_bypassed():
        db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": ids[1]})
    code, output = verify(app)
    assert code == 1 and f"broken at event {ids[2]}: it does not follow event {ids[0]}" in output

    with triggers_bypassed():
        db.session.execute(text("DELETE FROM audit_event WHERE id >= :id"), {"id": ids[1]})
    code, output = verify(app)
    assert code == 1 and f"ends at event {ids[0]}, but its newest event was {ids[3]}" in output


def test_events_of_one_transaction_and_several_chains_follow_each_other(app, make, org):
    other = make.org()
    db.session.add_all(
        [
            AuditEvent(organisation_id=org.id, action="login", detail={"n": (1, 2)}),
            AuditEvent(organisation_id=other.id, action="login"),
            AuditEvent(organisation_id=None, action="login_failed"),
            AuditEvent(organisation_id=org.id, action="logout", detail={3: "x"}),
        ]
    )
    db.session.flush()  # held back: nothing reaches the table before the commit
    assert count() == 0
    db.session.commit()
    assert [len(chain_ids(o)) for o in (org.id, other.id, None)] == [2, 1, 1]
    assert verify(app)[0] == 0


def test_a_rolled_back_event_is_never_appended(app, org):
    audit.record("login", "user", 1, organisation_id=org.id)
    db.session.flush()
    db.session.rollback()
    audit.record("logout", "user", 1, organisation_id=org.id)
    db.session.commit()
    assert list(db.session.scalars(select(AuditEvent.action))) == ["logout"]
    assert verify(app)[0] == 0


def test_the_chain_lock_is_the_last_lock_of_a_commit(app):
    """app.stats.cache raises the organisation's version before COMMIT; the chain's row must be
    locked after that, or two writers could each hold what the other waits for."""
    listeners = list(Session.dispatch.before_commit._clslevel[Session])
    assert listeners[-1] is audit._append_held_events


# --- the database's refusals ---------------------------------------------------------------


def refused(statement: str, **params) -> None:
    with pytest.raises(DBAPIError):
        db.session.execute(text(statement), params)
        db.session.flush()
    db.session.rollback()


def test_deleting_a_young_event_is_refused(app, org):
    some_events(org, 2)
    refused("DELETE FROM audit_event WHERE action = 'site_updated'")
    assert count() == 2


def test_deleting_every_event_is_refused_even_with_old_ones_among_them(app, org):
    db.session.add_all(
        [
            AuditEvent(organisation_id=org.id, action="login", at=utcnow() - OLD),
            AuditEvent(organisation_id=org.id, action="logout"),
            AuditEvent(organisation_id=None, action="login_failed"),
        ]
    )
    db.session.commit()
    refused("DELETE FROM audit_event")
    refused("DELETE FROM audit_event WHERE organisation_id IS NULL")
    assert count() == 3


def test_truncate_is_refused(app, org):
    if not is_pg():
        pytest.skip("SQLite has no TRUNCATE; its DELETE of every row is refused instead")
    some_events(org, 1)
    refused("TRUNCATE audit_event")
    refused("TRUNCATE organisation CASCADE")  # which would take the log with it
    assert count() == 1


def test_update_is_still_refused(app, org):
    some_events(org, 1)
    refused("UPDATE audit_event SET hash = NULL")
    assert verify(app)[0] == 0


# --- retention -----------------------------------------------------------------------------


def test_the_purge_still_works_and_the_chain_verifies_after_it(app, make, org):
    keeps_long = make.org(audit_retention_days=3000)
    old = utcnow() - OLD
    db.session.add_all(
        [
            AuditEvent(organisation_id=org.id, action="login", at=old),
            AuditEvent(organisation_id=keeps_long.id, action="login", at=old),
            AuditEvent(organisation_id=org.id, action="logout", at=old),
            AuditEvent(organisation_id=None, action="login_failed", at=old),
            AuditEvent(organisation_id=org.id, action="login"),
        ]
    )
    db.session.commit()
    kept_first = chain_ids(org.id)[-1]
    removed_head = db.session.get(AuditChain, audit.NO_ORGANISATION).head_hash

    assert audit.purge_old_events() == 3
    assert chain_ids(org.id) == [kept_first] and len(chain_ids(keeps_long.id)) == 1
    anchor = db.session.get(AuditChain, org.id).anchor_hash
    assert anchor == db.session.get(AuditEvent, kept_first).prev_hash != audit.GENESIS
    # The chain without an organisation lost every event; its purge event follows the old head.
    (purge,) = db.session.scalars(select(AuditEvent).where(AuditEvent.organisation_id.is_(None)))
    assert purge.action == "audit_purge" and purge.prev_hash == removed_head
    assert verify(app)[0] == 0

    audit.record("login", "user", 1, organisation_id=org.id)
    db.session.commit()
    code, output = verify(app)
    assert code == 0 and "Audit chain whole: 4 events checked." in output


def test_removing_the_chains_beginning_around_the_purge_is_reported(app, org):
    ids = some_events(org, 3)
    with triggers_bypassed():
        db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": ids[0]})
    code, output = verify(app)
    assert code == 1 and f"broken at event {ids[1]}: it does not follow the anchor" in output


# --- concurrency (PostgreSQL) --------------------------------------------------------------


def test_concurrent_writers_leave_one_unforked_chain(app, make, org):
    """Four threads on four connections write to one organisation's chain at once. Two only
    record events; one also changes the organisation row (as the settings do) and one adds
    anonymous interest (whose commit raises the statistics' version of that row): with the
    chain's lock taken last this neither forks the chain nor deadlocks."""
    if not is_pg():
        pytest.skip("SQLite runs one writer at a time (BEGIN IMMEDIATE)")
    # Plain ids: the threads must not touch this thread's session (nor its expired objects).
    org_id, site_id, service_id = org.id, make.site(org).id, make.service(org).id
    rounds, errors = 20, []
    start = threading.Barrier(4)

    def plain_writer() -> None:
        for _ in range(rounds):
            audit.record("contact_read", "consent", 1, organisation_id=org_id)
            audit.record("login_failed", "user", None, organisation_id=None)
            db.session.commit()

    def settings_writer() -> None:
        for i in range(rounds):
            db.session.get(Organisation, org_id).kiosk_idle_seconds = 100 + i
            audit.record("settings_updated", "organisation", org_id, organisation_id=org_id)
            db.session.commit()

    def interest_writer() -> None:
        for _ in range(rounds):
            interest = AnonymousInterest(
                organisation_id=org_id,
                site_id=site_id,
                service_id=service_id,
                language="ar",
                on_date=date.today(),
            )
            db.session.add(interest)
            audit.record("consent_refused", "service", service_id, organisation_id=org_id)
            db.session.commit()

    def run(target) -> None:
        with app.app_context():
            start.wait()
            try:
                target()
            except Exception as error:  # reported below: a thread's exception is otherwise lost
                errors.append(error)

    writers = (plain_writer, plain_writer, settings_writer, interest_writer)
    threads = [threading.Thread(target=run, args=(w,)) for w in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    db.session.expire_all()
    assert len(chain_ids(org_id)) == 4 * rounds and len(chain_ids(None)) == 2 * rounds
    links = db.session.execute(select(AuditEvent.organisation_id, AuditEvent.prev_hash)).all()
    assert len(set(links)) == len(links)  # a fork is two events after the same one
    code, output = verify(app)
    assert code == 0, output


# --- the migration -------------------------------------------------------------------------


def test_the_migration_chains_existing_events_and_adds_the_refusals(empty_database_url, tmp_path):
    from flask_migrate import downgrade, upgrade

    app = make_app(empty_database_url, tmp_path)
    migrations = str(ROOT / "migrations")
    with app.app_context():
        upgrade(directory=migrations)
        downgrade(directory=migrations, revision="0005")
        with db.engine.begin() as conn:
            # The table as it stood at 0005 (later columns do not exist yet), with the
            # model's defaults for the columns it had.
            old = sa.Table("organisation", sa.MetaData(), autoload_with=conn)
            defaults = {
                c.name: c.default.arg
                for c in Organisation.__table__.c
                if c.name in old.c and c.default is not None and not callable(c.default.arg)
            }
            conn.execute(old.insert().values(**{**defaults, "name": "K", "slug": "k"}))
            org_id = conn.scalar(text("SELECT id FROM organisation"))
            for n, org in enumerate([org_id, None, org_id, org_id]):
                conn.execute(
                    text(
                        "INSERT INTO audit_event (at, organisation_id, action, detail) "
                        "VALUES (:at, :org, 'login', :detail)"
                    ),
                    {"at": utcnow(), "org": org, "detail": f'{{"n": {n}, "ä": "å"}}'},
                )
        upgrade(directory=migrations)
        code, output = verify(app)
        assert code == 0 and "Audit chain whole: 4 events checked." in output, output
        assert db.session.get(AuditChain, org_id).head_id == 4
        refused("DELETE FROM audit_event")
        refused("UPDATE audit_event SET action = 'x'")
        audit.record("logout", "user", 1, organisation_id=org_id)
        db.session.commit()
        assert verify(app)[0] == 0
        db.session.remove()
        db.engine.dispose()


# --- the app's own database role (PostgreSQL) ------------------------------------------------


@pytest.fixture
def runtime_app(app, migrated, tmp_path):
    """The app as production runs it: connected as a role that owns nothing. The tables belong
    to the migration owner (the tests' superuser); the role may read and write rows only."""
    if not is_pg():
        pytest.skip("roles and grants are PostgreSQL's; SQLite has the file's owner only")
    role = f"bro_runtime_{uuid.uuid4().hex[:10]}"
    schema = db.session.scalar(text("SELECT current_schema()"))
    grants = [
        f"CREATE ROLE {role} LOGIN",
        f'GRANT USAGE ON SCHEMA "{schema}" TO {role}',
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO {role}',
        f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA "{schema}" TO {role}',
    ]
    for statement in grants:
        db.session.execute(text(statement))
    db.session.commit()
    url = make_url(migrated).set(username=role).render_as_string(hide_password=False)
    runtime = make_app(url, tmp_path)
    try:
        with runtime.app_context():
            assert db.session.scalar(text("SELECT current_user")) == role
            yield runtime
            db.session.remove()
            db.engine.dispose()
    finally:
        with app.app_context():
            db.session.remove()
            db.session.execute(text(f"DROP OWNED BY {role}"))
            db.session.execute(text(f"DROP ROLE {role}"))
            db.session.commit()


def test_the_runtime_role_can_work_but_not_erase_the_log(runtime_app):
    make = Factory(db.session)
    org = make.org(audit_retention_days=200)
    site = make.site(org)
    staff = make.user(org, Role.STAFF, sites=[site])
    db.session.add(AuditEvent(organisation_id=org.id, action="login", at=utcnow() - OLD))
    db.session.commit()
    client = runtime_app.test_client()
    response = client.post("/login", data={"email": staff.email, "password": Factory.PASSWORD})
    assert response.status_code == 303
    visit = visit_form(form_key="runtime-visit", visit_date=date.today().isoformat())
    assert client.post(f"/sites/{site.id}/visits", data=visit).status_code == 303

    refused("TRUNCATE audit_event")
    refused("DROP TRIGGER audit_event_retention ON audit_event")
    refused("ALTER TABLE audit_event DISABLE TRIGGER ALL")
    refused("SET session_replication_role = replica")
    refused("DELETE FROM audit_event WHERE action = 'login' AND at > now() - interval '1 day'")
    refused("UPDATE audit_event SET detail = NULL")
    # A temporary table found before the real one must not lend the trigger a retention of 0.
    org_id = org.id
    db.session.execute(text("CREATE TEMP TABLE organisation (id int, audit_retention_days int)"))
    db.session.execute(text("INSERT INTO organisation VALUES (:id, 0)"), {"id": org_id})
    refused("DELETE FROM audit_event WHERE at > now() - interval '1 day'")

    assert audit.purge_old_events() == 1
    assert db.session.scalar(select(func.count(AuditEvent.id))) >= 2  # the sign-in and the purge
    code, output = verify(runtime_app)
    assert code == 0, output
