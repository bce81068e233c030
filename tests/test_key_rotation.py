"""The contact details' keys (app/crypto.py) and their use by app/privacy.py: where the key
file is made, what a ciphertext is bound to, `flask rotate-keys` with the destruction of old
keys (crypto-shredding), the VACUUM after an erasure on PostgreSQL, and migration 0005."""

import json
import stat
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text

from app import crypto, privacy
from app.audit import ACTION_LABELS
from app.extensions import db
from app.models import AuditEvent, Consent, ContactDetails, utcnow
from tests.conftest import ROOT, make_app


@pytest.fixture
def world(make):
    org = make.org()
    site = make.site(org)
    staff = make.user(org, sites=[site])
    service = make.service(org)
    text_sv = make.consent_text(org)
    return org, site, staff, service, text_sv


def consent_of(make, world, name="Fatima", phone="+46701234567") -> Consent:
    _org, site, staff, service, text_sv = world
    return make.referral_consent(
        site, [service], by=staff, first_name=name, phone=phone, consent_text=text_sv
    )


def key_file_data(app) -> dict:
    return json.loads(Path(app.config["CONTACT_KEY_FILE"]).read_text())


def test_key_file_is_made_on_first_use_for_the_owner_only(app, tmp_path, make, world):
    path = Path(app.config["CONTACT_KEY_FILE"])
    assert path.is_relative_to(tmp_path) and not path.exists()
    consent_of(make, world)
    assert crypto.key_file() == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    keys = key_file_data(app)["keys"]
    assert len(keys) == 1 and keys[0]["retired_at"] is None
    row = db.session.get(ContactDetails, db.session.scalar(select(Consent.id)))
    assert row.key_id == keys[0]["id"]


def test_without_a_configured_file_the_keys_live_in_the_instance_folder(app, tmp_path):
    app.config["CONTACT_KEY_FILE"] = None
    app.instance_path = str(tmp_path / "instance")
    assert crypto.key_file() == tmp_path / "instance" / "keys" / "contact-keys.json"


def test_stored_values_are_ciphertext_and_the_phone_a_keyed_hash(make, world):
    first = consent_of(make, world, name="Warsame", phone="+46701740611")
    second = consent_of(make, world, name="Warsame", phone="+46701740611")
    rows = [db.session.get(ContactDetails, c.id) for c in (first, second)]
    for row in rows:
        assert b"Warsame" not in row.first_name_enc and b"0611" not in row.phone_enc
        assert len(row.phone_hmac) == 32
    # Random nonces: the same name twice gives two different ciphertexts ...
    assert rows[0].first_name_enc != rows[1].first_name_enc
    # ... while the keyed hash of one number is one value, which is what a lookup needs.
    assert rows[0].phone_hmac == rows[1].phone_hmac
    indexes = inspect(db.engine).get_indexes("contact_details")
    assert any(ix["column_names"] == ["phone_hmac"] for ix in indexes)


def test_a_ciphertext_moved_to_another_row_or_field_does_not_open(make, world):
    staff = world[2]
    first = consent_of(make, world, name="Ayaan")
    second = consent_of(make, world, name="Bashir")
    row_a = db.session.get(ContactDetails, first.id)
    row_b = db.session.get(ContactDetails, second.id)
    row_b.first_name_enc = row_a.first_name_enc  # another row's name
    row_a.first_name_enc = row_a.phone_enc  # another field of the same row
    db.session.commit()
    for consent in (first, second):
        with pytest.raises(crypto.UndecryptableValue):
            privacy.contact_details(consent, by=staff)
        db.session.rollback()


def test_rotate_keys_re_encrypts_every_row_and_audits_it(app, make, world):
    org, _site, staff, _service, _text = world
    consent = consent_of(make, world, name="Hodan", phone="+46701740622")
    before = db.session.get(ContactDetails, consent.id)
    old_key, old_hash = before.key_id, before.phone_hmac

    result = app.test_cli_runner().invoke(args=["rotate-keys"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted: 1" in result.output and "Keys destroyed: none" in result.output

    db.session.expire_all()
    row = db.session.get(ContactDetails, consent.id)
    keys = {k["id"]: k for k in key_file_data(app)["keys"]}
    assert row.key_id != old_key and keys[row.key_id]["retired_at"] is None
    assert keys[old_key]["retired_at"] is not None  # retired with a time, kept for backups
    assert row.phone_hmac != old_hash  # recomputed under the new key
    assert privacy.contact_details(consent, by=staff).first_name == "Hodan"
    assert privacy.find_for_extract(org, consent.reference_code, "070-174 06 22") == consent
    assert privacy.find_for_extract(org, consent.reference_code, "0701740623") is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "keys_rotated"))
    assert event.detail["key"] == row.key_id and event.detail["rows"] == 1
    assert "keys_rotated" in ACTION_LABELS


def test_keys_retired_longer_than_the_backup_retention_are_destroyed(app, make, world):
    staff = world[2]
    consent = consent_of(make, world, name="Sahra")
    first = db.session.get(ContactDetails, consent.id)
    first_key = crypto.keyring().get(first.key_id)
    # What a backup taken now would hold: the ciphertext under the first key.
    backup = (first.consent_id, first.key_id, first.first_name_enc)
    first_material = key_file_data(app)["keys"][0]["aead"]

    start = utcnow()
    privacy.rotate_keys(now=start, retention_days=35)  # the first key is retired
    kept = privacy.rotate_keys(now=start + timedelta(days=34), retention_days=35)
    assert kept["destroyed"] == []
    assert (
        privacy.opened_columns(
            backup[0], crypto.keyring().get(backup[1]), _only_name(backup[2])
        ).first_name
        == "Sahra"
    )  # within the retention a restored backup is still readable

    gone = privacy.rotate_keys(now=start + timedelta(days=36), retention_days=35)
    assert gone["destroyed"] == [first_key.id]
    raw = Path(app.config["CONTACT_KEY_FILE"]).read_text()
    assert first_key.id not in raw and first_material not in raw
    assert len(key_file_data(app)["keys"]) == 3  # the current and the two retired since
    with pytest.raises(crypto.KeyUnavailable):
        crypto.keyring().get(backup[1])
    db.session.expire_all()
    assert privacy.contact_details(consent, by=staff).first_name == "Sahra"
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "keys_rotated"))
    assert [e.detail["destroyed"] for e in events] == [[], [], [first_key.id]]


