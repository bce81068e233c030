"""No stored code reaches a reader as itself (issue 18, item 10): every page a role can open,
in every UI language, and the statistics' CSV, show labels ("Förmiddag (9–12)", "Dari"),
never the codes behind them ("morning", "prs").

One app holds the demo organisation plus rows that use every code there is; each role signs in
once and reads every GET page of the URL map in each locale. The check cannot pass by seeing
nothing: every page must answer 200 and the labels the codes stand for must be on the pages.
"""

import re
from datetime import time, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from app import languages, privacy
from app.access import PUBLIC
from app.admin.commands import create_demo
from app.choices import (
    GENDERED_INDICATORS,
    PER_SERVICE_INDICATORS,
    ActivityKind,
    AttemptChannel,
    AttemptResult,
    BestTime,
    ConsentMethod,
    DeclineReason,
    EventKind,
    FollowUpResult,
    FollowUpStatus,
    Funder,
    Gender,
    Indicator,
    InterruptionReason,
    Labelled,
    MessageChannel,
    MessageKind,
    MessageStatus,
    Outcome,
    OutreachPlace,
    PartnerKind,
    PartnerStep,
    PartOfDay,
    ReasonCode,
    Role,
    SessionChange,
    SessionStatus,
    SfiLevel,
    Topic,
    TranslationStatus,
)
from app.extensions import db
from app.i18n import CONTENT_LOCALES, LOCALES
from app.models import (
    Activity,
    ActivitySession,
    ActivityTranslation,
    AttendanceLanguage,
    ConsentText,
    FollowUp,
    InformationContact,
    OutboxMessage,
    Partner,
    Project,
    ProjectTarget,
    Referral,
    ReferralEvent,
    Service,
    SessionAttendance,
    Site,
    User,
    Visit,
    VisitLanguage,
)
from app.partners import workflow as partner_workflow
from app.queue import workflow
from app.scope import partner_referrals_query
from app.stats import summary
from app.workdays import local_today
from tests.security_world import rules_of, sign_in_as

PHONE = "+46701740690"
ROOT = Path(__file__).resolve().parent.parent

# Identifiers an admin reads and types as they are, not codes awaiting a label: the picture
# files a service can use, and the audit log's object types (the tables' names).
PICTOGRAMS = {p.stem for p in (ROOT / "static" / "img" / "services").glob("*.svg")}
IDENTIFIERS = {
    "admin.services": PICTOGRAMS,
    "admin.service_edit": PICTOGRAMS,
    "admin.service_new": PICTOGRAMS,
    "admin.audit_log": {"consent", "referral", "service", "site", "user"},
}

# Codes that are also ordinary words of a locale, where seeing the word proves nothing:
# Swedish "en" (a), "om" (about), "se" (see), "de" (they), "ha" (have), "ta" (take), "vi" (we),
# "men" (but), "man" (one, as in "hur man"), "fil" (file), "status" and "admin" (loanwords),
# "fit" (a Swedish word too); English words that are codes; Somali "ka" (from), "ha" (do not),
# "tablet-ka" (the tablet).
REAL_WORDS = {
    "sv": {"en", "om", "se", "de", "ha", "ta", "vi", "men", "man", "status", "admin", "fil", "fit"},
    "en": {
        "staff",
        "coordinator",
        "admin",
        "morning",
        "afternoon",
        "lunch",
        "any",
        "new",
        "contacted",
        "closed",
        "started",
        "declined",
        "unreachable",
        "withdrawn",
        "expired",
        "phone",
        "sms",
        "email",
        "reached",
        "draft",
        "reviewed",
        "published",
        "consent",
        "interpreter",
        "booked",
        "created",
        "assigned",
        "attempt",
        "status",
        "work",
        "sfi",
        "society",
        "preschool",
        "health",
        "parenting",
        "housing",
        "economy",
        "other",
        "women",
        "tablet",
        "men",
        "en",
        "am",
        "my",
        "he",
        "it",
        "hi",
        "so",
        "de",
        "fit",
        "ka",
        # The programme (issue 19): outreach places, reasons for a cancellation and a
        # session's status ("the library", "a public holiday", "the weather", "the session
        # is cancelled").
        "library",
        "holiday",
        "weather",
        "cancelled",
        "scheduled",
        # What happened afterwards (issue 20): a follow-up's status and result, a gender, a
        # funder, an indicator ("open", "done", "a woman", "the municipality", "referrals").
        "open",
        "done",
        "woman",
        "man",
        "municipality",
        "visits",
        "referral",
        "referrals",
        "conversations",
        "participants",
        "completed",
        "interrupted",
        "moved",
        # The closed loop (issue 21): a message's status ("Application sent", "3 failed
        # contact attempts"), a partner's step ("received").
        "sent",
        "received",
        "failed",
        # Partner accounts (issue 21): a role and a kind of receiving service.
        "partner",
        "school",
        # The outbox (issue 21): a message's kind and status ("a confirmation", "queued").
        "confirmation",
        "queued",
        "sending",
    },
    "so": {"ka", "ha", "so", "my", "sms", "tablet"},
}


