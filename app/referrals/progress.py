"""Where a referral stands, in the visitor's words: one short sentence per referral for her
status page (`status`), from the referral's anonymous columns only (status, outcome, the
receiving service's step, a booked time and place). No names, no contact details, no history
of who did what."""

from dataclasses import dataclass

from flask_babel import format_date, format_time
from flask_babel import lazy_gettext as _l

from ..choices import Outcome, PartnerStep, ReferralStatus
from ..models import Referral

# Why a referral closed, in plain words. A withdrawn consent is never looked up (its contact
# details are gone), but its referral would read as the others do.
OUTCOME_PHRASES = {
    Outcome.DECLINED: _l("Du sa nej tack."),
    Outcome.UNREACHABLE: _l("Vi kunde inte nå dig."),
    Outcome.NOT_ELIGIBLE: _l("Tjänsten passade inte för dig just nu."),
    Outcome.NO_PLACE: _l("Det fanns ingen plats."),
    Outcome.DECLINED_BY_SERVICE: _l("Mottagaren sa nej."),
    Outcome.WITHDRAWN: _l("Du tog tillbaka ditt samtycke."),
    Outcome.EXPIRED: _l("Tiden för hänvisningen gick ut."),
}


@dataclass(frozen=True)
class Standing:
    """A referral as she sees it. `stage`: sent, received, booked, started or closed (the
    template words each); `why`: a closed one's reason in plain words; a booked one's date and
    time on Sweden's clock in the page's language, and its place as the service wrote it."""

    stage: str
    why: str | None = None
    date: str | None = None
    time: str | None = None
    place: str | None = None


def standing(referral: Referral) -> Standing:
    """The referral's place on its way, latest step first: started, closed, a booked time,
    received (by the receiving service, or a coordinator working it), else sent."""
    outcome = referral.outcome
    if outcome == Outcome.STARTED or referral.partner_step == PartnerStep.STARTED:
        return Standing("started")
    declined = referral.partner_step == PartnerStep.DECLINED
    if referral.status == ReferralStatus.CLOSED or declined:
        phrase = OUTCOME_PHRASES.get(outcome) if outcome else None
        if phrase is None and declined:
            phrase = OUTCOME_PHRASES[Outcome.DECLINED_BY_SERVICE]
        return Standing("closed", why=str(phrase) if phrase else None)
    if (when := referral.appointment_at) is not None:  # UTC; Babel shows Stockholm time
        return Standing(
            "booked",
            date=format_date(when, "long"),
            time=format_time(when, "short"),
            place=referral.appointment_place,
        )
    if (
        referral.received_at is not None
        or referral.partner_step is not None
        or referral.status != ReferralStatus.NEW
    ):
        return Standing("received")
    return Standing("sent")
