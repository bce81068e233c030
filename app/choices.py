"""Every closed list of the domain in one place, each value with its translated label.

Values are stored as short strings (never database enums) so adding one needs no migration of
a type; labels are lazy so they render in the reader's language.
"""

from enum import IntFlag, StrEnum

from flask_babel import lazy_gettext as _l


class Labels(dict):
    """The labels of every closed list, keyed by list and value: members of two lists with the
    same value ("other" is a kind of activity, a reason and a place; "morning" a part of the
    day and a best time) are equal as strings and hash alike, so a plain dict kept only the
    label written last for all of them."""

    @staticmethod
    def _key(member):
        return (type(member), str(member))

    def __setitem__(self, member, label):
        super().__setitem__(self._key(member), label)

    def __getitem__(self, member):
        return super().__getitem__(self._key(member))

    def __contains__(self, member):
        return super().__contains__(self._key(member))

    def get(self, member, default=None):
        return super().get(self._key(member), default)

    def update(self, labels):
        for member, label in dict(labels).items() if isinstance(labels, dict) else labels:
            self[member] = label


class Labelled(StrEnum):
    """A StrEnum whose members carry a translated label in `LABELS`."""

    @property
    def label(self) -> str:
        return str(LABELS[self])

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]


class Role(Labelled):
    STAFF = "staff"
    COORDINATOR = "coordinator"
    ADMIN = "admin"
    # A person at a receiving service (an SFI school's admissions, Arbetsförmedlingen...): works
    # only the inbound referrals to the services of their partner organisation.
    PARTNER = "partner"


class PartOfDay(Labelled):
    MORNING = "morning"
    AFTERNOON = "afternoon"


class VisitCount(Labelled):
    """The head counts of a visit, named as the Visit and summary columns that hold them."""

    WOMEN = "women"
    MEN = "men"
    OTHER_ADULTS = "other_adults"
    CHILDREN_0_1 = "children_0_1"
    CHILDREN_1_3 = "children_1_3"
    CHILDREN_3_6 = "children_3_6"


# Adults by gender, children by age band: the visit form's steppers and the statistics' tables.
ADULT_COUNTS = (VisitCount.WOMEN, VisitCount.MEN, VisitCount.OTHER_ADULTS)
CHILD_COUNTS = (VisitCount.CHILDREN_0_1, VisitCount.CHILDREN_1_3, VisitCount.CHILDREN_3_6)


class Topic(IntFlag):
    """Topics raised in a visit; stored as one bitmask so a year is counted in one scan."""

    WORK = 1
    SFI = 2
    SOCIETY = 4
    PRESCHOOL = 8
    HEALTH = 16
    PARENTING = 32
    HOUSING = 64
    ECONOMY = 128
    OTHER = 256

    @property
    def code(self) -> str:
        return self.name.lower()

    @property
    def label(self) -> str:
        return str(TOPIC_LABELS[self])

    @classmethod
    def by_code(cls, code: str) -> "Topic | None":
        return next((t for t in cls if t.code == code), None)


class TranslationStatus(Labelled):
    DRAFT = "draft"
    REVIEWED = "reviewed"


class LegalBasis(Labelled):
    CONSENT = "consent"
    PUBLIC_TASK = "public_task"


class ConsentMethod(Labelled):
    TABLET = "tablet"
    READ_ALOUD = "read_aloud"
    INTERPRETER = "interpreter"


class ConsentTextStatus(Labelled):
    DRAFT = "draft"
    PUBLISHED = "published"


class ReferralStatus(Labelled):
    NEW = "new"
    CONTACTED = "contacted"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


class Outcome(Labelled):
    STARTED = "started"
    DECLINED = "declined"
    UNREACHABLE = "unreachable"
    NOT_ELIGIBLE = "not_eligible"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    # Set only by a receiving service declining (choices.DeclineReason): it had no place, or
    # said no for another reason.
    NO_PLACE = "no_place"
    DECLINED_BY_SERVICE = "declined_by_service"


class AttemptChannel(Labelled):
    PHONE = "phone"
    SMS = "sms"
    EMAIL = "email"
    IN_PERSON = "in_person"


class AttemptResult(Labelled):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"
    MESSAGE_LEFT = "message_left"