def all_codes() -> set[str]:
    """Every code the app stores: the closed lists, topics, event kinds, visitor languages."""
    # An SFI course's code is its letter, which is also how everyone names it ("kurs C").
    codes = {m.value for kind in Labelled.__subclasses__() if kind is not SfiLevel for m in kind}
    codes |= {t.code for t in Topic}
    codes |= set(languages.VISITOR_LANGUAGES)
    return codes


class VisibleText(HTMLParser):
    """The text a reader sees in the page's language: no tags, attributes, scripts or styles,
    and nothing inside an element in another language (a consent text shown as written)."""

    def __init__(self, lang: str):
        super().__init__()
        self.parts: list[str] = []
        self.hidden: list[list] = []  # [tag, depth] of the element that hides its content
        self.lang = lang

    def handle_starttag(self, tag, attrs):
        if self.hidden:
            if tag == self.hidden[-1][0]:
                self.hidden[-1][1] += 1
            return
        other_lang = dict(attrs).get("lang", self.lang) != self.lang and tag != "html"
        # A textarea holds what a user typed, not the page's words.
        if tag in ("script", "style", "template", "textarea") or other_lang:
            self.hidden.append([tag, 1])

    def handle_endtag(self, tag):
        if self.hidden and tag == self.hidden[-1][0]:
            self.hidden[-1][1] -= 1
            if not self.hidden[-1][1]:
                self.hidden.pop()

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible_text(html: str, lang: str) -> str:
    parser = VisibleText(lang)
    parser.feed(html)
    return " ".join(parser.parts)


WORD = re.compile(r"[^\W\d]\w*")


# Addresses on the page (a service's website, the public page's link) are not words.
ADDRESS = re.compile(r"\S+://\S+|(?<!\w)/[\w/-]+|\S+@\S+|\b[\w.-]+\.(?:se|test|nu)\b")


def raw_codes(text: str, locale: str, codes: set[str]) -> set[str]:
    words = set(WORD.findall(ADDRESS.sub(" ", text)))
    return (words & codes) - REAL_WORDS.get(locale, set())


