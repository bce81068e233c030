"""Messages to visitors: queued in the request, sent later by `flask send-outbox`.

A visitor who chose a channel at the consent step (SMS or e-mail) gets two kinds of message,
in her contact language: a confirmation when the referral is made (her reference code, the
services, the open preschool) and a message when a receiving service books her a time (the
date, the time, the place, whom to call). Their texts are ConsentText rows of purpose
`message_confirmation` and `message_booked`, versioned per locale and published like the
consent texts, so admins edit them at the same screen; a text is a str.format template with a
closed set of placeholders per purpose (`PLACEHOLDERS`), which the admin's form enforces.

Queueing (`queue_confirmation`, `queue_booking`) happens in the caller's transaction and never
sends: the message is a row of the outbox (app.privacy seals its recipient and text), one per
idempotency key, so a double submit stores one message.

Sending (`send_outbox`, run by `flask send-outbox` from cron or a systemd timer) picks the due
messages, claims each with a conditional UPDATE (queued -> sending, committed) so two runs at
once never send one message twice, calls the provider outside any transaction, and records
what happened: sent (recipient and text removed at once), refused for good (failed, with a
coded reason the coordinator sees), or not reachable (queued again, attempts + 1, the next try
after an exponential backoff of 1, 2, 4 ... minutes, at most 6 hours; failed as "gave_up" after
OUTBOX_MAX_ATTEMPTS). A provider problem never raises.

The one case where a provider may get a message twice: a run that crashed (or was killed)
between handing the message to the provider and recording it leaves the message in `sending`;
after STUCK_AFTER the next run puts it back in the queue and sends it again. The idempotency
key goes along (the `Idempotency-Key` header of the SMS request, the e-mail's Message-ID), so a
provider that honours it drops the second copy.

SMS go through a provider's HTTP API (46elks, or any API that speaks Twilio's Messages
resource) with the standard library, chosen by SMS_PROVIDER; e-mail through SMTP as the
digests do. A channel that is not configured keeps its messages queued until it is.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import smtplib
import socket
import string
import urllib.error
import urllib.parse
import urllib.request
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from babel.dates import format_date, format_time
from babel.lists import format_list
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update

from . import metrics, privacy
from .choices import ConsentPurpose, MessageChannel, MessageKind, MessageStatus
from .database import write_intent
from .extensions import db
from .i18n import DEFAULT_LOCALE, EASY_SWEDISH, ui_locale
from .models import Consent, ConsentText, OutboxMessage, Referral, ReferralEvent, User, utcnow
from .names import service_names
from .texts import published_text
from .workdays import STOCKHOLM

# The placeholders a message text may use, per purpose; nothing else is filled in, so no
# text can reach for data it was not meant to carry (no first name, ever).
PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    ConsentPurpose.MESSAGE_CONFIRMATION: ("code", "services", "site"),
    ConsentPurpose.MESSAGE_BOOKED: ("service", "date", "time", "place", "phone", "code"),
}
PURPOSE_OF_KIND = {
    MessageKind.CONFIRMATION: ConsentPurpose.MESSAGE_CONFIRMATION,
    MessageKind.BOOKED: ConsentPurpose.MESSAGE_BOOKED,
}

STUCK_AFTER = timedelta(minutes=15)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=6)
ANSWER_LIMIT = 64 * 1024  # bytes of a provider's answer read, at most


# --------------------------------------------------------------------------- the texts


def placeholder_problem(purpose: str, body: str) -> tuple[str, str] | None:
    """What is wrong with the placeholders of a message text of `purpose`: ("braces", "") for
    a lone { or }, ("unknown", "{name}") for a placeholder the purpose does not have (or one
    with a format of its own); None when the text is fine or `purpose` is no message."""
    allowed = PLACEHOLDERS.get(purpose)
    if allowed is None:
        return None
    try:
        parts = list(string.Formatter().parse(body))
    except ValueError:
        return ("braces", "")
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in allowed or spec or conversion:
            shown = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            return ("unknown", "{" + shown + "}")
    return None


def message_text(consent: Consent, purpose: str, language: str) -> ConsentText | None:
    """The newest published text of `purpose` in her contact language (lättläst when she
    reads Swedish and was shown the consent in lättläst), else the newest Swedish one: the
    consent screen's rule (app.texts)."""
    if language == DEFAULT_LOCALE and consent.locale_shown == EASY_SWEDISH:
        language = EASY_SWEDISH
    return published_text(consent.organisation_id, language, purpose)


