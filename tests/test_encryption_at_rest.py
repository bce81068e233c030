"""Contact details never reach the disk in plain text, on SQLite or PostgreSQL (issue 16).

A consent is recorded through the real `privacy.record_consent` with a name, phone and e-mail
made up for this run, then every file the database keeps is searched byte by byte: on SQLite
the database's directory (the file, -wal and -shm), on PostgreSQL the whole data directory,
pg_wal included, after a CHECKPOINT. No hit before the withdrawal, no hit after it. The
register extract, which needs the phone, still finds the consent, and reads are still audited.
"""

import os
import secrets
from pathlib import Path

import pytest
from sqlalchemy import select, text

from app import privacy
from app.choices import ConsentMethod
from app.extensions import db
from app.models import AuditEvent, Consent


@pytest.fixture
def world(make, login):
    org = make.org()
    site = make.site(org)
    staff = make.user(org, sites=[site])
    service = make.service(org)
    text_sv = make.consent_text(org, "sv")
    login(staff)
    return org, site, staff, service, text_sv


def unique_person() -> dict:
    """A name, phone and e-mail that exist nowhere but in this test run."""
    token = secrets.token_hex(5)
    digits = f"{secrets.randbelow(10**7):07d}"
    return {
        "name": f"Zyqvard{token}",
        "e164": f"+4670{digits}",
        "national": f"070{digits}",
        "email": f"kontakt.{token}@example.org",
    }


def record(world, person: dict) -> Consent:
    org, site, staff, service, text_sv = world
    consent = privacy.record_consent(
        site=site,
        services=[service],
        consent_text=text_sv,
        method=ConsentMethod.TABLET,
        contact=privacy.ContactInput(
            first_name=person["name"],
            phone_e164=person["e164"],
            email=person["email"],
            best_time="morning",
        ),
        language="sv",
        interpreter_needed=False,
        by=staff,
    )
    db.session.commit()
    return consent


def needles(person: dict) -> list[bytes]:
    return [
        person["name"].encode(),
        person["e164"].encode(),
        person["national"].encode(),
        person["email"].encode(),
    ]


def database_files() -> list[Path]:
    """Every file the database writes to: SQLite's directory, or PostgreSQL's data directory."""
    if db.engine.dialect.name == "sqlite":
        directory = Path(db.engine.url.database).parent
        return sorted(p for p in directory.iterdir() if p.is_file())
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        try:
            conn.execute(text("CHECKPOINT"))  # everything committed is in the heap files now
            data_dir = Path(conn.scalar(text("SHOW data_directory")))
        except Exception as error:  # any refusal means: not our server to inspect
            pytest.skip(f"PostgreSQL's data directory cannot be inspected here: {error}")
    if not data_dir.is_dir() or not os.access(data_dir, os.R_OK | os.X_OK):
        pytest.skip(f"PostgreSQL's data directory {data_dir} is not readable by this test run")
    files = []
    for root, _dirs, names in os.walk(data_dir):
        files.extend(Path(root) / name for name in names)
    return files


def hits(person: dict) -> list[str]:
    """Which of the person's details appear in which database file, in plain bytes."""
    db.session.rollback()  # no open transaction may keep a snapshot or hold the WAL back
    found = []
    for path in database_files():
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            continue  # a temporary file of the server, gone between listing and reading
        except PermissionError:
            pytest.skip(f"{path} is not readable by this test run")
        for needle in needles(person):
            if needle in data:
                found.append(f"{needle.decode()} in {path}")
    return found


def test_contact_details_are_not_on_disk_before_or_after_withdrawal(world):
    person = unique_person()
    consent = record(world, person)
    assert privacy.has_contact_details([consent.id]) == {consent.id}
    assert hits(person) == []

    privacy.withdraw(db.session.get(Consent, consent.id), by=world[2])
    assert privacy.has_contact_details([consent.id]) == set()
    assert hits(person) == []


def test_register_extract_finds_the_consent_by_code_and_phone(client, world):
    person = unique_person()
    consent = record(world, person)
    code = consent.reference_code

    response = client.post("/referrals/extract", data={"code": code, "phone": person["national"]})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert person["name"] in page and code in page

    wrong = f"0709{(int(person['national'][4:]) + 1) % 10**6:06d}"
    response = client.post("/referrals/extract", data={"code": code, "phone": wrong})
    assert response.status_code == 404
    actions = list(
        db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("register_extract%"))
        )
    )
    assert actions == ["register_extract", "register_extract_refused"]


def test_a_read_of_contact_details_writes_its_audit_event(world):
    person = unique_person()
    consent = record(world, person)
    staff = world[2]

    contact = privacy.contact_details(consent, by=staff)
    db.session.commit()
    assert (contact.first_name, contact.phone_e164, contact.email, contact.best_time) == (
        person["name"],
        person["e164"],
        person["email"],
        "morning",
    )
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "contact_read"))
    assert (event.object_id, event.user_id) == (consent.id, staff.id)
    assert person["name"] not in str(event.detail)