def seed_every_code() -> dict:
    """The demo organisation, then rows that hold each code the demo leaves out."""
    create_demo()
    users = {u.role: u for u in db.session.scalars(select(User))}
    staff, coordinator = users[Role.STAFF], users[Role.COORDINATOR]
    site = db.session.scalar(select(Site).where(Site.name == "Öppna förskolan Norr"))
    services = list(db.session.scalars(select(Service).order_by(Service.id)))
    service = services[0]
    text = db.session.scalar(
        select(ConsentText).where(ConsentText.locale == "sv").order_by(ConsentText.id)
    )
    today = local_today()
    # Every translation status on the admin's service pages.
    for status, translation in zip(TranslationStatus, services[0].translations, strict=False):
        translation.status = status
    # Visits today by staff, one per visitor language and part of day, every topic raised.
    for n, code in enumerate(languages.VISITOR_LANGUAGES):
        visit = Visit(
            site_id=site.id,
            visit_date=today,
            part_of_day=list(PartOfDay)[n % 2].value,
            women=1,
            is_new=n % 2 == 0,
            topics=sum(t.value for t in Topic),
            recorded_by_id=staff.id,
        )
        visit.languages = [VisitLanguage(code=code, site_id=site.id, visit_date=today)]
        db.session.add(visit)
    programme = seed_every_programme_code(site, staff, today)
    db.session.flush()
    summary.rebuild(db.session)

    consents = []
    # One consent per UI locale (the extract speaks the visitor's language), each best time
    # and consent method; its referral walks to a status, an outcome, attempts of each kind.
    stories = [(o, None) for o in Outcome] + [(None, s) for s in ("contacted", "in_progress")]
    for n, (outcome, status) in enumerate(stories + [(None, None)] * (2 * len(LOCALES))):
        locale = list(LOCALES)[n % len(LOCALES)]
        consent = privacy.record_consent(
            site=site,
            services=[services[n % len(services)]],
            consent_text=text,
            method=list(ConsentMethod)[n % len(ConsentMethod)],
            contact=privacy.ContactInput(
                first_name=f"Besökare {n}",
                phone_e164=PHONE,
                best_time=list(BestTime)[n % len(BestTime)],
            ),
            language=locale,
            interpreter_needed=n % 2 == 0,
            by=staff,
        )
        consents.append(consent)
        referral = consent.referrals[0]
        workflow.assign(referral, coordinator, by=coordinator)
        workflow.set_follow_up(referral, today + timedelta(days=3), by=coordinator)
        channel = list(AttemptChannel)[n % len(AttemptChannel)]
        result = list(AttemptResult)[n % len(AttemptResult)]
        workflow.log_attempt(
            referral, by=coordinator, channel=channel, result=result, on_date=today
        )
        if outcome or status:
            if referral.status == workflow.NEW:
                workflow.change_status(referral, workflow.CONTACTED, by=coordinator)
            if status != "contacted":
                workflow.change_status(
                    referral,
                    workflow.IN_PROGRESS,
                    by=coordinator,
                    reason_code=list(ReasonCode)[n % len(ReasonCode)],
                )
            if outcome in workflow.MANUAL_OUTCOMES:
                workflow.change_status(referral, workflow.CLOSED, by=coordinator, outcome=outcome)
            elif outcome:  # withdrawal and expiry close a referral past the queue's steps
                referral.status, referral.outcome = workflow.CLOSED, outcome
                referral.events.append(
                    ReferralEvent(
                        kind=EventKind.STATUS,
                        from_status=workflow.IN_PROGRESS,
                        to_status=workflow.CLOSED,
                        outcome=outcome,
                    )
                )
    seed_every_afterwards_code(consents, services, site)
    # A partner organisation of each kind (issue 21), each receiving a service.
    for n, kind in enumerate(PartnerKind):
        partner = Partner(organisation_id=site.organisation_id, name=f"Mottagare {n}", kind=kind)
        partner.services = [services[n % len(services)]]
        db.session.add(partner)
    seed_every_partner_code(consents, services, users)
    db.session.commit()
    return {
        "users": users,
        "site": site,
        "services": services,
        "service": service,
        "consents": consents,
        "visit": db.session.scalar(
            select(Visit).where(Visit.recorded_by_id == staff.id, Visit.visit_date == today)
        ),
        "text": text,
        **programme,
        "follow_ups": list(db.session.scalars(select(FollowUp.id).order_by(FollowUp.id))),
        "projects": list(db.session.scalars(select(Project.id).order_by(Project.id))),
        "partners": list(db.session.scalars(select(Partner.id).order_by(Partner.id))),
    }


def seed_every_partner_code(consents, services, users) -> None:
    """Issue 21: the demo's partner user (with a second factor set up, so it is not sent to
    enrol) receives every service; referrals walked through every step of the receiving
    service, a decline of each reason; messages of each kind, channel and status, and a
    failure of each coded reason, on the first consents."""
    partner_user = users[Role.PARTNER]
    partner_user.totp_secret = "JBSWY3DPEHPK3PXP"
    partner_user.partner.services = list(services)
    db.session.flush()
    open_referrals = [c.referrals[0] for c in consents if c.referrals[0].status == workflow.NEW]
    day, at = local_today() + timedelta(days=7), time(10)
    walks = [
        [PartnerStep.RECEIVED],
        [PartnerStep.CONTACTED],
        [PartnerStep.BOOKED],
        [PartnerStep.BOOKED, PartnerStep.STARTED],
        *([PartnerStep.DECLINED, reason] for reason in DeclineReason),
    ]
    for referral, walk in zip(open_referrals, walks, strict=False):
        if walk[0] == PartnerStep.DECLINED:
            partner_workflow.record_step(referral, walk[0], by=partner_user, reason=walk[1])
            continue
        for step in walk:
            partner_workflow.record_step(
                referral, step, by=partner_user, day=day, at=at, place="SFI Centrum"
            )
    failures = ["rejected:400:21211", "rejected:smtp:550", "gave_up", "config:401", "timeout"]
    n = 0
    for kind in MessageKind:
        for channel in MessageChannel:
            for status in MessageStatus:
                consent = consents[n % 4]
                db.session.add(
                    OutboxMessage(
                        organisation_id=consent.organisation_id,
                        consent_id=consent.id,
                        referral_id=consent.referrals[0].id,
                        kind=kind,
                        channel=channel,
                        locale="sv",
                        idempotency_key=f"seed:{n}",
                        status=status,
                        attempts=n % 3,
                        last_error=failures[n % len(failures)]
                        if status == MessageStatus.FAILED
                        else None,
                    )
                )
                n += 1