def _fill(text: ConsentText, values: dict[str, str]) -> str | None:
    """The text with its placeholders filled; None (logged) for a text the form would refuse
    (one stored before the rule, or written around the admin screen)."""
    if placeholder_problem(text.purpose, text.body) is not None:
        current_app.logger.error("Message text %s has bad placeholders: not used", text.id)
        return None
    return text.body.format_map(values)


def _already_queued(key: str) -> OutboxMessage | None:
    return db.session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))


def queue_confirmation(consent: Consent) -> OutboxMessage | None:
    """Queue the confirmation (reference code, what happens next) in her contact language, on
    the channel she chose; None when she chose none (or no text is published). In the
    caller's transaction: no commit, nothing sent."""
    if consent.message_channel is None or not consent.referrals:
        return None
    key = f"confirmation:{consent.id}"
    if (existing := _already_queued(key)) is not None:
        return existing
    text = message_text(consent, ConsentPurpose.MESSAGE_CONFIRMATION, consent.referrals[0].language)
    if text is None:
        current_app.logger.warning("No confirmation text published: consent %s", consent.id)
        return None
    reader = ui_locale(text.locale)
    names = service_names([r.service_id for r in consent.referrals], text.locale)
    services = format_list([names[r.service_id] for r in consent.referrals], locale=reader)
    body = _fill(
        text, {"code": consent.reference_code, "services": services, "site": consent.site.name}
    )
    if body is None:
        return None
    return privacy.queue_message(
        consent,
        kind=MessageKind.CONFIRMATION,
        locale=text.locale,
        idempotency_key=key,
        body=body,
    )


def queue_booking(referral: Referral, event: ReferralEvent) -> OutboxMessage | None:
    """Queue the message that a receiving service booked a time (date, time, place, who to
    call); None when she chose no channel. In the caller's transaction: no commit, nothing
    sent. `event` is the booking's event: its id keys the message, its author's partner
    organisation's phone is the one to call (else the service's)."""
    consent = referral.consent
    if consent.message_channel is None:
        return None
    if referral.appointment_at is None:
        current_app.logger.warning("Booking without a time: referral %s", referral.id)
        return None
    if event.id is None:
        db.session.flush()
    key = f"booked:{event.id}"
    if (existing := _already_queued(key)) is not None:
        return existing
    text = message_text(consent, ConsentPurpose.MESSAGE_BOOKED, referral.language)
    if text is None:
        current_app.logger.warning("No booking text published: referral %s", referral.id)
        return None
    reader = ui_locale(text.locale)
    at = referral.appointment_at.replace(tzinfo=UTC).astimezone(STOCKHOLM)
    by = db.session.get(User, event.by_id) if event.by_id is not None else None
    partner = by.partner if by is not None else None
    service = referral.service
    body = _fill(
        text,
        {
            "service": service_names([service.id], text.locale)[service.id],
            "date": format_date(at.date(), "full", locale=reader),
            "time": format_time(at.time(), "short", locale=reader),
            "place": referral.appointment_place or service.address or "",
            "phone": (partner.phone if partner is not None else "") or service.phone or "",
            "code": consent.reference_code,
        },
    )
    if body is None:
        return None
    return privacy.queue_message(
        consent,
        kind=MessageKind.BOOKED,
        locale=text.locale,
        idempotency_key=key,
        body=body,
        referral=referral,
    )


@dataclass(frozen=True)
class MessageSummary:
    """A message as staff see it (the coordinator's referral page, the register extract):
    what, how, how it went. Only anonymous columns: recipient and text stay sealed."""

    kind: str
    channel: str
    status: str
    created_at: datetime
    sent_at: datetime | None
    attempts: int
    last_error: str | None

    @property
    def failure(self) -> str:
        return failure_reason(self.last_error, self.channel)


