"""Small builders for test data; each returns a committed row."""

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, time

from argon2 import PasswordHasher

from app import privacy
from app.choices import (
    ConsentMethod,
    ConsentTextStatus,
    FollowUpStatus,
    Outcome,
    PartnerKind,
    ReferralStatus,
    Role,
    TranslationStatus,
)
from app.models import (
    Activity,
    ActivitySession,
    ActivityTranslation,
    Consent,
    ConsentText,
    FollowUp,
    Organisation,
    Partner,
    Referral,
    Service,
    ServiceTranslation,
    Site,
    User,
    Visit,
    VisitLanguage,
    utcnow,
)
from app.stats import summary
from app.workdays import local_today

# The test apps' Argon2 parameters (ARGON2_PARAMETERS): production's cost 0.15 s of CPU
# per sign-in, hash and unknown-e-mail check, a large part of the suite's time. What the
# tests check of hashing holds at any cost; one test checks the production parameters.
CHEAP_ARGON2 = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


class Factory:
    PASSWORD = "correct horse battery staple"
    # Made as the test apps make hashes, so signing in as a factory user is cheap too.
    _HASH = PasswordHasher(**CHEAP_ARGON2).hash(PASSWORD)

    def __init__(self, session):
        self.session = session
        self._n = 0
        self._one_commit = False

    def _next(self) -> int:
        self._n += 1
        return self._n

    def _save(self, row):
        self.session.add(row)
        self._commit()
        return row

    def _commit(self) -> None:
        if self._one_commit:
            self.session.flush()  # ids and defaults now, the commit at the end of one_commit()
        else:
            self.session.commit()

    @contextmanager
    def one_commit(self) -> Iterator[None]:
        """Build many rows in one transaction, committed at the end: a commit per row is a
        third of the cost of a large set of test data (the security tests' world)."""
        self._one_commit = True
        try:
            yield
        finally:
            self._one_commit = False
        self.session.commit()

    def org(self, **kw) -> Organisation:
        n = self._next()
        kw.setdefault("name", f"Kommun {n}")
        kw.setdefault("slug", f"kommun-{n}")
        return self._save(Organisation(**kw))

    def site(self, org: Organisation | None = None, **kw) -> Site:
        org = org or self.org()
        kw.setdefault("name", f"Öppna förskolan {self._next()}")
        return self._save(Site(organisation=org, **kw))

    def user(self, org=None, role=Role.STAFF, sites=(), services=(), **kw) -> User:
        org = org or (sites[0].organisation if sites else self.org())
        n = self._next()
        kw.setdefault("email", f"user{n}@example.test")
        kw.setdefault("name", f"User {n}")
        user = User(
            organisation=org,
            role=role,
            password_hash=self._HASH,
            session_token=secrets.token_hex(32),
            **kw,
        )
        user.sites = list(sites)
        user.services = list(services)
        return self._save(user)

    def service(self, org: Organisation | None = None, slug: str | None = None, **kw) -> Service:
        org = org or self.org()
        slug = slug or f"service-{self._next()}"
        service = Service(organisation_id=org.id, slug=slug, **kw)
        service.translations.append(
            ServiceTranslation(
                locale="sv",
                name=slug.upper(),
                summary="Sammanfattning.",
                status=TranslationStatus.REVIEWED,
            )
        )
        return self._save(service)

    def visit(
        self,
        site: Site,
        user: User | None = None,
        on: date | None = None,
        languages=("ar",),
        **counts,
    ) -> Visit:
        counts.setdefault("women", 1)
        visit = Visit(
            site_id=site.id,
            visit_date=on or date.today(),
            part_of_day="morning",
            recorded_by_id=user.id if user else None,
            **counts,
        )
        visit.languages = [
            VisitLanguage(code=c, site_id=site.id, visit_date=visit.visit_date) for c in languages
        ]
        self.session.add(visit)
        summary.apply(visit, 1)  # as the visit views do: the statistics read the daily summaries
        return self._save(visit)

    def consent_text(
        self, org: Organisation, locale: str = "sv", version: int = 1, published: bool = True, **kw
    ) -> ConsentText:
        kw.setdefault("body", "Jag samtycker till att mina kontaktuppgifter sparas och lämnas ut.")
        return self._save(
            ConsentText(
                organisation_id=org.id,
                locale=locale,
                version=version,
                status=ConsentTextStatus.PUBLISHED if published else ConsentTextStatus.DRAFT,
                published_at=utcnow() if published else None,
                **kw,
            )
        )

    def referral_consent(
        self,
        site: Site,
        services: list[Service],
        by: User,
        first_name: str = "Fatima",
        phone: str = "+46701234567",
        language: str = "ar",
        interpreter_needed: bool = False,
        consent_text: ConsentText | None = None,
        email: str | None = None,
        message_channel: str | None = None,
    ) -> Consent:
        """A consent with contact details and one referral per service, as staff record it.
        With a `message_channel` it is recorded as the flow does (no message is queued here:
        the flow queues the confirmation, app.outbox)."""
        text = consent_text or self.consent_text(site.organisation)
        consent = privacy.record_consent(
            site=site,
            services=services,
            consent_text=text,
            method=ConsentMethod.TABLET,
            contact=privacy.ContactInput(first_name=first_name, phone_e164=phone, email=email),
            language=language,
            interpreter_needed=interpreter_needed,
            by=by,
            message_channel=message_channel,
        )
        self._commit()
        return consent

    def partner(
        self,
        org: Organisation,
        services: list[Service],
        name: str | None = None,
        kind: str = PartnerKind.SCHOOL,
        **kw,
    ) -> Partner:
        """A partner organisation receiving referrals to `services` (area: partners)."""
        partner = Partner(
            organisation_id=org.id, name=name or f"Mottagare {self._next()}", kind=kind, **kw
        )
        partner.services = list(services)
        return self._save(partner)

    def partner_user(self, partner: Partner, **kw) -> User:
        """A user of `partner` (role partner), with a TOTP secret so no enrolment stands in
        the way unless a test wants it."""
        kw.setdefault("totp_secret", "JBSWY3DPEHPK3PXP")
        org = self.session.get(Organisation, partner.organisation_id)
        return self.user(org, Role.PARTNER, partner_id=partner.id, **kw)

    def follow_up(
        self,
        referral: Referral,
        months: int = 6,
        due_date: date | None = None,
        status: str = FollowUpStatus.OPEN,
        **kw,
    ) -> FollowUp:
        """A follow-up of `referral` (area: followup), closed as started first if it is still
        open; due today unless `due_date` says otherwise. Made directly, not planned, so a test
        chooses its months and dates freely."""
        if referral.status != ReferralStatus.CLOSED:
            referral.close(Outcome.STARTED, by_id=None, at=utcnow())
        return self._save(
            FollowUp(
                organisation_id=referral.organisation_id,
                referral_id=referral.id,
                service_id=referral.service_id,
                site_id=referral.site_id,
                months=months,
                due_date=due_date or local_today(),
                status=status,
                **kw,
            )
        )

    def activity(
        self, site: Site, kind: str = "language_cafe", name: str = "Språkcafé", **kw
    ) -> Activity:
        """An activity of `site` with its Swedish name (area: programme)."""
        activity = Activity(organisation_id=site.organisation_id, site_id=site.id, kind=kind, **kw)
        activity.translations.append(
            ActivityTranslation(locale="sv", name=name, status=TranslationStatus.REVIEWED)
        )
        return self._save(activity)

    def activity_session(
        self,
        activity: Activity,
        on: date | None = None,
        start: time = time(10, 0),
        end: time = time(12, 0),
        **kw,
    ) -> ActivitySession:
        """One session of `activity`, today unless `on` says otherwise."""
        return self._save(
            ActivitySession(
                organisation_id=activity.organisation_id,
                site_id=activity.site_id,
                activity_id=activity.id,
                on_date=on or local_today(),
                start_time=start,
                end_time=end,
                room=activity.room,
                **kw,
            )
        )