LABELS = Labels()
LABELS.update(
    [
        (Role.STAFF, _l("Personal")),
        (Role.COORDINATOR, _l("Samordnare")),
        (Role.ADMIN, _l("Administratör")),
        (Role.PARTNER, _l("Mottagande verksamhet")),
        (PartOfDay.MORNING, _l("Förmiddag")),
        (PartOfDay.AFTERNOON, _l("Eftermiddag")),
        (VisitCount.WOMEN, _l("Kvinnor")),
        (VisitCount.MEN, _l("Män")),
        # The form counts adults by gender and the statistics report "adults by gender" (column
        # "Kön"): the third count is a gender, not "the other adults" left over, which would read
        # as "gender unknown" and mean something else than what staff recorded.
        (VisitCount.OTHER_ADULTS, _l("Annat kön")),
        (VisitCount.CHILDREN_0_1, _l("0–1 år")),
        (VisitCount.CHILDREN_1_3, _l("1–3 år")),
        (VisitCount.CHILDREN_3_6, _l("3–6 år")),
        (TranslationStatus.DRAFT, _l("Utkast")),
        (TranslationStatus.REVIEWED, _l("Granskad")),
        (LegalBasis.CONSENT, _l("Samtycke (GDPR art. 6.1 a)")),
        (LegalBasis.PUBLIC_TASK, _l("Uppgift av allmänt intresse (GDPR art. 6.1 e)")),
        (ConsentMethod.TABLET, _l("Läst på surfplattan")),
        (ConsentMethod.READ_ALOUD, _l("Uppläst")),
        (ConsentMethod.INTERPRETER, _l("Muntligt, via tolk")),
        (ConsentTextStatus.DRAFT, _l("Utkast")),
        (ConsentTextStatus.PUBLISHED, _l("Publicerad")),
        (ReferralStatus.NEW, _l("Ny")),
        (ReferralStatus.CONTACTED, _l("Kontaktad")),
        (ReferralStatus.IN_PROGRESS, _l("Pågår")),
        (ReferralStatus.CLOSED, _l("Avslutad")),
        (Outcome.STARTED, _l("Började")),
        (Outcome.DECLINED, _l("Tackade nej")),
        (Outcome.UNREACHABLE, _l("Gick inte att nå")),
        (Outcome.NOT_ELIGIBLE, _l("Inte behörig")),
        (Outcome.WITHDRAWN, _l("Återkallad")),
        (Outcome.EXPIRED, _l("Löpte ut")),
        (Outcome.NO_PLACE, _l("Ingen plats")),
        (Outcome.DECLINED_BY_SERVICE, _l("Mottagaren sa nej")),
        (AttemptChannel.PHONE, _l("Telefonsamtal")),
        (AttemptChannel.SMS, _l("Sms")),
        (AttemptChannel.EMAIL, _l("E-post")),
        (AttemptChannel.IN_PERSON, _l("Personligt möte")),
        (AttemptResult.REACHED, _l("Nådd")),
        (AttemptResult.NO_ANSWER, _l("Inget svar")),
        (AttemptResult.WRONG_NUMBER, _l("Fel nummer")),
        (AttemptResult.MESSAGE_LEFT, _l("Lämnat meddelande")),
    ]
)

TOPIC_LABELS = {
    Topic.WORK: _l("Arbete"),
    Topic.SFI: _l("Svenska / SFI"),
    Topic.SOCIETY: _l("Samhälle / SO"),
    Topic.PRESCHOOL: _l("Förskoleplats"),
    Topic.HEALTH: _l("Hälsa"),
    Topic.PARENTING: _l("Föräldraskap"),
    Topic.HOUSING: _l("Boende"),
    Topic.ECONOMY: _l("Ekonomi"),
    Topic.OTHER: _l("Annat"),
}


class BestTime(Labelled):
    """When a visitor prefers to be contacted: coded slots, so no free text is ever stored."""

    MORNING = "morning"
    LUNCH = "lunch"
    AFTERNOON = "afternoon"
    ANY = "any"


class ReasonCode(Labelled):
    """Optional coded reason for a step in the follow-up queue (never free text: no personal
    data can slip in, and reasons can be counted)."""

    BOOKED = "booked"
    APPLICATION_SENT = "application_sent"
    WAITING_LIST = "waiting_list"
    NOT_INTERESTED = "not_interested"
    MOVED_AWAY = "moved_away"
    WRONG_SERVICE = "wrong_service"


class EventKind(Labelled):
    """What a line of a referral's history records: its kind names it where no status does
    (the register extract), so it needs a label of its own."""

    CREATED = "created"
    STATUS = "status"
    ASSIGNED = "assigned"
    ATTEMPT = "attempt"
    FOLLOW_UP = "follow_up"
    PARTNER = "partner"  # a step recorded by the receiving service (choices.PartnerStep)