def messages_of(consent_id: int, referral_id: int | None = None) -> list[MessageSummary]:
    """A consent's messages, oldest first. With `referral_id`: the confirmation and that
    referral's own (a booking by another service of the same consent is that service's
    business). Never the recipient or the text."""
    query = select(
        OutboxMessage.kind,
        OutboxMessage.channel,
        OutboxMessage.status,
        OutboxMessage.created_at,
        OutboxMessage.sent_at,
        OutboxMessage.attempts,
        OutboxMessage.last_error,
    ).where(OutboxMessage.consent_id == consent_id)
    if referral_id is not None:
        query = query.where(
            or_(
                OutboxMessage.kind == MessageKind.CONFIRMATION,
                OutboxMessage.referral_id.is_(None),
                OutboxMessage.referral_id == referral_id,
            )
        )
    rows = db.session.execute(query.order_by(OutboxMessage.created_at, OutboxMessage.id))
    return [MessageSummary(*row) for row in rows]


def failure_reason(code: str | None, channel: str | None = None) -> str:
    """A failed message's coded reason (`last_error`, written here) in plain words for staff:
    the provider refused the number (or the mail server the address), the outbox gave up
    after its retries, or something else."""
    if code and code.startswith("rejected") and code != "rejected:channel":
        if channel == MessageChannel.EMAIL or code.startswith("rejected:smtp"):
            return _("Adressen godtogs inte av e-postservern")
        return _("Numret godtogs inte av sms-leverantören")
    if code == "gave_up":
        return _("Gav upp efter flera försök")
    return _("Kunde inte skickas")


# --------------------------------------------------------------------------- delivery


@dataclass(frozen=True)
class Delivery:
    """What a provider made of one message: sent (with its reference), refused for good, or
    not reachable now (try again later). `code` is coded: a status, a provider's error code,
    "timeout"; never a number, an address or a provider's own words."""

    outcome: str  # "sent" | "rejected" | "retry"
    code: str | None = None
    ref: str | None = None


def _safe(value: object, limit: int = 20) -> str | None:
    """A provider's code or id as it may be stored: short, letters, digits and -_. only."""
    text = str(value) if value is not None else ""
    return text if re.fullmatch(rf"[A-Za-z0-9_.-]{{1,{limit}}}", text) else None


class HttpSmsProvider(ABC):
    """An SMS API that takes a form POST with Basic auth and answers JSON (the tiny interface
    every provider implements: `send(to, body, key) -> Delivery`). A provider says only where
    it posts and what the form holds."""

    ref_field = "id"

    def __init__(self, config) -> None:
        self.config = config

    @abstractmethod
    def url(self) -> str:
        """The address the message is posted to."""

    @abstractmethod
    def fields(self, to: str, body: str) -> dict[str, str]:
        """The form fields of one message."""

    def send(self, to: str, body: str, key: str) -> Delivery:
        config = self.config
        secret = f"{config.get('SMS_API_USER') or ''}:{config.get('SMS_API_PASSWORD') or ''}"
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked: http or https)
            self.url(),
            data=urllib.parse.urlencode(self.fields(to, body)).encode(),
            method="POST",
            headers={
                "Authorization": "Basic " + base64.b64encode(secret.encode()).decode(),
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
                "Idempotency-Key": key,
            },
        )
        timeout = float(config.get("SMS_TIMEOUT_SECONDS") or 10)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
                data = answer.read(ANSWER_LIMIT)
        except urllib.error.HTTPError as error:
            try:
                data = error.read(ANSWER_LIMIT)
            except (OSError, http.client.HTTPException):
                data = b""
            return self.refused(error.code, data)
        except urllib.error.URLError as error:
            return _network_problem(error.reason)
        except (OSError, http.client.HTTPException) as error:
            return _network_problem(error)
        return Delivery("sent", ref=_safe(_json(data).get(self.ref_field), 80))

    def refused(self, status: int, data: bytes) -> Delivery:
        """A non-2xx answer: the provider busy or down (5xx, 408, 429) or our account
        misconfigured (401, 403, 404): try again later; any other 4xx refuses the message
        itself (a number it will not send to): failed, with the status and its error code."""
        if status >= 500 or status in (408, 429):
            return Delivery("retry", f"unavailable:{status}")
        if status in (401, 403, 404):
            return Delivery("retry", f"config:{status}")
        code = _safe(_json(data).get("code"))
        return Delivery("rejected", f"rejected:{status}" + (f":{code}" if code else ""))