def visit_form(**overrides) -> dict:
    """The visit form as the Today screen posts it, in the common case: one woman, one child
    1–3, Arabic, a new visitor, this morning. An override of None leaves the field out."""
    data = {
        "form_key": f"key-{len(overrides)}-{sorted(overrides.items())!r}"[:60],
        "women": "1",
        "men": "0",
        "other_adults": "0",
        "children_0_1": "0",
        "children_1_3": "1",
        "children_3_6": "0",
        "languages": ["ar"],
        "is_new": "new",
        "part_of_day": "morning",
        "visit_date": local_today().isoformat(),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def project(
    make: Factory,
    org: Organisation,
    name: str | None = None,
    funder: str = "other",
    starts_on: date = date(2026, 1, 1),
    ends_on: date = date(2026, 12, 31),
    sites=(),
    services=(),
    activities=(),
    targets=(),
    **kw,
):
    """A project of `org` (area: projects) covering `sites`, `services` and `activities`, with
    `targets` given as (indicator, gender or None, service or None, number). Also
    `make.project(org, ...)`."""
    from app.models import Project, ProjectTarget

    row = Project(
        organisation_id=org.id,
        name=name or f"Projekt {make._next()}",
        funder=funder,
        starts_on=starts_on,
        ends_on=ends_on,
        **kw,
    )
    row.sites = list(sites)
    row.services = list(services)
    row.activities = list(activities)
    row.targets = [
        ProjectTarget(
            indicator=indicator,
            gender=gender,
            service_id=service.id if service is not None else None,
            target=number,
        )
        for indicator, gender, service, number in targets
    ]
    return make._save(row)


Factory.project = project
