"""Forms of the queue's inline actions. Each carries the referral's `version` (hidden), so a
change made on an out-of-date screen is refused instead of overwriting someone else's."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField
from wtforms.validators import InputRequired, Optional, StopValidation, ValidationError
from wtforms.widgets import HiddenInput

from ..choices import AttemptChannel, AttemptResult, ReasonCode, ReferralStatus
from ..form_fields import DayField, one_of
from ..workdays import local_today
from .workflow import MANUAL_OUTCOMES


def date_required(_form, field):
    """Like DataRequired, but keeps the parse error of a date in the wrong format (which
    DataRequired would replace with "required")."""
    if field.data is None and not field.process_errors:
        raise StopValidation(_l("Fyll i ett datum."))


class ActionForm(FlaskForm):
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    next = HiddenField()


class StatusForm(ActionForm):
    to_status = SelectField(_l("Nytt steg"), choices=ReferralStatus.choices, validate_choice=False)
    outcome = SelectField(_l("Utfall"), validate_choice=False)
    reason_code = SelectField(
        _l("Orsak (valfri)"),
        validate_choice=False,
        validators=[one_of(set(ReasonCode), _l("Välj en orsak i listan."))],
    )
    follow_up_date = DayField(_l("Nästa uppföljning"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcome.choices = [("", _l("Inget (avslutar inte)"))] + [
            (o.value, o.label) for o in MANUAL_OUTCOMES
        ]
        self.reason_code.choices = [("", _l("Ingen orsak"))] + ReasonCode.choices()

    def validate_follow_up_date(self, field):
        if field.data and field.data < local_today():
            raise ValidationError(_l("Datumet har redan passerat."))


class AttemptForm(ActionForm):
    channel = SelectField(
        _l("Kanal"),
        choices=AttemptChannel.choices,
        validate_choice=False,
        validators=[
            InputRequired(_l("Välj en kanal.")),
            one_of(set(AttemptChannel), _l("Välj en kanal.")),
        ],
    )
    result = SelectField(
        _l("Resultat"),
        choices=AttemptResult.choices,
        validate_choice=False,
        validators=[
            InputRequired(_l("Välj ett resultat.")),
            one_of(set(AttemptResult), _l("Välj ett resultat.")),
        ],
    )
    on_date = DayField(_l("Datum"), validators=[date_required])

    def validate_on_date(self, field):
        if field.data and field.data > local_today():
            raise ValidationError(_l("Datumet kan inte vara i framtiden."))


class FollowUpForm(ActionForm):
    follow_up_date = DayField(_l("Nästa uppföljning"), validators=[date_required])

    def validate_follow_up_date(self, field):
        if field.data and field.data < local_today():
            raise ValidationError(_l("Datumet har redan passerat."))


class AssignForm(ActionForm):
    # Checked against the service's coordinators in the view; anything else is tampering.
    assignee_id = HiddenField()