class FortySixElks(HttpSmsProvider):
    """46elks: POST /a1/sms with from, to, message; the answer's "id" is the reference."""

    def url(self) -> str:
        return self.config["SMS_API_URL"].rstrip("/") + "/a1/sms"

    def fields(self, to: str, body: str) -> dict[str, str]:
        return {"from": self.config["SMS_FROM"], "to": to, "message": body}


class Twilio(HttpSmsProvider):
    """Twilio's Messages resource (or an API that speaks it): POST
    /2010-04-01/Accounts/{account}/Messages.json with To, From, Body; the answer's "sid" is
    the reference, an error's JSON has a "code"."""

    ref_field = "sid"

    def url(self) -> str:
        account = urllib.parse.quote(self.config.get("SMS_API_USER") or "", safe="")
        base = self.config["SMS_API_URL"].rstrip("/")
        return f"{base}/2010-04-01/Accounts/{account}/Messages.json"

    def fields(self, to: str, body: str) -> dict[str, str]:
        return {"To": to, "From": self.config["SMS_FROM"], "Body": body}


SMS_PROVIDERS: dict[str, type[HttpSmsProvider]] = {"46elks": FortySixElks, "twilio": Twilio}


def _json(data: bytes) -> dict:
    try:
        answer = json.loads(data)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _network_problem(reason: object) -> Delivery:
    if isinstance(reason, TimeoutError | socket.timeout):
        return Delivery("retry", "timeout")
    if isinstance(reason, ConnectionRefusedError):
        return Delivery("retry", "unavailable:connection_refused")
    return Delivery("retry", "unavailable:network")


def sms_provider() -> HttpSmsProvider | None:
    """The configured SMS provider; None when SMS_PROVIDER or an http(s) SMS_API_URL is
    missing (SMS then stay queued)."""
    config = current_app.config
    provider = SMS_PROVIDERS.get(config.get("SMS_PROVIDER") or "")
    url = config.get("SMS_API_URL") or ""
    if provider is None or not url.startswith(("https://", "http://")):
        return None
    return provider(config)


def _subject(kind: str, locale: str) -> str:
    with force_locale(ui_locale(locale)):
        if kind == MessageKind.BOOKED:
            return _("Din bokade tid")
        return _("Din hänvisning")


def send_email(message: privacy.OutgoingMessage) -> Delivery:
    """The message as an e-mail over SMTP; its Message-ID derived from the idempotency key."""
    config = current_app.config
    sender = config["SMTP_FROM"]
    mail = EmailMessage()
    mail["Subject"] = _subject(message.kind, message.locale)
    mail["From"] = sender
    mail["To"] = message.recipient
    domain = sender.rpartition("@")[2] or "localhost"
    mail["Message-ID"] = f"<{message.idempotency_key.replace(':', '.')}@{domain}>"
    mail["Content-Language"] = ui_locale(message.locale)
    mail.set_content(message.body)
    timeout = float(config.get("SMTP_TIMEOUT_SECONDS") or 30)
    try:
        with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=timeout) as smtp:
            smtp.send_message(mail)
    except smtplib.SMTPRecipientsRefused as error:
        code = next(iter(error.recipients.values()), (0, b""))[0]
        if 500 <= code < 600:
            return Delivery("rejected", f"rejected:smtp:{code}")
        return Delivery("retry", f"unavailable:smtp:{code}")
    except smtplib.SMTPResponseException as error:
        return Delivery("retry", f"unavailable:smtp:{error.smtp_code}")
    except (smtplib.SMTPException, OSError) as error:
        return _network_problem(error)
    return Delivery("sent")


# --------------------------------------------------------------------------- the runs


def configured_channels() -> set[str]:
    """The channels that can send now: SMS with a provider, e-mail with an SMTP host."""
    channels = set()
    if sms_provider() is not None:
        channels.add(MessageChannel.SMS)
    if current_app.config.get("SMTP_HOST"):
        channels.add(MessageChannel.EMAIL)
    return channels


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed try: 1, 2, 4 ... minutes, at most 6 hours."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_WAIT)


