"""Admin: single sign-on through the organisation's identity provider (issue 22): whether
people it knows but the organisation does not are created (waiting for a role) or refused,
whether its MFA claim counts as the second factor, and the map of its group names to a role
and sites, the only way roles and sites ever come from it (app/auth/sso.py applies it).

The map is a short JSON list on the organisation: a handful of rows, edited here one at a time.
"""

import json
import re

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from .. import audit
from ..access import roles
from ..auth.sso import MAPPABLE_ROLES, configured, group_map
from ..choices import Role
from ..extensions import db
from ..models import Organisation
from ..web import form_status, render
from . import SECTIONS, bp
from .forms import CheckboxList

SECTIONS.append(
    (
        "admin.sso",
        _l("Inloggning via organisationen"),
        _l("Nya konton, tvåstegsverifiering och grupper från organisationens inloggning."),
    )
)


class SsoSettingsForm(FlaskForm):
    sso_create_users = BooleanField(
        _l("Skapa konton för okända personer (utan roll tills en administratör ger en)")
    )
    sso_trust_mfa = BooleanField(
        _l("Godta organisationens tvåstegsverifiering i stället för appens egen")
    )
    sso_mfa_acr = StringField(
        _l("Nivåer (acr) som räknas som tvåstegsverifiering"),
        validators=[
            Length(max=200, message=_l("Högst 200 tecken.")),
            Regexp(
                r"^[\w:./#\-\s,]*$",
                message=_l("Bara bokstäver, siffror och : . / # - med mellanslag eller komma."),
            ),
        ],
    )


class GroupMapForm(FlaskForm):
    group = StringField(
        _l("Gruppens namn hos organisationen"),
        validators=[
            DataRequired(_l("Skriv gruppens namn.")),
            Length(max=200, message=_l("Högst 200 tecken.")),
        ],
    )
    role = SelectField(_l("Roll"))
    sites = CheckboxList(_l("Förskolor"), coerce=int, validate_choice=True)


def _group_form(org: Organisation) -> GroupMapForm:
    form = GroupMapForm(prefix="map")
    form.role.choices = [(r.value, r.label) for r in MAPPABLE_ROLES]
    form.sites.choices = [(s.id, s.name) for s in org.sites]
    return form


def _page(org, form, group_form, status=200):
    sites = {s.id: s.name for s in org.sites}
    rows = [
        {
            "group": row["group"],
            "role": Role(row["role"]).label,
            "sites": [sites[i] for i in row.get("site_ids", []) if i in sites],
        }
        for row in group_map(org)
    ]
    page = render(
        "admin/sso.html",
        org=org,
        form=form,
        group_form=group_form,
        rows=rows,
        sso_configured=configured(),
    )
    return page, status


@bp.route("/sso", methods=["GET", "POST"])
@roles(Role.ADMIN)
def sso():
    org = db.session.get(Organisation, current_user.organisation_id)
    form = SsoSettingsForm(obj=org)
    if form.validate_on_submit():
        form.sso_mfa_acr.data = " ".join(re.split(r"[\s,]+", form.sso_mfa_acr.data.strip()))
        changed = {}
        for name in ("sso_create_users", "sso_trust_mfa", "sso_mfa_acr"):
            value = getattr(form, name).data
            if getattr(org, name) != value:
                changed[name] = [getattr(org, name), value]
                setattr(org, name, value)
        audit.record("sso_settings_updated", "organisation", org.id, changed=changed)
        db.session.commit()
        flash(_("Inställningarna är sparade."))
        return redirect(url_for("admin.sso"), code=303)
    return _page(org, form, _group_form(org), form_status(form))


@bp.post("/sso/groups")
@roles(Role.ADMIN)
def sso_group_add():
    org = db.session.get(Organisation, current_user.organisation_id)
    group_form = _group_form(org)
    if not group_form.validate_on_submit():
        return _page(org, SsoSettingsForm(obj=org), group_form, 422)
    rows = [row for row in group_map(org) if row["group"] != group_form.group.data.strip()]
    row = {
        "group": group_form.group.data.strip(),
        "role": group_form.role.data,
        "site_ids": sorted(group_form.sites.data or []),
    }
    org.sso_groups = json.dumps([*rows, row])
    audit.record("sso_settings_updated", "organisation", org.id, group_added=row)
    db.session.commit()
    flash(_("Gruppen är kopplad."))
    return redirect(url_for("admin.sso"), code=303)


class GroupRemoveForm(FlaskForm):
    group = StringField(validators=[DataRequired(), Length(max=200)])


@bp.post("/sso/groups/remove")
@roles(Role.ADMIN)
def sso_group_remove():
    org = db.session.get(Organisation, current_user.organisation_id)
    form = GroupRemoveForm()
    rows = group_map(org)
    kept = [row for row in rows if not form.validate_on_submit() or row["group"] != form.group.data]
    if len(kept) == len(rows):  # nothing by that name (removed already): nothing to do
        return redirect(url_for("admin.sso"), code=303)
    org.sso_groups = json.dumps(kept)
    audit.record("sso_settings_updated", "organisation", org.id, group_removed=form.group.data)
    db.session.commit()
    flash(_("Kopplingen är borttagen."))
    return redirect(url_for("admin.sso"), code=303)