def seed_every_afterwards_code(consents, services, site) -> None:
    """Issue 20: target-group facts of every kind on the referrals, the follow-up agreement on
    some consents, a follow-up with every status, result, course and reason on a started
    referral, and a project per funder with a target for every indicator (by gender where it
    may be split)."""
    follow_up_text = db.session.scalar(
        select(ConsentText).where(ConsentText.purpose == "follow_up", ConsentText.locale == "sv")
    )
    for n, consent in enumerate(consents):
        referral = consent.referrals[0]
        referral.gender = list(Gender)[n % len(Gender)]
        referral.has_child_0_6 = (True, False, None)[n % 3]
        referral.parental_leave = (False, None, True)[n % 3]
        referral.sfi_interrupted_before = (None, True, False)[n % 3]
        if n % 2 == 0 and follow_up_text is not None:
            consent.follow_up_text_id = follow_up_text.id
    started = next(c.referrals[0] for c in consents if c.referrals[0].outcome == "started")
    kinds = [(r, None, None) for r in FollowUpResult if r is not FollowUpResult.INTERRUPTED]
    kinds += [(FollowUpResult.INTERRUPTED, None, reason) for reason in InterruptionReason]
    kinds += [(FollowUpResult.COMPLETED, level, None) for level in SfiLevel]
    statuses = [(None, None, None)] * len(FollowUpStatus)
    for n, (result, level, reason) in enumerate(kinds + statuses):
        status = FollowUpStatus.DONE if result else list(FollowUpStatus)[n % len(FollowUpStatus)]
        db.session.add(
            FollowUp(
                organisation_id=started.organisation_id,
                referral_id=started.id,
                service_id=started.service_id,
                site_id=started.site_id,
                months=100 + n,  # beside the planned 3, 6 and 12
                due_date=local_today() - timedelta(days=n),
                status=status,
                result=result,
                sfi_level=level,
                reason_code=reason,
            )
        )
    for funder in Funder:
        project = Project(
            organisation_id=site.organisation_id,
            name=f"Projekt {list(Funder).index(funder) + 1}",
            funder=funder,
            starts_on=local_today() - timedelta(days=400),
            ends_on=local_today() + timedelta(days=30),
            sites=[site],
            services=services[:2],
        )
        for indicator in Indicator:
            project.targets.append(ProjectTarget(indicator=indicator, target=20))
            if indicator in GENDERED_INDICATORS:
                for gender in Gender:
                    project.targets.append(
                        ProjectTarget(indicator=indicator, gender=gender, target=5)
                    )
            if indicator in PER_SERVICE_INDICATORS:
                project.targets.append(
                    ProjectTarget(indicator=indicator, service_id=services[0].id, target=4)
                )
        db.session.add(project)


