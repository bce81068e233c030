"""The outbox (issue 21): messages to a visitor are queued in the request and sent later by
`flask send-outbox`, through a real local HTTP server standing in for the SMS provider and a
real local SMTP server for e-mail; every delivery is asserted from what they received."""

import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from babel.dates import format_date, format_time
from sqlalchemy import select

from app import outbox, privacy
from app.admin.consent_versions import (
    MESSAGE_SEED_FILE,
    next_version,
    seed_message_texts,
)
from app.choices import (
    ConsentPurpose,
    ConsentTextStatus,
    EventKind,
    MessageChannel,
    MessageKind,
    MessageStatus,
    Role,
)
from app.extensions import db
from app.models import (
    AuditEvent,
    Consent,
    ConsentText,
    OutboxMessage,
    Referral,
    ReferralEvent,
    ServiceTranslation,
    utcnow,
)
from app.workdays import local_today
from tests.security_world import sign_in_as
from tests.test_queue import smtp_sink  # noqa: F401 (the local SMTP server, a fixture)

EIGHT = ("sv", "en", "ar", "fa", "so", "ti", "uk", "ckb")
SEED = json.loads(MESSAGE_SEED_FILE.read_text())


# --------------------------------------------------------------------------- the provider


class Provider(BaseHTTPRequestHandler):
    """Answers as 46elks or Twilio would, or fails as told; records every request."""

    def do_POST(self):
        server = self.server
        length = int(self.headers.get("Content-Length", 0))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        seen = {"path": self.path, "headers": dict(self.headers), "form": form, "answered": 0}
        with server.lock:
            server.requests.append(seen)
            mode = server.mode
        if mode == "hang":
            time.sleep(server.hang_seconds)
            return  # the client gave up long ago
        if server.delay:
            time.sleep(server.delay)
        if mode == "down":
            status, answer = 500, {"message": "Internal error"}
        elif mode == "reject":
            status = 400
            answer = {"code": 21211, "message": f"The 'To' number {form.get('To')} is not valid."}
        elif server.shape == "twilio":
            status, answer = 201, {"sid": f"SM{len(server.requests):032d}", "status": "queued"}
        else:
            status, answer = 200, {"id": f"s{len(server.requests):08d}", "status": "created"}
        body = json.dumps(answer).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            seen["answered"] = status
        except OSError:
            pass

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def app_config():
    return {"SMS_TIMEOUT_SECONDS": 0.5}


@pytest.fixture
def sms(app):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    server.daemon_threads = True
    server.requests, server.lock = [], threading.Lock()
    server.mode, server.shape, server.delay, server.hang_seconds = "ok", "46elks", 0, 1.5
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config.update(
        SMS_PROVIDER="46elks",
        SMS_API_URL=f"http://127.0.0.1:{server.server_address[1]}",
        SMS_API_USER="u123",
        SMS_API_PASSWORD="secret",
        SMS_FROM="Bro",
    )

    def use(shape):
        server.shape = shape
        app.config["SMS_PROVIDER"] = shape

    server.use = use
    yield server
    server.shutdown()
    server.server_close()


def delivered(server) -> list[dict]:
    return [r for r in server.requests if 200 <= r["answered"] < 300]


def text_of(request: dict) -> str:
    return request["form"].get("message") or request["form"].get("Body")


def to_of(request: dict) -> str:
    return request["form"].get("to") or request["form"].get("To")


# --------------------------------------------------------------------------- the world


@dataclass
class World:
    org: object
    site: object
    service: object
    other: object
    staff: object
    partner_user: object
    text: object


@pytest.fixture
def world(make):
    org = make.org()
    site = make.site(org, name="Öppna förskolan Ekorren")
    service = make.service(org, slug="sfi", phone="08-111 11 11", address="Skolgatan 2")
    other = make.service(org, slug="forskola")
    staff = make.user(org, sites=[site])
    text = make.consent_text(org)
    seed_message_texts(org)
    partner = make.partner(org, [service], phone="08-222 22 22")
    partner_user = make.partner_user(partner)
    db.session.commit()
    return World(org, site, service, other, staff, partner_user, text)