LABELS.update(
    [
        (EventKind.CREATED, _l("Hänvisningen skapades")),
        (EventKind.STATUS, _l("Nytt steg")),
        (EventKind.ASSIGNED, _l("Ny ansvarig")),
        (EventKind.ATTEMPT, _l("Kontaktförsök")),
        (EventKind.FOLLOW_UP, _l("Uppföljning planerad")),
        (EventKind.PARTNER, _l("Steg hos mottagaren")),
        (BestTime.MORNING, _l("Förmiddag (9–12)")),
        (BestTime.LUNCH, _l("Lunchtid (12–13)")),
        (BestTime.AFTERNOON, _l("Eftermiddag (13–16)")),
        (BestTime.ANY, _l("När som helst på dagen")),
        (ReasonCode.BOOKED, _l("Tid bokad")),
        (ReasonCode.APPLICATION_SENT, _l("Ansökan skickad")),
        (ReasonCode.WAITING_LIST, _l("Står i kö")),
        (ReasonCode.NOT_INTERESTED, _l("Vill inte längre")),
        (ReasonCode.MOVED_AWAY, _l("Har flyttat")),
        (ReasonCode.WRONG_SERVICE, _l("Fel tjänst")),
    ]
)


class ActivityKind(Labelled):
    """(area: programme) The built-in kinds of activity an open preschool holds; an admin adds
    more as `ActivityKindRow` rows of the organisation. Statistics count by this code."""

    OPEN_SESSION = "open_session"
    SFI = "sfi"
    LANGUAGE_CAFE = "language_cafe"
    PARENTING_GROUP = "parenting_group"
    INFORMATION_MEETING = "information_meeting"
    STUDY_VISIT = "study_visit"
    SUPPORT_CONVERSATION = "support_conversation"
    OTHER = "other"


class SessionStatus(Labelled):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class SessionChange(Labelled):
    """(area: programme) Why a session was cancelled or moved, shown to visitors in their
    language: coded, so it translates and no free text about a person reaches a public page."""

    STAFF_ILLNESS = "staff_illness"
    HOLIDAY = "holiday"
    ROOM_UNAVAILABLE = "room_unavailable"
    PARTNER_CANCELLED = "partner_cancelled"
    WEATHER = "weather"
    OTHER = "other"


class OutreachPlace(Labelled):
    """(area: programme) Where a bridge builder met people outside the open preschool."""

    SFI_SCHOOL = "sfi_school"
    CHILD_HEALTH = "child_health"
    LIBRARY = "library"
    FAITH_COMMUNITY = "faith_community"
    HOUSING_AREA = "housing_area"
    HOME_VISIT = "home_visit"
    OTHER = "other"


LABELS.update(
    [
        (ActivityKind.OPEN_SESSION, _l("Öppen verksamhet")),
        (ActivityKind.SFI, _l("SFI på öppna förskolan")),
        (ActivityKind.LANGUAGE_CAFE, _l("Språkcafé")),
        (ActivityKind.PARENTING_GROUP, _l("Föräldragrupp")),
        (ActivityKind.INFORMATION_MEETING, _l("Informationsmöte")),
        (ActivityKind.STUDY_VISIT, _l("Studiebesök")),
        (ActivityKind.SUPPORT_CONVERSATION, _l("Enskilt stödsamtal")),
        (ActivityKind.OTHER, _l("Annan aktivitet")),
        (SessionStatus.SCHEDULED, _l("Planerad")),
        (SessionStatus.CANCELLED, _l("Inställd")),
        (SessionChange.STAFF_ILLNESS, _l("Personalen är sjuk")),
        (SessionChange.HOLIDAY, _l("Helgdag eller lov")),
        (SessionChange.ROOM_UNAVAILABLE, _l("Lokalen går inte att använda")),
        (SessionChange.PARTNER_CANCELLED, _l("Samarbetspartnern kan inte komma")),
        (SessionChange.WEATHER, _l("Vädret")),
        (SessionChange.OTHER, _l("Annat skäl")),
        (OutreachPlace.SFI_SCHOOL, _l("SFI-skolan")),
        (OutreachPlace.CHILD_HEALTH, _l("Barnavårdscentralen (BVC)")),
        (OutreachPlace.LIBRARY, _l("Biblioteket")),
        (OutreachPlace.FAITH_COMMUNITY, _l("Trossamfund")),
        (OutreachPlace.HOUSING_AREA, _l("Bostadsområdet")),
        (OutreachPlace.HOME_VISIT, _l("Hembesök")),
        (OutreachPlace.OTHER, _l("Annan plats")),
    ]
)


# ---------------------------------------------------------------- what happened afterwards
# (issue 20, areas: followup and projects)


