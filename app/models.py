"""All tables. Visits and the anonymous facts of referrals never hold personal data;
contact details live only in `ContactDetails`, which only `app.privacy` reads or writes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from uuid import uuid4

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .choices import (
    ConsentPurpose,
    ConsentTextStatus,
    FollowUpStatus,
    LegalBasis,
    ReferralStatus,
    Role,
    SessionStatus,
    TranslationStatus,
)
from .extensions import db


def new_uuid() -> str:
    return str(uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Organisation(db.Model):
    """A municipality (or another host); owns sites, users, services and settings."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    legal_basis: Mapped[str] = mapped_column(String(20), default=LegalBasis.CONSENT)
    # Days after a referral closes before its contact details are erased.
    retention_days_after_close: Mapped[int] = mapped_column(Integer, default=30)
    # Days a referral may stay open before it is closed as expired and erased.
    max_open_days: Mapped[int] = mapped_column(Integer, default=180)
    first_contact_working_days: Mapped[int] = mapped_column(Integer, default=5)
    unreachable_after_attempts: Mapped[int] = mapped_column(Integer, default=3)
    suppression_threshold: Mapped[int] = mapped_column(Integer, default=5)
    audit_retention_days: Mapped[int] = mapped_column(Integer, default=730)
    kiosk_idle_seconds: Mapped[int] = mapped_column(Integer, default=120)
    require_2fa: Mapped[bool] = mapped_column(Boolean, default=False)
    # (area: followup) Months after a referral closed as started when its follow-ups fall due
    # ("3,6,12"), and the longest a follow-up consent may keep contact details after the
    # referral closed, whatever the follow-ups' dates (the organisation's maximum).
    follow_up_months: Mapped[str] = mapped_column(
        String(40), default="3,6,12", server_default="3,6,12"
    )
    follow_up_max_days: Mapped[int] = mapped_column(Integer, default=400, server_default="400")
    # (area: partners) Working days a receiving service has to acknowledge a new referral
    # before it is flagged overdue on both sides, and whether its users must use two-factor
    # sign-in (the default: they read contact details of people they have never met).
    partner_ack_working_days: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    partner_require_2fa: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=sa_true()
    )
    # (area: auth) Single sign-on (issue 22): whether a person the identity provider knows but
    # the organisation does not is created (disabled, no sites, until an admin gives a role) or
    # refused; whether the provider's MFA claim (`amr`, or one of the listed `acr` values)
    # counts as the second factor; and the admin's map of the provider's group names to a
    # role and sites (JSON: [{"group", "role", "site_ids"}]), the only way roles come from it.
    sso_create_users: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=sa_false()
    )
    sso_trust_mfa: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    sso_mfa_acr: Mapped[str] = mapped_column(String(200), default="", server_default="")
    sso_groups: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    # Counts every committed change to the organisation's referrals and anonymous interest,
    # so cached referral statistics know when they are out of date (app.stats.cache).
    stats_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    sites: Mapped[list[Site]] = relationship(back_populates="organisation", order_by="Site.name")


site_memberships = db.Table(
    "site_membership",
    db.Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    db.Column("site_id", ForeignKey("site.id", ondelete="CASCADE"), primary_key=True),
)

service_coordinators = db.Table(
    "service_coordinator",
    db.Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    db.Column("service_id", ForeignKey("service.id", ondelete="CASCADE"), primary_key=True),
)