def consent_for(make, w: World, language="ar", channel=MessageChannel.SMS, services=None, **kw):
    return make.referral_consent(
        w.site,
        services or [w.service],
        by=w.staff,
        language=language,
        message_channel=channel,
        **{"consent_text": w.text, **kw},
    )


def confirm(consent: Consent) -> OutboxMessage | None:
    message = outbox.queue_confirmation(consent)
    db.session.commit()
    return message


def book(w: World, referral: Referral, at=datetime(2026, 12, 8, 13, 30), place="Rum 4"):
    referral.appointment_at, referral.appointment_place = at, place
    event = ReferralEvent(kind=EventKind.PARTNER, by_id=w.partner_user.id)
    referral.events.append(event)
    db.session.flush()
    message = outbox.queue_booking(referral, event)
    db.session.commit()
    return message, event


def publish(org, purpose, locale, body) -> ConsentText:
    text = ConsentText(
        organisation_id=org.id,
        purpose=purpose,
        locale=locale,
        version=next_version(org.id, locale, purpose),
        body=body,
        status=ConsentTextStatus.PUBLISHED,
        published_at=utcnow(),
    )
    db.session.add(text)
    db.session.commit()
    return text


def stored(message_id: int) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


def later(minutes: float = 0) -> datetime:
    return utcnow() + timedelta(minutes=minutes)


# --------------------------------------------------------------------------- the texts


@pytest.mark.parametrize("locale", EIGHT)
def test_confirmation_arrives_in_her_language_with_its_placeholders_filled(
    make, world, sms, locale
):
    consent = consent_for(make, world, language=locale, services=[world.service, world.other])
    confirm(consent)
    assert not sms.requests  # queued only: nothing goes out before send-outbox runs

    assert outbox.send_outbox()["sent"] == 1
    (request,) = delivered(sms)
    assert request["path"] == "/a1/sms"
    assert to_of(request) == "+46701234567"
    reader = "sv" if locale == "sv" else locale
    services = outbox.format_list(["SFI", "FORSKOLA"], locale=reader)
    assert text_of(request) == SEED["message_confirmation"][locale].format(
        code=consent.reference_code, services=services, site="Öppna förskolan Ekorren"
    )


@pytest.mark.parametrize("locale", EIGHT)
def test_booking_arrives_in_her_language_with_date_time_place_and_phone(make, world, sms, locale):
    referral = consent_for(make, world, language=locale).referrals[0]
    book(world, referral)  # 13:30 UTC on 8 December: 14:30 in Stockholm
    outbox.send_outbox()
    (request,) = delivered(sms)
    expected = SEED["message_booked"][locale].format(
        service="SFI",
        date=format_date(datetime(2026, 12, 8), "full", locale=locale),
        time=format_time(datetime(2026, 12, 8, 14, 30).time(), "short", locale=locale),
        place="Rum 4",
        phone="08-222 22 22",  # the partner organisation of the user who booked
        code=referral.consent.reference_code,
    )
    assert text_of(request) == expected
    if locale == "sv":
        assert "tisdag 8 december 2026 kl. 14:30" in text_of(request)


def test_the_newest_published_text_is_used_and_a_draft_is_not(make, world, sms):
    publish(world.org, ConsentPurpose.MESSAGE_CONFIRMATION, "so", "Ku cusub {code}.")
    db.session.add(
        ConsentText(
            organisation_id=world.org.id,
            purpose=ConsentPurpose.MESSAGE_CONFIRMATION,
            locale="so",
            version=next_version(world.org.id, "so", ConsentPurpose.MESSAGE_CONFIRMATION),
            body="Draft {code}.",
            status=ConsentTextStatus.DRAFT,
        )
    )
    db.session.commit()
    consent = confirm_and_send(make, world, sms, language="so")
    assert text_of(delivered(sms)[0]) == f"Ku cusub {consent.reference_code}."


def confirm_and_send(make, world, sms, **kw) -> Consent:
    consent = consent_for(make, world, **kw)
    confirm(consent)
    outbox.send_outbox()
    return consent


