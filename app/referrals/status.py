"""The visitor's own status page, public: `/<lang>/status`. She types the code on her receipt
and her phone number and reads, in her language, where each of her referrals stands (sent,
received, a booked time, started, closed), with the service's name and the code; nothing
else, no name, no number, no history of who did what.

The lookup is the register extract's (`privacy.find_for_extract`): both must match, a wrong
number and an unknown code get the same answer, and a withdrawn or erased consent (its
contact details gone) is not found. Lookups are limited per address and audited. The page is
never cached: its form carries a CSRF token, and its answer is hers."""

from flask import current_app, make_response, render_template, request
from limits import parse_many
from sqlalchemy import select

from .. import audit, privacy
from ..access import public
from ..extensions import db, limiter
from ..i18n import CONTENT_LOCALES
from ..info import LocaleConverter
from ..info.pages import wrong_locale
from ..info.queries import public_organisation
from ..models import Consent, Referral
from ..names import service_names
from . import bp
from .forms import StatusForm
from .progress import standing

# Per address, a moving window: a few tries for a visitor who mistypes, too few to guess a
# code (eight characters) or a number behind a known code.
LOOKUP_LIMITS = "5 per minute;20 per hour"

# The /<lang>/ converter is info's; this blueprint is registered before info's, so it adds the
# same converter itself, before the route below that uses it.
bp.record_once(lambda state: state.app.url_map.converters.setdefault("locale", LocaleConverter))


@bp.route("/<locale:lang>/status", methods=["GET", "POST"])
@public
def status(lang: str):
    if lang not in CONTENT_LOCALES:
        return wrong_locale(lang, "referrals.status")
    form = StatusForm()
    if request.method == "GET":
        return _page(lang, form)
    if _over_the_limit():
        return _page(lang, form, limited=True, status=429)
    if not form.validate_on_submit():
        return _page(lang, form, status=422)
    consent = _lookup(form.code.data, form.phone.data)
    form.phone.data = ""  # her number is not written back into the page
    if consent is None:
        db.session.commit()  # the refused lookup's audit event
        return _page(lang, form, missed=True, status=404)
    referrals = list(
        db.session.scalars(
            select(Referral).where(Referral.consent_id == consent.id).order_by(Referral.id)
        )
    )
    db.session.commit()  # the read is audited before anything is shown
    return _page(
        lang,
        StatusForm(formdata=None),
        consent=consent,
        referrals=[(r, standing(r)) for r in referrals],
        names=service_names([r.service_id for r in referrals], lang),
    )


def _lookup(code: str, phone: str) -> Consent | None:
    """Her consent, when the code and the number match one that is not withdrawn; each try
    audited, found or not."""
    org = public_organisation()
    consent = privacy.find_for_extract(org, code, phone) if org is not None else None
    if consent is not None and consent.withdrawn_at is not None:
        consent = None
    if consent is None:
        org_id = org.id if org is not None else None
        audit.record("status_lookup", "organisation", org_id, organisation_id=org_id, found=False)
        return None
    audit.record(
        "status_lookup",
        "consent",
        consent.id,
        organisation_id=consent.organisation_id,
        found=True,
    )
    return consent


def _over_the_limit() -> bool:
    """Count this lookup against the address's limits; True when one of them is used up."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return False
    keys = ("status-lookup", request.remote_addr or "-")
    items = parse_many(LOOKUP_LIMITS)
    if not all(limiter.limiter.test(item, *keys) for item in items):
        return True
    for item in items:
        limiter.limiter.hit(item, *keys)
    return False


def _page(lang: str, form: StatusForm, status: int = 200, **context):
    response = make_response(
        render_template("referrals/status.html", lang=lang, form=form, **context), status
    )
    response.cache_control.no_store = True
    return response