def seed_every_programme_code(site: Site, staff: User, today) -> dict:
    """Today, at `site`: a held session of every kind of activity (with attendance in two
    languages), a cancelled one for every reason, people informed at every outreach place and a
    visit held at each, new groups after outreach: the statistics show each code's label.
    Returns two activities and two sessions (held, cancelled) for their pages."""
    pages = {"activities": [], "sessions": []}
    for n, kind in enumerate(ActivityKind):
        activity = Activity(
            organisation_id=site.organisation_id, site_id=site.id, kind=kind.value, room=f"R{n}"
        )
        activity.translations.append(ActivityTranslation(locale="sv", name=f"Aktivitet {n}"))
        db.session.add(activity)
        db.session.flush()
        held = ActivitySession(
            organisation_id=site.organisation_id,
            site_id=site.id,
            activity_id=activity.id,
            on_date=today,
            start_time=time(8),
            end_time=time(9),
            room=activity.room,
        )
        db.session.add(held)
        db.session.flush()
        if n < 2:
            pages["activities"].append(activity.id)
            pages["sessions"].append(held.id)
        attendance = SessionAttendance(session_id=held.id, women=3, children_1_3=2, new_people=1)
        attendance.languages = [AttendanceLanguage(code="ti"), AttendanceLanguage(code="prs")]
        db.session.add(attendance)
        reason = list(SessionChange)[n % len(SessionChange)]
        cancelled = ActivitySession(
            organisation_id=site.organisation_id,
            site_id=site.id,
            activity_id=activity.id,
            on_date=today,
            start_time=time(10),
            end_time=time(11),
            room=activity.room,
            status=SessionStatus.CANCELLED,
            change_reason=reason.value,
        )
        db.session.add(cancelled)
        db.session.flush()
        if n == 0:
            pages["sessions"].append(cancelled.id)
    for place in OutreachPlace:
        db.session.add(
            InformationContact(site_id=site.id, on_date=today, place=place.value, people=6)
        )
        visit = Visit(
            site_id=site.id,
            visit_date=today,
            part_of_day="morning",
            women=1,
            is_new=True,
            after_outreach=True,
            outreach_place=place.value,
            recorded_by_id=staff.id,
        )
        visit.languages = [VisitLanguage(code="so", site_id=site.id, visit_date=today)]
        db.session.add(visit)
    return pages


def urls_for(
    rule, seeded: dict, locale: str, every: bool = True, user: User | None = None
) -> list[str]:
    """Each way to fill the rule's parameters with seeded rows (every referral, service...);
    `every=False` takes the first two of each, for a role that sees the same template."""
    choices = {
        "lang": [locale],
        "site_id": [seeded["site"].id],
        "visit_id": [seeded["visit"].id],
        "service_id": [s.id for s in seeded["services"]],
        # A partner's pages show only the referrals it receives (app.scope).
        "referral_id": list(
            db.session.scalars(
                partner_referrals_query(user).with_only_columns(Referral.id)
                if user is not None and user.role == Role.PARTNER
                else select(Referral.id)
            )
        ),
        "consent_id": [c.id for c in seeded["consents"]],
        "text_id": [seeded["text"].id],
        "user_id": [u.id for u in seeded["users"].values()],
        "slug": [seeded["service"].slug],
        "service_uuid": [seeded["service"].uuid],  # the HSDS API: JSON, its status checked
        "code": ["ti"],
        "activity_id": seeded["activities"][:1],
        "session_id": seeded["sessions"],
        "follow_up_id": seeded["follow_ups"],
        "project_id": seeded["projects"],
        "partner_id": seeded["partners"],
    }
    values = [{}]
    for name in rule.arguments:
        options = choices[name] if every else choices[name][:2]
        values = [dict(v, **{name: c}) for v in values for c in options]
    return [rule.build(v, append_unknown=False)[1] for v in values]


# Pages that send the reader on: each role's start page, a published text (not editable).
REDIRECTS = {"auth.index", "info.entry", "visits.today", "admin.consent_text_edit"}

# Pages no one reads as HTML (images, sound, downloads) or that only redirect.
SKIPPED = {
    "info.qr",
    "info.audio",
    "referrals.consent_audio",
    "auth.logout",
    "info.kiosk_exit",
    "auth.totp",
    "auth.totp_setup",
    "auth.sso_start",  # single sign-on: only redirects (to the identity provider, or back)
    "auth.sso_callback",
    "ops.prometheus_metrics",  # for Prometheus only: 404 to anyone not allowed (issue 22)
}


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": False}  # the extract is read once per seeded consent