def test_swedish_text_when_none_is_published_in_her_language_and_service_names_in_hers(
    make, world, sms
):
    db.session.execute(
        ConsentText.__table__.delete().where(
            ConsentText.purpose == ConsentPurpose.MESSAGE_CONFIRMATION, ConsentText.locale == "uk"
        )
    )
    db.session.add(ServiceTranslation(service_id=world.service.id, locale="so", name="Iskuul"))
    db.session.commit()
    consent = confirm_and_send(make, world, sms, language="uk")
    assert text_of(delivered(sms)[0]).startswith("Hej! Öppna förskolan Ekorren har skickat")
    somali = confirm_and_send(make, world, sms, language="so")
    assert "Iskuul" in text_of(delivered(sms)[1]) and somali.reference_code in text_of(
        delivered(sms)[1]
    )
    assert consent.reference_code in text_of(delivered(sms)[0])


def test_easy_swedish_when_she_was_shown_the_consent_in_it(make, world, sms):
    easy = make.consent_text(world.org, "sv-ll")
    confirm_and_send(make, world, sms, language="sv", consent_text=easy)
    assert "De ringer eller skriver till dig" in text_of(delivered(sms)[0])


def test_no_text_at_all_queues_nothing(make, world, sms):
    db.session.execute(
        ConsentText.__table__.delete().where(
            ConsentText.purpose == ConsentPurpose.MESSAGE_CONFIRMATION
        )
    )
    db.session.commit()
    assert confirm(consent_for(make, world)) is None
    assert db.session.scalar(select(OutboxMessage.id)) is None


def test_no_channel_no_message(make, world, sms):
    assert confirm(consent_for(make, world, channel=None)) is None
    referral = consent_for(make, world, channel=None).referrals[0]
    assert book(world, referral)[0] is None
    assert db.session.scalar(select(OutboxMessage.id)) is None


def test_booking_names_the_services_phone_when_the_booker_has_no_partner(make, world, sms):
    referral = consent_for(make, world, language="en").referrals[0]
    coordinator = make.user(world.org, role=Role.COORDINATOR, services=[world.service])
    referral.appointment_at = datetime(2026, 12, 8, 9, 0)
    event = ReferralEvent(kind=EventKind.PARTNER, by_id=coordinator.id)
    referral.events.append(event)
    db.session.flush()
    outbox.queue_booking(referral, event)
    db.session.commit()
    outbox.send_outbox()
    body = text_of(delivered(sms)[0])
    assert "Call 08-111 11 11" in body and "Skolgatan 2" in body  # no place: the address


def test_queueing_one_message_twice_stores_one(make, world, sms):
    consent = consent_for(make, world)
    first = confirm(consent)
    second = confirm(db.session.get(Consent, consent.id))
    assert first.id == second.id
    referral = consent.referrals[0]
    booked, event = book(world, referral)
    assert outbox.queue_booking(referral, event).id == booked.id
    db.session.commit()
    keys = db.session.scalars(select(OutboxMessage.idempotency_key).order_by(OutboxMessage.id))
    assert list(keys) == [f"confirmation:{consent.id}", f"booked:{event.id}"]
    queued = db.session.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "message_queued")
    ).all()
    assert [d["kind"] for d in queued] == [MessageKind.CONFIRMATION, MessageKind.BOOKED]
    assert all(d["channel"] == "sms" for d in queued)


def test_the_unique_key_backs_the_check(make, world, sms):
    consent = consent_for(make, world)
    message = confirm(consent)
    # A second request that checked before the first committed: the unique index answers.
    again = privacy.queue_message(
        consent,
        kind=MessageKind.CONFIRMATION,
        locale="ar",
        idempotency_key=f"confirmation:{consent.id}",
        body="x",
    )
    assert again.id == message.id
    db.session.commit()
    assert db.session.scalar(select(db.func.count(OutboxMessage.id))) == 1


# --------------------------------------------------------------------------- sealing


def test_recipient_and_text_are_sealed_and_bound_to_their_row(make, world, sms):
    consent = consent_for(make, world, phone="+46709998877")
    message = stored(confirm(consent).id)
    assert b"+46709998877" not in message.recipient_enc
    assert consent.reference_code.encode() not in message.body_enc
    other = stored(confirm(consent_for(make, world)).id)
    other.recipient_enc = message.recipient_enc  # a ciphertext moved to another row
    db.session.commit()
    with pytest.raises(Exception, match="does not decrypt"):
        privacy._open_message(stored(other.id))


