"""Admin: the organisation's settings (legal basis, retention, deadlines, statistics
suppression, audit retention, kiosk timeout, required two-factor, the follow-ups' months and
the longest a follow-up consent keeps contact details, the working days a receiving service has
to acknowledge a referral and whether its users need two-factor), each within a safe range."""

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import audit
from ..access import roles
from ..choices import Role
from ..extensions import db
from ..models import Organisation
from ..web import form_status, render
from . import SECTIONS, bp
from .forms import SettingsForm

SECTIONS.append(
    ("admin.settings", _l("Inställningar"), _l("Lagring, tidsgränser och tvåstegsverifiering."))
)

FIELDS = [
    "legal_basis",
    "retention_days_after_close",
    "max_open_days",
    "first_contact_working_days",
    "unreachable_after_attempts",
    "suppression_threshold",
    "audit_retention_days",
    "kiosk_idle_seconds",
    "require_2fa",
    "follow_up_months",
    "follow_up_max_days",
    "partner_ack_working_days",
    "partner_require_2fa",
]


@bp.route("/settings", methods=["GET", "POST"])
@roles(Role.ADMIN)
def settings():
    org = db.session.get(Organisation, current_user.organisation_id)
    form = SettingsForm(obj=org)
    if form.validate_on_submit():
        changed = {}
        for name in FIELDS:
            value = getattr(form, name).data
            if getattr(org, name) != value:
                changed[name] = [getattr(org, name), value]
                setattr(org, name, value)
        audit.record("settings_updated", "organisation", org.id, changed=changed)
        db.session.commit()
        flash(_("Inställningarna är sparade."))
        return redirect(url_for("admin.settings"), code=303)
    return render("admin/settings.html", form=form, org=org), form_status(form)