def test_no_page_shows_a_raw_code(app):
    seeded = seed_every_code()
    codes = all_codes()
    client = app.test_client()
    problems: list[str] = []
    seen: dict[str, str] = {}  # locale -> all visible text read in it

    def read(url, locale, html, endpoint=""):
        # A receipt or extract speaks the visitor's language: the page says which.
        locale = re.search(r'<html lang="([^"]+)"', html).group(1)
        text = ADDRESS.sub(" ", visible_text(html, locale))
        for person in seeded["users"].values():  # names are data: "Erik (admin)"
            text = text.replace(person.name, " ")
        seen[locale] = seen.get(locale, "") + "\n" + text
        for code in sorted(raw_codes(text, locale, codes) - IDENTIFIERS.get(endpoint, set())):
            at = re.search(rf"(?<!\w){re.escape(code)}(?!\w)", text)
            context = text[max(0, at.start() - 40) : at.end() + 40].replace("\n", " ")
            problems.append(f"{locale} {url}: {code!r} in …{context}…")

    def get(url, locale, endpoint=""):
        response = client.get(url)
        if response.status_code in (302, 303) and endpoint in REDIRECTS:
            return  # the start pages send each reader on to their own
        if response.status_code not in (200, 422):  # 422: a form shown with its errors
            problems.append(f"{locale} {url}: status {response.status_code}")
            return
        if response.mimetype == "text/html":
            read(url, locale, response.get_data(as_text=True), endpoint)

    rules = [r for r in rules_of(app) if "GET" in r.methods and r.endpoint not in SKIPPED]
    public = [r for r in rules if getattr(app.view_functions[r.endpoint], "access", None) == PUBLIC]
    for locale in CONTENT_LOCALES:  # the public pages in lättläst (sv-ll) too
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = locale
        for rule in public:
            for url in urls_for(rule, seeded, locale):
                get(url, locale, rule.endpoint)

    for role, user in seeded["users"].items():
        sign_in_as(client, user)
        for locale in LOCALES:
            user.locale = locale
            db.session.commit()
            for rule in rules:
                access = getattr(app.view_functions[rule.endpoint], "access", None)
                if access == PUBLIC or role not in access:
                    continue
                if rule.endpoint == "visits.edit" and role != Role.STAFF:
                    continue  # only the recorder edits a visit, on its day
                every = role in (Role.COORDINATOR, Role.PARTNER)
                for url in urls_for(rule, seeded, locale, every=every, user=user):
                    get(url, locale, rule.endpoint)
            if role == Role.COORDINATOR:
                # The contact panel opens on a POST; the first four referrals hold every best time.
                for consent in seeded["consents"][: len(BestTime)]:
                    url = f"/queue/referrals/{consent.referrals[0].id}/contact"
                    response = client.post(url)
                    assert response.status_code == 200, response.data[:300]
                    read(url, locale, response.get_data(as_text=True))
                response = client.post("/stats/export.csv", data={"period": "month"})
                assert response.status_code == 200, response.data[:300]
                text = response.get_data(as_text=True)
                seen[locale] += "\n" + text
                for code in sorted(raw_codes(text, locale, codes)):
                    problems.append(f"{locale} stats CSV: {code!r}")
        if role == Role.STAFF:
            for consent in seeded["consents"]:
                # The extract's visitor part speaks the visitor's language and the staff chrome
                # the staff member's (issue 18, item 13): read it with both in hers, so all of
                # its text is read in the one language it is written in.
                lang = consent.referrals[0].language
                client.post("/locale", data={"locale": lang, "next": "/"})
                response = client.post(
                    "/referrals/extract", data={"code": consent.reference_code, "phone": PHONE}
                )
                assert response.status_code == 200, response.data[:300]
                read(f"extract {consent.id}", lang, response.get_data(as_text=True))

    assert not problems, "\n".join(problems[:60]) + f"\n({len(problems)} in all)"
    # Not vacuous: the labels of the codes were on the pages, in each language.
    for locale in LOCALES:
        with force_locale(locale):
            expected = [
                BestTime.MORNING.label,
                EventKind.ATTEMPT.label,
                AttemptResult.NO_ANSWER.label,
                Outcome.NOT_ELIGIBLE.label,
                ConsentMethod.INTERPRETER.label,
                languages.name("fit", locale, standalone=True),
                languages.name("prs", locale, standalone=True),
                Topic.PARENTING.label,
                ActivityKind.STUDY_VISIT.label,
                ActivityKind.OTHER.label,
                SessionChange.WEATHER.label,
                SessionChange.OTHER.label,
                OutreachPlace.HOME_VISIT.label,
                OutreachPlace.OTHER.label,
                PartnerKind.CIVIL_SOCIETY.label,
                PartnerStep.BOOKED.label,
                DeclineReason.COULD_NOT_REACH.label,
                Outcome.NO_PLACE.label,
                MessageStatus.CANCELLED.label,
                MessageKind.BOOKED.label,
            ]
        missing = [label for label in expected if label not in seen[locale]]
        assert not missing, f"{locale}: labels never shown: {missing}"