def test_key_rotation_moves_queued_messages_to_the_new_key(make, world, sms):
    message = confirm(consent_for(make, world))
    old_key = stored(message.id).key_id
    result = privacy.rotate_keys()
    assert result["messages"] == 1
    assert stored(message.id).key_id == result["key"] != old_key
    outbox.send_outbox()
    assert to_of(delivered(sms)[0]) == "+46701234567"


# --------------------------------------------------------------------------- sending


@pytest.mark.parametrize("shape", ["46elks", "twilio"])
def test_each_providers_request_shape(make, world, sms, shape):
    sms.use(shape)
    consent = consent_for(make, world)
    message = confirm(consent)
    outbox.send_outbox()
    (request,) = sms.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["idempotency-key"] == f"confirmation:{consent.id}"
    assert headers["authorization"] == "Basic dTEyMzpzZWNyZXQ="  # u123:secret
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    if shape == "46elks":
        assert request["path"] == "/a1/sms"
        assert set(request["form"]) == {"from", "to", "message"}
        assert request["form"]["from"] == "Bro"
        assert stored(message.id).provider_ref == "s00000001"
    else:
        assert request["path"] == "/2010-04-01/Accounts/u123/Messages.json"
        assert set(request["form"]) == {"To", "From", "Body"}
        assert request["form"]["From"] == "Bro"
        assert stored(message.id).provider_ref.startswith("SM")
    assert to_of(request) == "+46701234567"


def test_a_sent_message_keeps_no_recipient_or_text(make, world, sms):
    message = confirm(consent_for(make, world))
    assert outbox.send_outbox() == {
        "sent": 1,
        "failed": 0,
        "retried": 0,
        "released": 0,
        "waiting": 0,
    }
    row = stored(message.id)
    assert row.status == MessageStatus.SENT and row.sent_at is not None
    assert row.recipient_enc is None and row.body_enc is None and row.key_id is None
    assert row.attempts == 1
    sent = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "message_sent"))
    assert sent.user_id is None and sent.object_id == message.id
    assert sent.detail == {"kind": "confirmation", "channel": "sms", "attempt": 1}
    assert outbox.send_outbox()["sent"] == 0  # and never again
    assert len(sms.requests) == 1


def test_provider_down_then_timing_out_then_up_sends_each_message_once(make, world, sms):
    consents = [consent_for(make, world) for _ in range(3)]
    messages = [confirm(c) for c in consents]
    sms.mode = "down"
    assert outbox.send_outbox()["retried"] == 3
    for message in messages:
        row = stored(message.id)
        assert row.status == MessageStatus.QUEUED and row.attempts == 1
        assert row.last_error == "unavailable:500"
        assert row.recipient_enc is not None  # kept for the next try
    assert outbox.send_outbox()["retried"] == 0  # not due yet: a minute's backoff

    sms.mode = "hang"
    started = time.monotonic()
    assert outbox.send_outbox(now=later(1.5))["retried"] == 3
    assert time.monotonic() - started < 4  # each try gave up after SMS_TIMEOUT_SECONDS
    for message in messages:
        row = stored(message.id)
        assert (row.attempts, row.last_error) == (2, "timeout")
        assert row.next_attempt_at > later(2.5)  # then two minutes

    sms.mode = "ok"
    assert outbox.send_outbox(now=later(1.5))["sent"] == 0  # still waiting
    assert outbox.send_outbox(now=later(4))["sent"] == 3
    assert outbox.send_outbox(now=later(60))["sent"] == 0
    keys = [r["headers"]["Idempotency-Key"] for r in delivered(sms)]
    assert sorted(keys) == sorted(f"confirmation:{c.id}" for c in consents)  # once each
    tries = [r["headers"]["Idempotency-Key"] for r in sms.requests]
    assert all(tries.count(k) == 3 for k in keys)  # down, timed out, sent: the same key
    logged = db.session.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "message_failed")
    ).all()
    assert sorted(d["reason"] for d in logged) == ["timeout"] * 3 + ["unavailable:500"] * 3
    assert not any(d["final"] for d in logged)


