"""The coordinators' side of the closed loop (issue 21): the referral page's panel on the
receiving service (acknowledged or overdue, last step, a booked time on Stockholm's clock),
the receiving service's steps in the timeline, the messages to the visitor (status, a failure
in plain words, never recipient or text), the list's mark for a referral not acknowledged in
time with its counts in one statement per page, and the statistics' new outcomes."""

import csv
import io
import re
import shutil
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import event

from app import outbox
from app.admin.consent_versions import seed_message_texts
from app.choices import (
    DeclineReason,
    EventKind,
    MessageChannel,
    MessageKind,
    MessageStatus,
    Outcome,
    PartnerStep,
    ReasonCode,
    ReferralStatus,
    Role,
)
from app.extensions import db
from app.models import OutboxMessage, Referral, ReferralEvent, utcnow
from app.outbox import failure_reason
from app.partners import workflow
from app.workdays import local_today
from tests.test_html_valid import checker_errors
from tests.test_queue import count_statements

MARK = "Ej kvitterad av mottagaren"


@dataclass
class World:
    org: object
    site: object
    sfi: object
    plain: object  # a service no partner receives
    staff: object
    coordinator: object
    partner: object
    partner_user: object
    text: object


@pytest.fixture
def world(make):
    org = make.org()
    site = make.site(org)
    sfi = make.service(org, slug="sfi")
    plain = make.service(org, slug="bibliotek")
    staff = make.user(org, sites=[site])
    coordinator = make.user(org, role=Role.COORDINATOR, services=[sfi, plain], name="Sara S")
    partner = make.partner(org, [sfi], name="SFI-skolan Centrum")
    partner_user = make.partner_user(partner, name="Pia Partner")
    return World(
        org, site, sfi, plain, staff, coordinator, partner, partner_user, make.consent_text(org)
    )


def refer(make, w: World, service=None, **kw) -> Referral:
    consent = make.referral_consent(
        w.site, [service or w.sfi], by=w.staff, consent_text=w.text, **kw
    )
    return consent.referrals[0]


def late(referral: Referral, days: int = 1) -> Referral:
    """Its acknowledgement date passed `days` ago, unacknowledged."""
    referral.ack_due_date = local_today() - timedelta(days=days)
    db.session.commit()
    return referral