class ConsentPurpose(Labelled):
    """What a consent text asks for: the referral itself (contact details, disclosure) or, as a
    separate optional agreement, being contacted again later about how it went."""

    REFERRAL = "referral"
    FOLLOW_UP = "follow_up"
    # Not consents: the texts of the messages sent to a visitor who chose a channel, kept as
    # consent texts are (versions per locale, draft or published), with placeholders.
    MESSAGE_CONFIRMATION = "message_confirmation"
    MESSAGE_BOOKED = "message_booked"


class Gender(Labelled):
    """The adult's gender, a target-group fact on a referral (optional, counted only in
    aggregates)."""

    WOMAN = "woman"
    MAN = "man"
    OTHER = "other"


class FollowUpStatus(Labelled):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"  # consent withdrawn before it was due


class FollowUpResult(Labelled):
    """How it went, months after a referral closed as started: coded, never free text."""

    STILL_ACTIVE = "still_active"  # still in SFI, SO or the service
    COMPLETED = "completed"
    INTERRUPTED = "interrupted"
    IN_WORK = "in_work"
    IN_STUDIES = "in_studies"
    IN_WORK_PLACEMENT = "in_work_placement"
    UNREACHABLE = "unreachable"


class InterruptionReason(Labelled):
    PARENTAL_LEAVE = "parental_leave"
    HEALTH = "health"
    MOVED = "moved"
    WORK = "work"
    OTHER = "other"