def test_the_backoff_doubles_and_stops_at_six_hours():
    assert [outbox.backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert outbox.backoff(20) == timedelta(hours=6)


def test_after_the_last_attempt_it_gives_up(app, make, world, sms):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 2
    message = confirm(consent_for(make, world))
    sms.mode = "down"
    outbox.send_outbox()
    assert outbox.send_outbox(now=later(2))["failed"] == 1
    row = stored(message.id)
    assert (row.status, row.attempts, row.last_error) == (MessageStatus.FAILED, 2, "gave_up")
    assert row.recipient_enc is None and row.body_enc is None


def test_a_rejected_number_fails_with_a_coded_reason_and_nothing_personal(make, world, sms):
    sms.use("twilio")
    sms.mode = "reject"
    consent = consent_for(make, world, phone="+46701110000")
    message = confirm(consent)
    assert outbox.send_outbox()["failed"] == 1
    row = stored(message.id)
    assert row.status == MessageStatus.FAILED
    assert row.last_error == "rejected:400:21211"
    assert row.recipient_enc is None and row.body_enc is None
    failed = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "message_failed"))
    assert failed.detail["reason"] == "rejected:400:21211" and failed.detail["final"] is True
    everything = json.dumps([row.last_error, row.provider_ref, failed.detail])
    assert "4670" not in everything and "not valid" not in everything
    assert outbox.send_outbox(now=later(600))["sent"] == 0  # never tried again
    assert len(sms.requests) == 1
    # The coordinator's page reads it from here: kind, status, the coded reason.
    (seen,) = outbox.messages_of(consent.id)
    assert (seen.status, seen.last_error) == (MessageStatus.FAILED, "rejected:400:21211")


def test_a_second_claim_of_one_message_gets_nothing(make, world, sms):
    message = confirm(consent_for(make, world))
    now = utcnow()
    assert outbox.claim(message.id, now) is True
    assert outbox.claim(message.id, now) is False  # the other run
    assert outbox.send_outbox()["sent"] == 0  # claimed: no run sends it again
    assert sms.requests == []


def test_two_runs_at_once_send_each_message_once(app, make, world, sms):
    for _ in range(4):
        confirm(consent_for(make, world))
    sms.delay = 0.2  # the runs overlap
    reports = []

    def run():
        with app.app_context():
            reports.append(outbox.send_outbox())
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(r["sent"] for r in reports) == 4
    keys = [r["headers"]["Idempotency-Key"] for r in sms.requests]
    assert len(keys) == len(set(keys)) == 4


def test_a_message_stuck_in_sending_goes_back_to_the_queue(make, world, sms):
    message = confirm(consent_for(make, world))
    claimed_at = utcnow() - timedelta(minutes=20)
    stored(message.id).next_attempt_at = claimed_at
    db.session.commit()
    assert outbox.claim(message.id, claimed_at)  # and the run died before recording
    report = outbox.send_outbox()
    assert report["released"] == 1 and report["sent"] == 1
    assert stored(message.id).attempts == 2

    fresh = confirm(consent_for(make, world))
    busy_since = utcnow() - timedelta(minutes=5)
    stored(fresh.id).next_attempt_at = busy_since
    db.session.commit()
    assert outbox.claim(fresh.id, busy_since)  # a run still busy with it
    assert outbox.send_outbox()["released"] == 0
    assert stored(fresh.id).status == MessageStatus.SENDING


def test_unconfigured_provider_keeps_messages_queued(app, make, world, sms):
    app.config["SMS_PROVIDER"] = None
    message = confirm(consent_for(make, world))
    report = outbox.send_outbox()
    assert report["waiting"] == 1 and report["sent"] == 0
    assert stored(message.id).status == MessageStatus.QUEUED
    assert stored(message.id).attempts == 0
    result = app.test_cli_runner().invoke(args=["send-outbox"])
    assert result.exit_code == 0
    assert "SMS_PROVIDER" in result.output and "1 message(s) stay queued" in result.output
    assert sms.requests == []


def test_send_outbox_command_reports_its_counts(app, make, world, sms):
    confirm(consent_for(make, world))
    result = app.test_cli_runner().invoke(args=["send-outbox"])
    assert result.exit_code == 0, result.output
    assert "Sent: 1; failed: 0" in result.output
    assert len(delivered(sms)) == 1