def section(html: str, section_id: str) -> str:
    match = re.search(rf'<section[^>]*id="{section_id}".*?</section>', html, re.S)
    assert match, f"no section {section_id}"
    return match.group(0)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def page(client, referral) -> str:
    response = client.get(f"/queue/referrals/{referral.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


# ------------------------------------------------------------------ the receiving side's panel


@pytest.mark.parametrize(
    "utc,local",
    [
        (datetime(2026, 12, 3, 13, 30), "14:30"),  # winter: UTC+1
        (datetime(2026, 6, 10, 8, 15), "10:15"),  # summer: UTC+2
    ],
)
def test_the_panel_shows_the_partner_its_ack_its_step_and_the_time_on_stockholms_clock(
    client, make, login, world, utc, local
):
    referral = refer(make, world)
    referral.received_at = datetime(2026, 11, 2, 9, 0)
    referral.partner_step = PartnerStep.BOOKED
    referral.appointment_at = utc
    referral.appointment_place = "Storgatan 4, rum 12"
    db.session.commit()
    login(world.coordinator)
    panel = text_of(section(page(client, referral), "queue-receiving"))
    assert "SFI-skolan Centrum" in panel
    assert "10:00" in panel  # received at 09:00 UTC in November
    assert "Tid bokad" in panel and "booked" not in panel
    assert local in panel and utc.strftime("%H:%M") not in panel
    assert "Storgatan 4, rum 12" in panel
    assert MARK not in panel


def test_the_panel_marks_a_referral_not_acknowledged_in_time_until_it_is(
    client, make, login, world
):
    referral = refer(make, world)
    login(world.coordinator)
    due = referral.ack_due_date
    waiting = text_of(section(page(client, referral), "queue-receiving"))
    assert MARK not in waiting and "Ska kvitteras senast" in waiting and "Inget ännu" in waiting
    late(referral, 2)
    overdue = text_of(section(page(client, referral), "queue-receiving"))
    assert MARK in overdue and "Skulle kvitteras senast" in overdue
    assert due != referral.ack_due_date
    referral.received_at = utcnow()
    referral.partner_step = PartnerStep.RECEIVED
    db.session.commit()
    received = text_of(section(page(client, referral), "queue-receiving"))
    assert MARK not in received and "Mottagen" in received


def test_a_service_nobody_receives_says_so_and_is_never_overdue_for_acknowledgement(
    client, make, login, world
):
    referral = late(refer(make, world, service=world.plain), 5)
    login(world.coordinator)
    html = page(client, referral)
    panel = text_of(section(html, "queue-receiving"))
    assert "Ingen mottagande verksamhet tar emot den här tjänsten." in panel
    assert MARK not in html


# ------------------------------------------------------------------ the timeline


def test_the_receiving_services_steps_show_in_the_timeline_labelled_and_named_by_it(
    client, make, login, world
):
    referral = refer(make, world)
    by = world.partner_user.id
    booked_day = date(2026, 12, 3)
    referral.events += [
        ReferralEvent(by_id=by, kind=EventKind.PARTNER, result=PartnerStep.RECEIVED),
        ReferralEvent(
            by_id=by, kind=EventKind.PARTNER, result=PartnerStep.BOOKED, on_date=booked_day
        ),
        ReferralEvent(
            by_id=by,
            kind=EventKind.PARTNER,
            result=PartnerStep.DECLINED,
            reason_code=DeclineReason.NO_PLACE,
        ),
        # The close a decline causes carries the decline's reason too (app.partners).
        ReferralEvent(
            by_id=by,
            kind=EventKind.STATUS,
            from_status=ReferralStatus.IN_PROGRESS,
            to_status=ReferralStatus.CLOSED,
            outcome=Outcome.NO_PLACE,
            reason_code=DeclineReason.NO_PLACE,
        ),
        ReferralEvent(
            by_id=world.coordinator.id,
            kind=EventKind.STATUS,
            from_status=ReferralStatus.NEW,
            to_status=ReferralStatus.CONTACTED,
            reason_code=ReasonCode.WAITING_LIST,
        ),
    ]
    db.session.commit()
    login(world.coordinator)
    history = section(page(client, referral), "referral-history")
    lines = [text_of(li) for li in re.findall(r"<li>.*?</li>", history, re.S)]
    partner_lines = [line for line in lines if "SFI-skolan Centrum" in line]
    assert len(partner_lines) == 4
    assert not any("Pia Partner" in line for line in lines)  # the organisation, not the person
    assert any("Mottagaren: Mottagen" in line for line in partner_lines)
    assert any("Mottagaren: Tid bokad" in line and "3 dec. 2026" in line for line in lines)
    assert any(
        "Mottagaren: Nej från mottagaren" in line and "Orsak: Ingen plats" in line for line in lines
    )
    assert any("Utfall: Ingen plats" in line for line in partner_lines)
    assert any("Sara S" in line and "Orsak: Står i kö" in line for line in lines)
    for code in ("received", "booked", "declined", "no_place", "waiting_list", "partner"):
        assert f" {code} " not in f" {' '.join(lines)} "


def test_steps_recorded_through_the_partners_workflow_show_on_the_coordinators_page(
    client, make, login, world
):
    referral = refer(make, world)
    workflow.record_step(referral, PartnerStep.RECEIVED, by=world.partner_user)
    workflow.record_step(
        referral,
        PartnerStep.BOOKED,
        by=world.partner_user,
        day=date(2027, 1, 12),
        at=time(9, 30),
        place="SFI Centrum, reception",
    )
    db.session.commit()
    login(world.coordinator)
    html = page(client, referral)
    panel = text_of(section(html, "queue-receiving"))
    assert "Tid bokad" in panel and "09:30" in panel and "SFI Centrum, reception" in panel
    history = text_of(section(html, "referral-history"))
    assert "Mottagaren: Mottagen" in history and "Mottagaren: Tid bokad" in history
    assert "SFI-skolan Centrum" in history and "Pia Partner" not in history
    workflow.record_step(
        referral, PartnerStep.DECLINED, by=world.partner_user, reason=DeclineReason.COULD_NOT_REACH
    )
    db.session.commit()
    history = text_of(section(page(client, referral), "referral-history"))
    assert "Orsak: Gick inte att nå" in history and "could_not_reach" not in history


def test_decline_reasons_and_the_queues_reasons_share_no_code():
    """The timeline tells them apart by their code alone (a decline's close carries one)."""
    assert not {r.value for r in DeclineReason} & {r.value for r in ReasonCode}


# ------------------------------------------------------------------ messages to the visitor


def message(referral, kind, status, *, error=None, attempts=1, sent=None, **kw):
    row = OutboxMessage(
        organisation_id=referral.organisation_id,
        consent_id=referral.consent_id,
        referral_id=referral.id,
        kind=kind,
        channel=kw.pop("channel", MessageChannel.SMS),
        locale="so",
        idempotency_key=f"{kind}-{referral.id}-{status}-{error}-{kw.pop('n', 0)}",
        status=status,
        attempts=attempts,
        last_error=error,
        sent_at=sent,
        **kw,
    )
    db.session.add(row)
    return row


def test_the_messages_show_their_status_and_a_failure_in_plain_words(client, make, login, world):
    referral = refer(make, world, message_channel=MessageChannel.SMS)
    message(
        referral,
        MessageKind.CONFIRMATION,
        MessageStatus.SENT,
        sent=datetime(2026, 11, 1, 8, 5),
        created_at=datetime(2026, 11, 1, 8, 0),
    )
    message(referral, MessageKind.BOOKED, MessageStatus.FAILED, error="rejected:400:21211")
    message(referral, MessageKind.BOOKED, MessageStatus.FAILED, error="gave_up", attempts=8)
    message(referral, MessageKind.BOOKED, MessageStatus.FAILED, error="timeout", n=1)
    message(referral, MessageKind.BOOKED, MessageStatus.QUEUED, attempts=0)
    db.session.commit()
    login(world.coordinator)
    panel = section(page(client, referral), "queue-messages")
    rows = [text_of(tr) for tr in re.findall(r"<tr>.*?</tr>", panel, re.S)][1:]
    assert len(rows) == 5
    assert "Bekräftelse" in rows[0] and "Skickat" in rows[0] and "Sms" in rows[0]
    assert "09:05" in rows[0]  # sent at 08:05 UTC
    assert "Numret godtogs inte av sms-leverantören" in rows[1]
    assert "Gav upp efter flera försök" in rows[2] and " 8 " in f"{rows[2]} "
    assert "Kunde inte skickas" in rows[3] and "timeout" not in panel
    assert "Väntar på att skickas" in rows[4]
    for code in ("rejected", "21211", "gave_up", "queued", "failed", "confirmation"):
        assert code not in text_of(panel)


def test_the_page_never_reads_a_messages_recipient_or_text(client, make, login, world):
    """A confirmation sealed by the outbox: the page asks only for the anonymous columns (the
    sealed ones are in no statement it sends), and neither the number nor the text is on it."""
    seed_message_texts(world.org)
    consent = make.referral_consent(
        world.site,
        [world.sfi],
        by=world.staff,
        consent_text=world.text,
        phone="+46701234567",
        message_channel=MessageChannel.SMS,
    )
    queued = outbox.queue_confirmation(consent)
    db.session.commit()
    assert queued is not None and queued.recipient_enc and queued.body_enc
    statements = []

    def listener(conn, cursor, statement, *args):
        statements.append(statement)

    login(world.coordinator)
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        html = page(client, consent.referrals[0])
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert any("outbox_message" in s for s in statements)
    assert not [s for s in statements if "recipient_enc" in s or "body_enc" in s]
    panel = text_of(section(html, "queue-messages"))
    assert "Bekräftelse" in panel and "Väntar på att skickas" in panel
    assert "701234567" not in html and consent.reference_code not in html


def test_a_booking_for_another_service_of_the_same_consent_is_not_shown(client, make, login, world):
    consent = make.referral_consent(
        world.site,
        [world.sfi, world.plain],
        by=world.staff,
        consent_text=world.text,
        message_channel=MessageChannel.SMS,
    )
    sfi, plain = sorted(consent.referrals, key=lambda r: r.service_id != world.sfi.id)
    message(sfi, MessageKind.CONFIRMATION, MessageStatus.SENT)
    message(sfi, MessageKind.BOOKED, MessageStatus.SENT)
    db.session.commit()
    login(world.coordinator)
    panel = text_of(section(page(client, plain), "queue-messages"))
    assert "Bekräftelse" in panel and "Bokad tid" not in panel
    assert "Bokad tid" in text_of(section(page(client, sfi), "queue-messages"))


def test_without_a_channel_the_panel_says_she_chose_no_messages(client, make, login, world):
    referral = refer(make, world)
    login(world.coordinator)
    panel = text_of(section(page(client, referral), "queue-messages"))
    assert "Besökaren valde att inte få meddelanden." in panel


def test_failure_reasons_in_plain_words():
    assert failure_reason("rejected:400:21211") == "Numret godtogs inte av sms-leverantören"
    assert failure_reason("rejected:550", MessageChannel.EMAIL) == (
        "Adressen godtogs inte av e-postservern"
    )
    assert failure_reason("rejected:smtp:550") == "Adressen godtogs inte av e-postservern"
    assert failure_reason("rejected:channel") == "Kunde inte skickas"
    assert failure_reason("gave_up") == "Gav upp efter flera försök"
    assert failure_reason("http:500") == "Kunde inte skickas"
    assert failure_reason(None) == "Kunde inte skickas"


# ------------------------------------------------------------------ the lists


def row_of(html: str, referral_id: int) -> str:
    match = re.search(
        rf'<li class="queue-item[^"]*" id="referral-{referral_id}">.*?</li>', html, re.S
    )
    assert match, f"no row {referral_id}"
    return match.group(0)


def test_the_list_marks_only_unacknowledged_past_due_referrals_of_received_services(
    client, make, login, world
):
    overdue = late(refer(make, world))
    received = late(refer(make, world))
    received.received_at = utcnow()
    not_yet = refer(make, world)  # its date is still ahead
    closed = late(refer(make, world))
    closed.status, closed.outcome = ReferralStatus.CLOSED, Outcome.STARTED
    nobody = late(refer(make, world, service=world.plain))
    db.session.commit()
    login(world.coordinator)
    html = client.get(f"/queue/services/{world.sfi.id}").get_data(as_text=True)
    assert MARK in row_of(html, overdue.id)
    for other in (received, not_yet):
        assert MARK not in row_of(html, other.id)
    assert "1 ej kvitterad av mottagaren" in text_of(html)  # the open tab's count
    closed_tab = client.get(f"/queue/services/{world.sfi.id}?tab=closed").get_data(as_text=True)
    assert MARK not in row_of(closed_tab, closed.id)
    plain = client.get(f"/queue/services/{world.plain.id}").get_data(as_text=True)
    assert MARK not in plain and "ej kvitterad" not in plain
    assert row_of(plain, nobody.id)
    overview = text_of(client.get("/queue/").get_data(as_text=True))
    assert overview.count("1 ej kvitterad av mottagaren") == 1
    # An inactive partner receives nothing: nobody is waiting for it.
    world.partner.is_active = False
    db.session.commit()
    html = client.get(f"/queue/services/{world.sfi.id}").get_data(as_text=True)
    assert MARK not in html


def test_the_mark_costs_the_same_statements_for_2_or_20_rows(client, make, login, world):
    login(world.coordinator)
    url = f"/queue/services/{world.sfi.id}"
    for _ in range(2):
        late(refer(make, world))
    client.get(url)  # caches warm
    few = count_statements(client, url)
    for n in range(18):
        referral = late(refer(make, world))
        if n % 2:
            referral.received_at = utcnow()
    db.session.commit()
    html = client.get(url).get_data(as_text=True)
    assert html.count(f"⚠</span> {MARK}") == 11
    assert count_statements(client, url) == few


# ------------------------------------------------------------------ statistics


def test_the_new_outcomes_are_counted_and_labelled_on_the_page_and_in_exports(
    client, make, login, world
):
    for outcome in (Outcome.NO_PLACE, Outcome.DECLINED_BY_SERVICE):
        for _ in range(5):
            referral = refer(make, world)
            referral.close(outcome, by_id=None, at=utcnow())
    db.session.commit()
    login(make.user(world.org, role=Role.ADMIN))
    period = {"period": "month", "on": local_today().isoformat()}
    html = client.get("/stats/", query_string=period).get_data(as_text=True)
    figure = re.search(r'<figure[^>]*aria-labelledby="outcomes-caption".*?</figure>', html, re.S)
    assert "Ingen plats" in figure.group(0) and "Mottagaren sa nej" in figure.group(0)
    rows = list(
        csv.reader(
            io.StringIO(client.post("/stats/export.csv", data=period).data.decode("utf-8-sig")),
            delimiter=";",
        )
    )
    labels = {row[0]: row[1] for row in rows if len(row) > 1}
    assert labels.get("Ingen plats") == "5" and labels.get("Mottagaren sa nej") == "5"
    sheet = load_workbook(io.BytesIO(client.post("/stats/export.xlsx", data=period).data)).active
    cells = {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if len(row) > 1}
    assert cells.get("Ingen plats") == 5 and cells.get("Mottagaren sa nej") == 5


# ------------------------------------------------------------------ valid HTML


def test_the_referral_page_with_both_panels_and_the_marked_list_are_valid_html(
    client, make, login, world, tmp_path
):
    if shutil.which("java") is None:
        pytest.skip("Java not found: the Nu HTML Checker runs on it (apt-get install default-jre)")
    referral = late(refer(make, world, message_channel=MessageChannel.SMS))
    referral.partner_step = PartnerStep.CONTACTED
    referral.events.append(
        ReferralEvent(by_id=world.partner_user.id, kind=EventKind.PARTNER, result="contacted")
    )
    message(referral, MessageKind.CONFIRMATION, MessageStatus.SENT, sent=utcnow())
    message(referral, MessageKind.BOOKED, MessageStatus.FAILED, error="rejected:400:21211")
    booked = refer(make, world)
    booked.received_at, booked.partner_step = utcnow(), PartnerStep.BOOKED
    booked.appointment_at, booked.appointment_place = datetime(2027, 1, 12, 8, 30), "Rum 4"
    db.session.commit()
    login(world.coordinator)
    pages = {
        "referral.html": f"/queue/referrals/{referral.id}",
        "booked.html": f"/queue/referrals/{booked.id}",
        "list.html": f"/queue/services/{world.sfi.id}",
    }
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200
        (tmp_path / name).write_bytes(response.data)
    assert MARK in (tmp_path / "list.html").read_text()
    assert "Numret godtogs inte" in (tmp_path / "referral.html").read_text()
    errors = checker_errors(sorted(tmp_path.glob("*.html")))
    assert not errors, "\n".join(errors)