def release_stuck(now: datetime) -> int:
    """Messages left in `sending` longer than STUCK_AFTER (a run that crashed) back in the
    queue; committed. The claim set next_attempt_at to the time it was claimed."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == MessageStatus.SENDING,
            OutboxMessage.next_attempt_at < now - STUCK_AFTER,
        )
        .values(status=MessageStatus.QUEUED, last_error="interrupted")
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount


def claim(message_id: int, now: datetime) -> bool:
    """Take a due message for this run: queued -> sending in one conditional UPDATE,
    committed. Of two runs claiming one message, exactly one gets rowcount 1."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == MessageStatus.QUEUED,
            OutboxMessage.next_attempt_at <= now,
        )
        .values(
            status=MessageStatus.SENDING,
            attempts=OutboxMessage.attempts + 1,
            next_attempt_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def deliver(message: privacy.OutgoingMessage) -> Delivery:
    """Hand one opened message to its channel; never raises (a fault of ours included: it is
    logged and the message tried again later)."""
    try:
        if message.channel == MessageChannel.SMS:
            provider = sms_provider()
            if provider is None:
                return Delivery("retry", "unconfigured")
            return provider.send(message.recipient, message.body, message.idempotency_key)
        if message.channel == MessageChannel.EMAIL:
            return send_email(message)
        return Delivery("rejected", "rejected:channel")
    except Exception:  # one message's fault must not stop the others
        current_app.logger.exception("Sending outbox message %s failed", message.id)
        return Delivery("retry", "error")


def _record(message: privacy.OutgoingMessage, delivery: Delivery, now: datetime) -> str:
    """Write down what happened to a claimed message, in a transaction of its own."""
    max_attempts = int(current_app.config.get("OUTBOX_MAX_ATTEMPTS") or 8)
    if delivery.outcome == "sent":
        privacy.message_sent(message, provider_ref=delivery.ref, at=now)
        result = "sent"
    elif delivery.outcome == "rejected":
        privacy.message_failed(message, reason=delivery.code or "rejected", at=now)
        result = "failed"
    elif message.attempts >= max_attempts:
        privacy.message_failed(message, reason="gave_up", at=now)
        result = "failed"
    else:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.status == MessageStatus.SENDING)
            .values(
                status=MessageStatus.QUEUED,
                next_attempt_at=now + backoff(message.attempts),
                last_error=delivery.code,
            )
            .execution_options(synchronize_session=False)
        )
        privacy.audit_delivery("message_failed", message, reason=delivery.code, final=False)
        result = "retried"
    db.session.commit()
    return result


def send_outbox(now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Send the due messages (at most `limit`, oldest due first) and return the counts:
    sent, failed, retried (queued again for later), released (found stuck in sending and
    queued again), waiting (due, but their channel is not configured). Cron-safe: two runs at
    once never send one message twice (see `claim`)."""
    now = now or utcnow()
    # Every transaction of the run is a write (BEGIN IMMEDIATE on SQLite); reset afterwards
    # for a caller in a longer-lived process (the tests).
    token = write_intent.set(True)
    try:
        report = {"sent": 0, "failed": 0, "retried": 0, "released": release_stuck(now)}
        channels = sorted(configured_channels())
        due = (
            OutboxMessage.status == MessageStatus.QUEUED,
            OutboxMessage.next_attempt_at <= now,
        )
        ids = list(
            db.session.scalars(
                select(OutboxMessage.id)
                .where(*due, OutboxMessage.channel.in_(channels))
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(limit)
            )
        )
        report["waiting"] = db.session.scalar(
            select(func.count(OutboxMessage.id)).where(*due, OutboxMessage.channel.not_in(channels))
        )
        db.session.commit()
        for message_id in ids:
            if not claim(message_id, now):
                continue  # another run has it
            message = privacy.open_claimed_message(message_id)
            db.session.commit()  # no transaction stays open while the provider is called
            if message is None:
                continue  # cancelled between the claim and now
            report[_record(message, deliver(message), now)] += 1
        for result, n in report.items():
            metrics.count_outbox(result, n)  # /metrics: sent, failed, retried, released, waiting
        return report
    finally:
        write_intent.reset(token)