def test_nothing_is_sent_inside_the_request(client, make, world, sms):
    """A partner books through the real route: the request queues the message and answers;
    the provider hears of it only from the run."""
    referral = consent_for(make, world, language="so").referrals[0]
    sign_in_as(client, world.partner_user)
    day = local_today() + timedelta(days=14)
    data = {"step": "booked", "version": referral.version, "day": day.isoformat()}
    data.update(time="09:30", place="Skolgatan 1")
    response = client.post(f"/inbound/referrals/{referral.id}/step", data=data)
    assert response.status_code == 303
    assert sms.requests == []
    message = db.session.scalar(select(OutboxMessage))
    assert (message.kind, message.status) == (MessageKind.BOOKED, MessageStatus.QUEUED)
    outbox.send_outbox()
    (request,) = delivered(sms)
    assert "Skolgatan 1" in text_of(request) and "Wac 08-222 22 22" in text_of(request)


# --------------------------------------------------------------------------- e-mail


def test_email_channel_goes_through_smtp(make, world, sms, smtp_sink):  # noqa: F811
    consent = consent_for(
        make, world, language="en", channel=MessageChannel.EMAIL, email="hodan@example.org"
    )
    message = confirm(consent)
    assert outbox.send_outbox()["sent"] == 1
    ((recipients, mail),) = smtp_sink.messages
    assert recipients == ["hodan@example.org"]
    assert mail["Message-ID"] == f"<confirmation.{consent.id}@kommun.test>"
    assert mail["Subject"]  # translated by the catalogue; Swedish source "Din hänvisning"
    assert consent.reference_code in mail.get_content()
    assert mail.get_content().startswith("Hello!")
    assert sms.requests == []
    row = stored(message.id)
    assert row.status == MessageStatus.SENT and row.recipient_enc is None


def test_email_server_down_keeps_it_queued(app, make, world):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=1)  # nothing listens there
    consent = consent_for(make, world, channel=MessageChannel.EMAIL, email="a@example.org")
    message = confirm(consent)
    assert outbox.send_outbox()["retried"] == 1
    row = stored(message.id)
    assert row.status == MessageStatus.QUEUED
    assert row.last_error.startswith("unavailable:")


# --------------------------------------------------------------------------- erasure


def database_files() -> list[Path]:
    directory = Path(db.engine.url.database).parent
    return sorted(p for p in directory.iterdir() if p.is_file())


def on_disk(*needles: bytes) -> list[str]:
    db.session.rollback()
    found = []
    for path in database_files():
        data = path.read_bytes()
        found += [f"{n!r} in {path.name}" for n in needles if n in data]
    return found


def test_withdrawal_cancels_unsent_messages_and_their_bytes_are_gone(app, make, world, sms):
    sms.mode = "down"
    phone = "+46707654321"
    consent = consent_for(make, world, language="sv", phone=phone)
    sent = confirm(consent)
    sms.mode = "ok"
    outbox.send_outbox()  # the confirmation went out
    referral = consent.referrals[0]
    booked, _event = book(world, referral)  # the booking has not yet
    assert stored(booked.id).body_enc is not None

    privacy.withdraw(db.session.get(Consent, consent.id), by=world.staff)
    row = stored(booked.id)
    assert row.status == MessageStatus.CANCELLED
    assert row.recipient_enc is None and row.body_enc is None and row.key_id is None
    assert stored(sent.id).status == MessageStatus.SENT
    assert outbox.send_outbox(now=later(600))["sent"] == 0
    assert len(delivered(sms)) == 1

    if db.engine.dialect.name == "sqlite":
        code = consent.reference_code
        filled = [
            f"Ring 08-222 22 22. Din kod: {code}".encode(),
            b"hos SFI: tisdag 8 december 2026 kl. 14:30",
        ]
        assert on_disk(phone.encode(), phone[3:].encode(), *filled) == []


def test_retention_erasure_cancels_the_outbox_too(make, world, sms):
    consent = consent_for(make, world)
    message = confirm(consent)
    privacy._erase(db.session.get(Consent, consent.id), utcnow())
    db.session.commit()
    row = stored(message.id)
    assert row.status == MessageStatus.CANCELLED and row.body_enc is None
    assert outbox.send_outbox()["sent"] == 0