def _only_name(first_name_enc: bytes) -> dict:
    return {column: None for column in privacy.SEALED_COLUMNS.values()} | {
        "first_name_enc": first_name_enc
    }


def test_a_worker_sees_a_rotation_made_by_another_process(app, make, world):
    consent_of(make, world)
    seen = crypto.keyring().current.id
    privacy.rotate_keys()
    path = Path(app.config["CONTACT_KEY_FILE"])
    data = json.loads(path.read_text())
    assert crypto.keyring().current.id != seen
    assert crypto.keyring().current.id == next(k["id"] for k in data["keys"] if not k["retired_at"])


# -- PostgreSQL: the VACUUM after an erasure ---------------------------------------------------


def test_vacuum_after_erasure_by_a_role_that_does_not_own_the_table_does_not_raise(
    app, make, world, caplog
):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("VACUUM after erasure is PostgreSQL's; SQLite checkpoints its WAL instead")
    staff = world[2]
    consent = consent_of(make, world)
    role = f"bro_reader_{uuid.uuid4().hex[:8]}"
    schema = db.session.scalar(text("SELECT current_schema()"))
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"'))
    try:
        privacy.withdraw(consent, by=staff)
        url = db.engine.url.set(username=role)
        other = make_app(url.render_as_string(hide_password=False), Path("unused"))
        with other.app_context():
            privacy.checkpoint_after_erasure()  # the server warns; nothing is raised
            db.engine.dispose()
        assert "VACUUM after erasure failed" not in caplog.text
    finally:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'REVOKE ALL ON SCHEMA "{schema}" FROM "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))


# -- migration 0005 ------------------------------------------------------------------------


OLD_ROWS = [
    # One statement each, in the columns revision 0004 has.
    "INSERT INTO organisation (id, name, slug, legal_basis, retention_days_after_close, "
    "max_open_days, first_contact_working_days, unreachable_after_attempts, "
    "suppression_threshold, audit_retention_days, kiosk_idle_seconds, require_2fa) "
    "VALUES (1, 'Kommun', 'kommun', 'consent', 30, 90, 5, 3, 5, 365, 120, false)",
    "INSERT INTO site (id, organisation_id, name, is_active) VALUES (1, 1, 'Norr', true)",
    "INSERT INTO consent_text (id, organisation_id, version, locale, legal_basis, body, status, "
    "created_at) VALUES (1, 1, 1, 'sv', 'consent', 'Text', 'published', '2026-01-01')",
    "INSERT INTO consent (id, organisation_id, site_id, consent_text_id, locale_shown, method, "
    "data_processing_agreed, disclosure_agreed, reference_code, given_at) VALUES "
    "(1, 1, 1, 1, 'sv', 'tablet', true, true, 'ABCD-EFGH', '2026-01-01'), "
    "(2, 1, 1, 1, 'sv', 'tablet', true, true, 'ABCD-EFGJ', '2026-01-01')",
    "INSERT INTO contact_details (consent_id, first_name, phone_e164, email, best_time) VALUES "
    "(1, 'Zainab', '+46701740633', 'z@example.org', 'morning'), "
    "(2, 'Yusuf', NULL, NULL, NULL)",
]


def test_migration_0005_encrypts_existing_rows_and_0004_gets_them_back(
    empty_database_url, tmp_path
):
    app = make_app(empty_database_url, tmp_path)
    directory = str(ROOT / "migrations")
    with app.app_context():
        upgrade(directory=directory, revision="0004")
        with db.engine.begin() as conn:
            for statement in OLD_ROWS:
                conn.execute(text(statement))
        upgrade(directory=directory, revision="0005")

        columns = {c["name"] for c in inspect(db.engine).get_columns("contact_details")}
        assert {"first_name", "phone_e164", "email", "best_time"}.isdisjoint(columns)
        ring = crypto.keyring()
        rows = {r.consent_id: r for r in db.session.scalars(select(ContactDetails))}
        values = {c: getattr(rows[1], c) for c in privacy.SEALED_COLUMNS.values()}
        assert privacy.opened_columns(1, ring.get(rows[1].key_id), values) == (
            privacy.ContactInput("Zainab", "+46701740633", "z@example.org", "morning")
        )
        assert rows[2].phone_enc is None and rows[2].phone_hmac is None
        # What the register extract compares (no ORM on other tables: later revisions may
        # add columns this schema does not have).
        key = ring.get(rows[1].key_id)
        assert rows[1].phone_hmac == key.keyed_hash(privacy.PHONE_PURPOSE, "+46701740633")
        db.session.rollback()

        downgrade(directory=directory, revision="0004")
        with db.engine.connect() as conn:
            back = conn.execute(
                text("SELECT first_name, phone_e164 FROM contact_details ORDER BY consent_id")
            ).all()
        assert [tuple(r) for r in back] == [("Zainab", "+46701740633"), ("Yusuf", None)]
        db.session.remove()
        db.engine.dispose()