# The services a site offers on its premises (its public page lists them; a service's page
# names the sites where it is held).
site_services = db.Table(
    "site_service",
    db.Column("site_id", ForeignKey("site.id", ondelete="CASCADE"), primary_key=True),
    db.Column(
        "service_id", ForeignKey("service.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)


# The services a partner organisation receives referrals for.
partner_services = db.Table(
    "partner_service",
    db.Column("partner_id", ForeignKey("partner.id", ondelete="CASCADE"), primary_key=True),
    db.Column(
        "service_id", ForeignKey("service.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)


class Partner(db.Model):
    """A receiving service outside the open preschool (an SFI school's admissions, the
    employment service's contact, the preschool placement office, a civil-society group):
    its users (role partner) see and work the referrals to its services (area: partners)."""

    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))  # choices.PartnerKind
    # Who a visitor calls about a booked time: put in the booking message.
    phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    services: Mapped[list[Service]] = relationship(
        secondary=partner_services, order_by="Service.sort_order"
    )


class Site(db.Model):
    """An öppen förskola."""

    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # What a visitor needs to come back (its public page, the receipt, how to withdraw).
    address: Mapped[str] = mapped_column(String(300), default="", server_default="")
    phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # [[weekday (1 = Monday), "HH:MM", "HH:MM"], ...] (app.info.hours); None: not given.
    weekly_hours: Mapped[list | None] = mapped_column(JSON)
    # The site's lifetime, where known: a project's period must lie inside it (area: projects).
    opened_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)

    organisation: Mapped[Organisation] = relationship(back_populates="sites")
    services: Mapped[list[Service]] = relationship(
        secondary=site_services, order_by="Service.sort_order"
    )


class User(UserMixin, db.Model):
    __table_args__ = (Index("ix_user_oidc", "oidc_issuer", "oidc_sub", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.STAFF)
    locale: Mapped[str | None] = mapped_column(String(10))
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Rotated at every sign-in and sign-out: a cookie with an old token is no session at all.
    session_token: Mapped[str] = mapped_column(String(64), default="")
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    # The last TOTP time step accepted: a code is refused once used, even inside its window.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    last_site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The partner organisation of a user with role partner; None for everyone else.
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"), index=True)
    # (area: auth) The identity provider's account linked at the first single sign-on: its
    # issuer and `sub` together (a `sub` is unique only within one issuer).
    oidc_issuer: Mapped[str | None] = mapped_column(String(255))
    oidc_sub: Mapped[str | None] = mapped_column(String(255))

    organisation: Mapped[Organisation] = relationship()
    partner: Mapped[Partner | None] = relationship()
    sites: Mapped[list[Site]] = relationship(secondary=site_memberships, order_by="Site.name")
    services: Mapped[list[Service]] = relationship(
        secondary=service_coordinators, back_populates="coordinators"
    )

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses disabled users with this
        return self.is_enabled

    def has_role(self, *roles: str) -> bool:
        return self.role in roles


class Visit(db.Model):
    """One visiting group: counts and categories only, never anything that names a person."""

    __table_args__ = (
        Index("ix_visit_site_date", "site_id", "visit_date"),
        # The programme's figures (app.stats.programme) count the visits attending a period's
        # sessions: their adults, children and new people come from this index alone instead of
        # one table read per visit (some 62,000 a year on the bench's data).
        Index(
            "ix_visit_session_counts",
            "session_id",
            "women",
            "men",
            "other_adults",
            "children_0_1",
            "children_1_3",
            "children_3_6",
            "is_new",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    visit_date: Mapped[date] = mapped_column(Date)
    part_of_day: Mapped[str] = mapped_column(String(12))
    women: Mapped[int] = mapped_column(Integer, default=0)
    men: Mapped[int] = mapped_column(Integer, default=0)
    other_adults: Mapped[int] = mapped_column(Integer, default=0)
    children_0_1: Mapped[int] = mapped_column(Integer, default=0)
    children_1_3: Mapped[int] = mapped_column(Integer, default=0)
    children_3_6: Mapped[int] = mapped_column(Integer, default=0)
    is_new: Mapped[bool] = mapped_column(Boolean, default=False)
    topics: Mapped[int] = mapped_column(Integer, default=0)  # choices.Topic bitmask
    # (area: programme) The session the group attended, if it came to one; where the visit
    # happened when it was outreach (a choices.OutreachPlace code; None is the site's room);
    # and whether the group first heard of the open preschool from outreach.
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("activity_session.id", ondelete="SET NULL")  # ix_visit_session_counts leads
    )
    outreach_place: Mapped[str | None] = mapped_column(String(20))
    after_outreach: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    languages: Mapped[list[VisitLanguage]] = relationship(
        cascade="all, delete-orphan", order_by="VisitLanguage.code"
    )

    @property
    def adults(self) -> int:
        return self.women + self.men + self.other_adults

    @property
    def children(self) -> int:
        return self.children_0_1 + self.children_1_3 + self.children_3_6


class VisitLanguage(db.Model):
    """A language spoken in a visit group; site and date are repeated so languages are counted
    per period from one covering index without touching the visit table."""

    __table_args__ = (Index("ix_visit_language_site_date_code", "site_id", "visit_date", "code"),)

    visit_id: Mapped[int] = mapped_column(
        ForeignKey("visit.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    visit_date: Mapped[date] = mapped_column(Date)


class VisitCounts:
    """(area: stats) The summed figures of visits, shared by the day and month summaries."""

    groups: Mapped[int] = mapped_column(Integer, default=0)
    women: Mapped[int] = mapped_column(Integer, default=0)
    men: Mapped[int] = mapped_column(Integer, default=0)
    other_adults: Mapped[int] = mapped_column(Integer, default=0)
    children_0_1: Mapped[int] = mapped_column(Integer, default=0)
    children_1_3: Mapped[int] = mapped_column(Integer, default=0)
    children_3_6: Mapped[int] = mapped_column(Integer, default=0)
    new_groups: Mapped[int] = mapped_column(Integer, default=0)
    # Women and men in the new groups: the projects' "women reached" (issue 20).
    new_women: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    new_men: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Groups that raised each topic (one column per choices.Topic member, named topic_<code>).
    topic_work: Mapped[int] = mapped_column(Integer, default=0)
    topic_sfi: Mapped[int] = mapped_column(Integer, default=0)
    topic_society: Mapped[int] = mapped_column(Integer, default=0)
    topic_preschool: Mapped[int] = mapped_column(Integer, default=0)
    topic_health: Mapped[int] = mapped_column(Integer, default=0)
    topic_parenting: Mapped[int] = mapped_column(Integer, default=0)
    topic_housing: Mapped[int] = mapped_column(Integer, default=0)
    topic_economy: Mapped[int] = mapped_column(Integer, default=0)
    topic_other: Mapped[int] = mapped_column(Integer, default=0)
    # New groups that first heard of the open preschool from outreach (Visit.after_outreach),
    # and groups met at each outreach place (one column per choices.OutreachPlace member,
    # named outreach_<code>; a visit in the site's own room counts in none of them).
    after_outreach_groups: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    outreach_sfi_school: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    outreach_child_health: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    outreach_library: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    outreach_faith_community: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    outreach_housing_area: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    outreach_home_visit: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    outreach_other: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class VisitDaySummary(VisitCounts, db.Model):
    """(area: stats) The visits of one site and day, summed: what the dashboard reads instead
    of scanning every visit. Kept exact in the same transaction as each visit write by
    `app.stats.summary.apply`; `flask stats-rebuild` recomputes it from the visits."""

    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), primary_key=True)
    visit_date: Mapped[date] = mapped_column(Date, primary_key=True)


class VisitMonthSummary(VisitCounts, db.Model):
    """(area: stats) The same per site and calendar month (`month` is its first day): a year
    of 20 sites is 240 rows instead of 7,300. Kept with VisitDaySummary."""

    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)


class VisitMonthLanguage(db.Model):
    """(area: stats) Visiting groups per site, calendar month and language spoken."""

    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    groups: Mapped[int] = mapped_column(Integer, default=0)


class VisitDayLanguage(db.Model):
    """(area: stats) Visiting groups per site, day and language spoken, kept with
    VisitDaySummary."""

    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), primary_key=True)
    visit_date: Mapped[date] = mapped_column(Date, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    groups: Mapped[int] = mapped_column(Integer, default=0)


class Service(db.Model):
    """A service visitors are referred to; fields follow Open Referral (HSDS) where they fit."""

    __table_args__ = (UniqueConstraint("organisation_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    slug: Mapped[str] = mapped_column(String(60))
    # The service's HSDS id: stable across exports and edits, unique across organisations.
    uuid: Mapped[str] = mapped_column(String(36), unique=True, index=True, default=new_uuid)
    pictogram: Mapped[str] = mapped_column(String(80), default="service.svg")
    url: Mapped[str] = mapped_column(String(300), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    opening_hours: Mapped[str] = mapped_column(String(300), default="")  # a note on the hours
    weekly_hours: Mapped[list | None] = mapped_column(JSON)  # as Site.weekly_hours
    apply_url: Mapped[str] = mapped_column(String(300), default="", server_default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=100)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    organisation: Mapped[Organisation] = relationship()
    translations: Mapped[list[ServiceTranslation]] = relationship(
        back_populates="service", cascade="all, delete-orphan"
    )
    coordinators: Mapped[list[User]] = relationship(
        secondary=service_coordinators, back_populates="services"
    )


class ServiceTranslation(db.Model):
    __table_args__ = (UniqueConstraint("service_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(Text, default="")
    eligibility: Mapped[str] = mapped_column(Text, default="")
    how_to_start: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default=TranslationStatus.DRAFT)
    audio_filename: Mapped[str | None] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    service: Mapped[Service] = relationship(back_populates="translations")


class ConsentText(db.Model):
    """One version of the consent text in one locale; immutable once published. Versions
    count per organisation, purpose and locale."""

    __table_args__ = (UniqueConstraint("organisation_id", "purpose", "locale", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    locale: Mapped[str] = mapped_column(String(10))
    legal_basis: Mapped[str] = mapped_column(String(20), default=LegalBasis.CONSENT)
    # choices.ConsentPurpose: the referral's consent, or the optional follow-up agreement
    # (versions count per organisation, locale and purpose).
    purpose: Mapped[str] = mapped_column(
        String(20), default=ConsentPurpose.REFERRAL, server_default="referral"
    )
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default=ConsentTextStatus.DRAFT)
    audio_filename: Mapped[str | None] = mapped_column(String(120))  # a recorded reading
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Consent(db.Model):
    """What one visitor agreed to, shown how, recorded by whom; shared by the referrals it names."""

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    consent_text_id: Mapped[int] = mapped_column(ForeignKey("consent_text.id"))
    locale_shown: Mapped[str] = mapped_column(String(10))
    method: Mapped[str] = mapped_column(String(20))
    # The two things agreed to, recorded separately: GDPR processing and the OSL secrecy waiver.
    data_processing_agreed: Mapped[bool] = mapped_column(Boolean, default=False)
    disclosure_agreed: Mapped[bool] = mapped_column(Boolean, default=False)
    reference_code: Mapped[str] = mapped_column(String(16), unique=True)
    given_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    erased_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The follow-up text version the visitor agreed to (area: followup): she may be contacted
    # again about how it went. None: no such agreement, follow-ups are recorded anonymously.
    follow_up_text_id: Mapped[int | None] = mapped_column(ForeignKey("consent_text.id"))
    # The channel she chose for messages about her referral (choices.MessageChannel); None:
    # she gets none.
    message_channel: Mapped[str | None] = mapped_column(String(10))

    consent_text: Mapped[ConsentText] = relationship(foreign_keys=[consent_text_id])
    follow_up_text: Mapped[ConsentText | None] = relationship(foreign_keys=[follow_up_text_id])
    site: Mapped[Site] = relationship()  # where it was given: the receipt names it
    referrals: Mapped[list[Referral]] = relationship(back_populates="consent")


class ContactDetails(db.Model):
    """The only personal data in the app. Read and written by app.privacy alone; the row is
    deleted (not blanked) when consent is withdrawn or retention ends.

    Every field is an AES-GCM ciphertext under the key named by `key_id` (app.crypto), bound
    to this row and field, so no name, number or address reaches the disk in plain text. The
    phone is also kept as a keyed hash (HMAC-SHA256 of its E.164 form), so a lookup by phone
    compares hashes and never needs the number itself."""

    consent_id: Mapped[int] = mapped_column(
        ForeignKey("consent.id", ondelete="CASCADE"), primary_key=True
    )
    key_id: Mapped[str] = mapped_column(String(16))
    first_name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    email_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    best_time_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_hmac: Mapped[bytes | None] = mapped_column(LargeBinary(32), index=True)


class Referral(db.Model):
    """One visitor referred to one service. Everything here is anonymous and stays for statistics."""

    __table_args__ = (
        Index("ix_referral_queue", "service_id", "status", "due_date"),
        # The queue's language filter lists a service's languages from this index alone.
        Index("ix_referral_service_language", "service_id", "language"),
        # Covers every column the statistics count, so a year of referrals is read from the
        # index alone (area: stats); the (organisation_id, created_at) prefix serves the rest.
        Index(
            "ix_referral_org_created",
            "organisation_id",
            "created_at",
            "site_id",
            "service_id",
            "status",
            "outcome",
            "first_contact_at",
            "closed_at",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    consent_id: Mapped[int] = mapped_column(ForeignKey("consent.id"), index=True)
    language: Mapped[str] = mapped_column(String(12))  # contact language, not identifying
    interpreter_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default=ReferralStatus.NEW)
    outcome: Mapped[str | None] = mapped_column(String(20))
    reason_code: Mapped[str | None] = mapped_column(String(40))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    due_date: Mapped[date] = mapped_column(Date)  # first contact due
    follow_up_date: Mapped[date | None] = mapped_column(Date)
    first_contact_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)  # optimistic lock
    # Target-group facts (issue 20), coded and optional, asked at the contact step and counted
    # only in aggregates; None is "not asked or not answered". Nothing under GDPR art. 9.
    gender: Mapped[str | None] = mapped_column(String(10))  # choices.Gender
    has_child_0_6: Mapped[bool | None] = mapped_column(Boolean)
    parental_leave: Mapped[bool | None] = mapped_column(Boolean)
    sfi_interrupted_before: Mapped[bool | None] = mapped_column(Boolean)
    # The receiving service's side (area: partners): the date by which it should acknowledge
    # the referral (the organisation's partner_ack_working_days after it was made), when it
    # did, its last step (choices.PartnerStep) and a booked time and place. The place is
    # erased with the contact details.
    ack_due_date: Mapped[date | None] = mapped_column(Date)
    received_at: Mapped[datetime | None] = mapped_column(DateTime)
    partner_step: Mapped[str | None] = mapped_column(String(20))
    appointment_at: Mapped[datetime | None] = mapped_column(DateTime)  # UTC
    appointment_place: Mapped[str | None] = mapped_column(String(200))

    service: Mapped[Service] = relationship()
    site: Mapped[Site] = relationship()
    consent: Mapped[Consent] = relationship(back_populates="referrals")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    events: Mapped[list[ReferralEvent]] = relationship(
        cascade="all, delete-orphan", order_by="ReferralEvent.at"
    )

    __mapper_args__ = {"version_id_col": version}

    def close(
        self,
        outcome: str,
        *,
        by_id: int | None,
        at: datetime,
        reason_code: str | None = None,
    ) -> ReferralEvent:
        """Close the referral with `outcome`: the one way a referral closes, whether a
        coordinator closes it (the queue) or consent is withdrawn or retention ends (privacy).
        What stays is anonymous: status, outcome, when, and the coded reason."""
        event = ReferralEvent(
            by_id=by_id,
            at=at,
            kind="status",
            from_status=self.status,
            to_status=ReferralStatus.CLOSED,
            outcome=outcome,
            reason_code=reason_code,
        )
        self.events.append(event)
        self.status = ReferralStatus.CLOSED
        self.outcome = outcome
        self.reason_code = reason_code
        self.closed_at = at
        self.follow_up_date = None  # nothing is followed up on a closed referral
        return event


class ReferralEvent(db.Model):
    """The timeline of a referral: status changes, assignments, contact attempts. Coded, no text."""

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(
        ForeignKey("referral.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))  # created/status/assigned/attempt/follow_up
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    outcome: Mapped[str | None] = mapped_column(String(20))
    reason_code: Mapped[str | None] = mapped_column(String(40))
    channel: Mapped[str | None] = mapped_column(String(20))
    result: Mapped[str | None] = mapped_column(String(20))
    on_date: Mapped[date | None] = mapped_column(Date)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    by: Mapped[User | None] = relationship(foreign_keys=[by_id])


class OutboxMessage(db.Model):
    """A message to a visitor waiting to be sent, or sent: `flask send-outbox` sends it, never
    the request that queued it, so a provider being down loses nothing. Recipient and text are
    personal data: sealed by app.privacy like the contact details, removed once sent, and
    erased (an unsent one cancelled) with the consent. What stays is anonymous: kind, channel,
    status, attempts."""

    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    consent_id: Mapped[int] = mapped_column(ForeignKey("consent.id"), index=True)
    referral_id: Mapped[int | None] = mapped_column(
        ForeignKey("referral.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # choices.MessageKind
    channel: Mapped[str] = mapped_column(String(10))  # choices.MessageChannel
    locale: Mapped[str] = mapped_column(String(12))
    # One message per key, ever: queueing the same message twice stores one row, and the key
    # goes to the provider with it.
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    key_id: Mapped[str | None] = mapped_column(String(16))
    recipient_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    body_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(12), default="queued")  # choices.MessageStatus
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(120))  # coded, never personal data
    provider_ref: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)


class AnonymousInterest(db.Model):
    """Interest in a service from a visitor who gave no consent: counted, never contactable."""

    __table_args__ = (Index("ix_interest_org_date", "organisation_id", "on_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    language: Mapped[str] = mapped_column(String(12))
    on_date: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))


class AuditEvent(db.Model):
    """Append-only: who did what to which record, when. Never holds contact details."""

    __table_args__ = (Index("ix_audit_org_at", "organisation_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40), index=True)
    object_type: Mapped[str | None] = mapped_column(String(30))
    object_id: Mapped[int | None] = mapped_column(Integer)
    ip: Mapped[str | None] = mapped_column(String(45))
    detail: Mapped[dict | None] = mapped_column(JSON)
    # The hash chain (app.audit): SHA-256 of this event's content and of `prev_hash`, the hash
    # of the event before it in its organisation's chain. Set by app.audit when it commits.
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User | None] = relationship()


class AuditChain(db.Model):
    """One row per audit hash chain: an organisation's events, or chain 0 for events without
    an organisation. The row is locked while events are appended, so concurrent writers never
    fork a chain; `anchor_hash` is what the oldest remaining event follows (all zeros until a
    retention purge removes the chain's beginning) and `head_hash` the newest event's hash,
    so the verifier notices events missing at either end."""

    chain: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    anchor_hash: Mapped[str] = mapped_column(String(64))
    head_id: Mapped[int | None] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(64))


class IdempotencyKey(db.Model):
    """A form's one-time key, stored in the same transaction as what the form created."""

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(200))  # the URL to show again on a retry
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


# ---------------------------------------------------------------- the programme (area: programme)


class ActivityKindRow(db.Model):
    """A kind of activity an admin added beyond `choices.ActivityKind`, named per locale."""

    __tablename__ = "activity_kind"
    __table_args__ = (UniqueConstraint("organisation_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    names: Mapped[dict] = mapped_column(JSON, default=dict)  # locale -> name; "sv" always
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class Activity(db.Model):
    """Something a site holds again and again (a language café, a parenting group) or once."""

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # ActivityKind or an ActivityKindRow code
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id", ondelete="SET NULL"))
    partner_name: Mapped[str] = mapped_column(String(120), default="")
    languages: Mapped[list] = mapped_column(JSON, default=list)  # language codes it is held in
    room: Mapped[str] = mapped_column(String(60), default="")  # "" is the site's own room
    capacity: Mapped[int | None] = mapped_column(Integer)
    needs_registration: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    site: Mapped[Site] = relationship()
    service: Mapped[Service | None] = relationship()
    translations: Mapped[list[ActivityTranslation]] = relationship(
        back_populates="activity", cascade="all, delete-orphan"
    )
    schedules: Mapped[list[ActivitySchedule]] = relationship(
        back_populates="activity", cascade="all, delete-orphan", order_by="ActivitySchedule.id"
    )


class ActivityTranslation(db.Model):
    """An activity's name and description in one locale (the same rules as a service's)."""

    __table_args__ = (UniqueConstraint("activity_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default=TranslationStatus.DRAFT)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    activity: Mapped[Activity] = relationship(back_populates="translations")


class ActivitySchedule(db.Model):
    """When an activity recurs: an iCalendar RRULE (RFC 5545, without DTSTART) from `starts_on`
    to `ends_on`, at a wall-clock time in the organisation's zone. Its sessions are written out
    as rows (`ActivitySession`) when the schedule is saved, so a week is read by date."""

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), index=True
    )
    rule: Mapped[str] = mapped_column(String(200))  # e.g. FREQ=WEEKLY;INTERVAL=2;BYDAY=TU
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    skip_holidays: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    activity: Mapped[Activity] = relationship(back_populates="schedules")


class ActivitySession(db.Model):
    """One date an activity is held (or was to be). Cancelled and moved sessions stay, with a
    coded reason, so visitors see why and statistics count them."""

    __table_args__ = (
        Index("ix_activity_session_site_date", "site_id", "on_date"),
        Index("ix_activity_session_org_date", "organisation_id", "on_date", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), index=True
    )
    schedule_id: Mapped[int | None] = mapped_column(
        ForeignKey("activity_schedule.id", ondelete="SET NULL"), index=True
    )
    on_date: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    room: Mapped[str] = mapped_column(String(60), default="")
    status: Mapped[str] = mapped_column(String(12), default=SessionStatus.SCHEDULED)
    change_reason: Mapped[str | None] = mapped_column(String(30))  # choices.SessionChange
    moved_from: Mapped[date | None] = mapped_column(Date)  # the planned date, once moved
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    activity: Mapped[Activity] = relationship()
    attendance: Mapped[SessionAttendance | None] = relationship(
        back_populates="session", cascade="all, delete-orphan", uselist=False
    )


class SessionAttendance(db.Model):
    """Who came to a session, as counts only, like a visit: adults by gender, children by age
    band, how many were new, and the individual conversations held. Groups recorded as visits
    and counted as attending (`Visit.session_id`) are added to these when figures are shown.
    Stored exactly, however small; statistics hide small counts."""

    session_id: Mapped[int] = mapped_column(
        ForeignKey("activity_session.id", ondelete="CASCADE"), primary_key=True
    )
    women: Mapped[int] = mapped_column(Integer, default=0)
    men: Mapped[int] = mapped_column(Integer, default=0)
    other_adults: Mapped[int] = mapped_column(Integer, default=0)
    children_0_1: Mapped[int] = mapped_column(Integer, default=0)
    children_1_3: Mapped[int] = mapped_column(Integer, default=0)
    children_3_6: Mapped[int] = mapped_column(Integer, default=0)
    new_people: Mapped[int] = mapped_column(Integer, default=0)  # of the adults, first time here
    conversations: Mapped[int] = mapped_column(Integer, default=0)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    session: Mapped[ActivitySession] = relationship(back_populates="attendance")
    languages: Mapped[list[AttendanceLanguage]] = relationship(
        cascade="all, delete-orphan", order_by="AttendanceLanguage.code"
    )

    @property
    def adults(self) -> int:
        return self.women + self.men + self.other_adults

    @property
    def children(self) -> int:
        return self.children_0_1 + self.children_1_3 + self.children_3_6


class AttendanceLanguage(db.Model):
    """A language spoken at a session, counted per session like `VisitLanguage` per visit."""

    session_id: Mapped[int] = mapped_column(
        ForeignKey("session_attendance.session_id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(12), primary_key=True)


class InformationContact(db.Model):
    """(area: programme) Outreach: people a bridge builder informed about the open preschool
    somewhere else (a coded place), counted, never named."""

    __table_args__ = (Index("ix_information_contact_site_date", "site_id", "on_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    on_date: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(20))  # choices.OutreachPlace
    people: Mapped[int] = mapped_column(Integer, default=1)
    languages: Mapped[list] = mapped_column(JSON, default=list)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# ---------------------------------------------------------------- afterwards (issue 20)


class FollowUp(db.Model):
    """(area: followup) A follow-up task of a referral that closed as started, due some months
    after the close, and its coded result. Anonymous like the referral: it survives the erasure
    of the contact details, and the statistics and project reports count it."""

    __table_args__ = (
        UniqueConstraint("referral_id", "months"),
        Index("ix_follow_up_queue", "service_id", "status", "due_date"),
        Index("ix_follow_up_org_due", "organisation_id", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    referral_id: Mapped[int] = mapped_column(
        ForeignKey("referral.id", ondelete="CASCADE"), index=True
    )
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    months: Mapped[int] = mapped_column(Integer)  # after the referral's close
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default=FollowUpStatus.OPEN)
    result: Mapped[str | None] = mapped_column(String(20))  # choices.FollowUpResult
    sfi_level: Mapped[str | None] = mapped_column(String(2))  # choices.SfiLevel, if completed
    reason_code: Mapped[str | None] = mapped_column(String(20))  # choices.InterruptionReason
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # The referral made again in the same step after an interruption.
    new_referral_id: Mapped[int | None] = mapped_column(
        ForeignKey("referral.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)  # optimistic lock

    referral: Mapped[Referral] = relationship(foreign_keys=[referral_id])
    __mapper_args__ = {"version_id_col": version}


project_sites = db.Table(
    "project_site",
    db.Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
    db.Column("site_id", ForeignKey("site.id", ondelete="CASCADE"), primary_key=True),
)
project_services = db.Table(
    "project_service",
    db.Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
    db.Column("service_id", ForeignKey("service.id", ondelete="CASCADE"), primary_key=True),
)
project_activities = db.Table(
    "project_activity",
    db.Column("project_id", ForeignKey("project.id", ondelete="CASCADE"), primary_key=True),
    db.Column("activity_id", ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True),
)


class Project(db.Model):
    """(area: projects) A funded effort over a fixed period: the sites, services and activities
    it covers and its targets, reported as actual against target."""

    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    funder: Mapped[str] = mapped_column(String(30))  # choices.Funder
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    sites: Mapped[list[Site]] = relationship(secondary=project_sites, order_by="Site.name")
    services: Mapped[list[Service]] = relationship(
        secondary=project_services, order_by="Service.sort_order"
    )
    activities: Mapped[list[Activity]] = relationship(secondary=project_activities)
    targets: Mapped[list[ProjectTarget]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="ProjectTarget.id"
    )


class ProjectTarget(db.Model):
    """A number a project promised for one indicator (choices.Indicator), for everyone or one
    gender, for all its services or one (referrals and starts per service)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), index=True
    )
    indicator: Mapped[str] = mapped_column(String(30))
    gender: Mapped[str | None] = mapped_column(String(10))  # choices.Gender; None: everyone
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    target: Mapped[int] = mapped_column(Integer)

    project: Mapped[Project] = relationship(back_populates="targets")