def test_a_withdrawal_between_claim_and_send_sends_nothing(make, world, sms):
    consent = consent_for(make, world)
    message = confirm(consent)
    assert outbox.claim(message.id, utcnow())
    privacy.withdraw(db.session.get(Consent, consent.id), by=world.staff)
    assert privacy.open_claimed_message(message.id) is None
    assert stored(message.id).status == MessageStatus.CANCELLED


# --------------------------------------------------------------------------- the texts' rules


def test_seed_has_both_purposes_in_every_content_locale_and_seeds_once(make, world):
    from app.i18n import CONTENT_LOCALES

    for purpose in (ConsentPurpose.MESSAGE_CONFIRMATION, ConsentPurpose.MESSAGE_BOOKED):
        assert set(SEED[purpose]) == set(CONTENT_LOCALES)
        for body in SEED[purpose].values():
            assert outbox.placeholder_problem(purpose, body) is None
            assert len(body) <= 160
    assert "Drafts" in SEED["_comment"]
    assert seed_message_texts(world.org) is False  # already there: nothing again
    count = db.session.scalar(
        select(db.func.count(ConsentText.id)).where(
            ConsentText.organisation_id == world.org.id,
            ConsentText.purpose == ConsentPurpose.MESSAGE_BOOKED,
        )
    )
    assert count == len(CONTENT_LOCALES)


def test_seed_message_texts_command_seeds_organisations_without_them(app, make):
    bare = make.org()
    result = app.test_cli_runner().invoke(args=["seed-message-texts"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(
        select(db.func.count(ConsentText.id)).where(ConsentText.organisation_id == bare.id)
    ) == 2 * len(SEED["message_booked"])
    again = app.test_cli_runner().invoke(args=["seed-message-texts"])
    assert again.exit_code == 0 and "0" in again.output


@pytest.mark.parametrize(
    ("purpose", "body", "problem"),
    [
        (ConsentPurpose.MESSAGE_CONFIRMATION, "Kod {code} på {site}.", None),
        (ConsentPurpose.MESSAGE_CONFIRMATION, "Hej {first_name}!", ("unknown", "{first_name}")),
        (ConsentPurpose.MESSAGE_CONFIRMATION, "Tid {date}", ("unknown", "{date}")),
        (ConsentPurpose.MESSAGE_BOOKED, "Tid {date} {time}", None),
        (ConsentPurpose.MESSAGE_BOOKED, "Kod {code", ("braces", "")),
        (ConsentPurpose.MESSAGE_BOOKED, "Kod code}", ("braces", "")),
        (ConsentPurpose.MESSAGE_BOOKED, "{code.__class__}", ("unknown", "{code.__class__}")),
        (ConsentPurpose.MESSAGE_BOOKED, "{code!r}", ("unknown", "{code!r}")),
        (ConsentPurpose.MESSAGE_BOOKED, "{}", ("unknown", "{}")),
        (ConsentPurpose.MESSAGE_BOOKED, "{{literal}} {code}", None),
        (ConsentPurpose.REFERRAL, "{anything", None),  # not a message: no rule
    ],
)
def test_placeholder_rules(purpose, body, problem):
    assert outbox.placeholder_problem(purpose, body) == problem


def test_admin_form_refuses_an_unknown_placeholder_beside_the_body(client, login, make):
    org = make.org()
    admin = make.user(org, role=Role.ADMIN)
    login(admin)
    data = {
        "purpose": ConsentPurpose.MESSAGE_BOOKED.value,
        "locale": "sv",
        "legal_basis": "consent",
        "body": "Hej {first_name}, tid {date}.",
    }
    response = client.post("/admin/consent-texts/new", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "{first_name} finns inte i den här texten" in page
    assert "body-error" in page
    response = client.post("/admin/consent-texts/new", data=dict(data, body="Tid {date"))
    assert response.status_code == 422
    assert "klammerparentes" in response.get_data(as_text=True)
    response = client.post("/admin/consent-texts/new", data=dict(data, body="Tid {date}."))
    assert response.status_code == 303
    referral_text = dict(data, purpose=ConsentPurpose.REFERRAL.value, body="Jag {samtycker}.")
    assert client.post("/admin/consent-texts/new", data=referral_text).status_code == 303