class SfiLevel(Labelled):
    """The SFI course completed (courses A to D)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"


class Funder(Labelled):
    LANSSTYRELSEN_37A = "lansstyrelsen_37a"
    SKR = "skr"
    ESF = "esf"
    MUNICIPALITY = "municipality"
    OTHER = "other"


class Indicator(Labelled):
    """What a project sets a target for. The definitions (what is counted, from which rows) are
    in docs/statistics.md and in app.stats.project_report, one function each."""

    WOMEN_REACHED = "women_reached"
    VISITS = "visits"
    SESSIONS_HELD = "sessions_held"
    PARTICIPANTS = "participants"
    REFERRALS = "referrals"
    STARTED = "started"
    WORK_OR_STUDIES = "work_or_studies"
    WORK_PLACEMENTS = "work_placements"
    CONVERSATIONS = "conversations"


# Indicators whose rows know the adult's gender (a referral's target-group fact, a session's
# counts by gender), so a target may be split by it; and those counted per service.
GENDERED_INDICATORS = frozenset(
    {
        Indicator.PARTICIPANTS,
        Indicator.REFERRALS,
        Indicator.STARTED,
        Indicator.WORK_OR_STUDIES,
        Indicator.WORK_PLACEMENTS,
    }
)
PER_SERVICE_INDICATORS = frozenset({Indicator.REFERRALS, Indicator.STARTED})


LABELS.update(
    [
        (ConsentPurpose.REFERRAL, _l("Hänvisning")),
        (ConsentPurpose.FOLLOW_UP, _l("Uppföljning senare")),
        (ConsentPurpose.MESSAGE_CONFIRMATION, _l("Meddelande: bekräftelse")),
        (ConsentPurpose.MESSAGE_BOOKED, _l("Meddelande: bokad tid")),
        (Gender.WOMAN, _l("Kvinna")),
        (Gender.MAN, _l("Man")),
        (Gender.OTHER, _l("Annat kön")),
        (FollowUpStatus.OPEN, _l("Att göra")),
        (FollowUpStatus.DONE, _l("Gjord")),
        (FollowUpStatus.CANCELLED, _l("Inställd, samtycket återkallat")),
        (FollowUpResult.STILL_ACTIVE, _l("Går kvar i SFI, SO eller tjänsten")),
        (FollowUpResult.COMPLETED, _l("Har gått klart")),
        (FollowUpResult.INTERRUPTED, _l("Har avbrutit")),
        (FollowUpResult.IN_WORK, _l("Har arbete")),
        (FollowUpResult.IN_STUDIES, _l("Studerar")),
        (FollowUpResult.IN_WORK_PLACEMENT, _l("Har praktik")),
        (FollowUpResult.UNREACHABLE, _l("Gick inte att nå")),
        (InterruptionReason.PARENTAL_LEAVE, _l("Föräldraledighet")),
        (InterruptionReason.HEALTH, _l("Hälsa")),
        (InterruptionReason.MOVED, _l("Har flyttat")),
        (InterruptionReason.WORK, _l("Fick arbete")),
        (InterruptionReason.OTHER, _l("Annat skäl")),
        (SfiLevel.A, _l("Kurs A")),
        (SfiLevel.B, _l("Kurs B")),
        (SfiLevel.C, _l("Kurs C")),
        (SfiLevel.D, _l("Kurs D")),
        (Funder.LANSSTYRELSEN_37A, _l("Länsstyrelsen (§ 37 a)")),
        (Funder.SKR, _l("Överenskommelse med SKR")),
        (Funder.ESF, _l("Europeiska socialfonden (ESF)")),
        (Funder.MUNICIPALITY, _l("Kommunen")),
        (Funder.OTHER, _l("Annan finansiär")),
        (Indicator.WOMEN_REACHED, _l("Nya kvinnor som besökt")),
        (Indicator.VISITS, _l("Besök (grupper)")),
        (Indicator.SESSIONS_HELD, _l("Genomförda aktivitetstillfällen")),
        (Indicator.PARTICIPANTS, _l("Deltagare på aktiviteter (vuxna, per tillfälle)")),
        (Indicator.REFERRALS, _l("Hänvisningar")),
        (Indicator.STARTED, _l("Hänvisningar som ledde till start")),
        (Indicator.WORK_OR_STUDIES, _l("I arbete eller studier efter insatsen")),
        (Indicator.WORK_PLACEMENTS, _l("I praktik efter insatsen")),
        (Indicator.CONVERSATIONS, _l("Enskilda samtal")),
    ]
)


class PartnerKind(Labelled):
    """What kind of organisation receives referrals."""

    SCHOOL = "school"
    STATE_AGENCY = "state_agency"
    MUNICIPAL_UNIT = "municipal_unit"
    CIVIL_SOCIETY = "civil_society"


class PartnerStep(Labelled):
    """What a receiving service records on an inbound referral (app/partners/workflow.py maps
    each onto the referral's status and outcome)."""

    RECEIVED = "received"
    CONTACTED = "contacted"
    BOOKED = "booked"
    STARTED = "started"
    DECLINED = "declined"


class DeclineReason(Labelled):
    """Why a receiving service declined a referral."""

    NOT_ELIGIBLE = "not_eligible"
    NO_PLACE = "no_place"
    COULD_NOT_REACH = "could_not_reach"
    OTHER = "other"


class MessageChannel(Labelled):
    """How a visitor chose to hear about her referral; none chosen: no messages at all."""

    SMS = "sms"
    EMAIL = "email"


class MessageKind(Labelled):
    CONFIRMATION = "confirmation"  # the referral is made: the code and what happens next
    BOOKED = "booked"  # the receiving service booked a date


class MessageStatus(Labelled):
    QUEUED = "queued"  # waiting for `flask send-outbox`, or for the next try
    SENDING = "sending"  # claimed by one run of send-outbox
    SENT = "sent"
    FAILED = "failed"  # the provider refused it (a bad number), or it gave up after retries
    CANCELLED = "cancelled"  # consent withdrawn or erased before it was sent


LABELS.update(
    [
        (PartnerKind.SCHOOL, _l("Skola")),
        (PartnerKind.STATE_AGENCY, _l("Statlig myndighet")),
        (PartnerKind.MUNICIPAL_UNIT, _l("Kommunal verksamhet")),
        (PartnerKind.CIVIL_SOCIETY, _l("Civilsamhälle")),
        (PartnerStep.RECEIVED, _l("Mottagen")),
        (PartnerStep.CONTACTED, _l("Kontaktad")),
        (PartnerStep.BOOKED, _l("Tid bokad")),
        (PartnerStep.STARTED, _l("Har börjat")),
        (PartnerStep.DECLINED, _l("Nej från mottagaren")),
        (DeclineReason.NOT_ELIGIBLE, _l("Inte behörig")),
        (DeclineReason.NO_PLACE, _l("Ingen plats")),
        (DeclineReason.COULD_NOT_REACH, _l("Gick inte att nå")),
        (DeclineReason.OTHER, _l("Annat skäl")),
        (MessageChannel.SMS, _l("Sms")),
        (MessageChannel.EMAIL, _l("E-post")),
        (MessageKind.CONFIRMATION, _l("Bekräftelse")),
        (MessageKind.BOOKED, _l("Bokad tid")),
        (MessageStatus.QUEUED, _l("Väntar på att skickas")),
        (MessageStatus.SENDING, _l("Skickas")),
        (MessageStatus.SENT, _l("Skickat")),
        (MessageStatus.FAILED, _l("Kunde inte skickas")),
        (MessageStatus.CANCELLED, _l("Stoppat")),
    ]
)


def label(kind: type[Labelled], value: str) -> str:
    """The translated label of a stored code of `kind`, for every page, list and export; a code
    that is not (or no longer) in the list shows as itself rather than failing the page."""
    try:
        return kind(value).label
    except ValueError:
        return value
