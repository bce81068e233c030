"""The form of a follow-up's result. It carries the follow-up's `version` (hidden), so a result
recorded on an out-of-date screen is refused instead of overwriting someone else's; the rules
that tie the fields together are `records.check_result`'s, so the form and the write agree."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, RadioField, SelectField
from wtforms.validators import InputRequired
from wtforms.widgets import HiddenInput

from ..choices import FollowUpResult, InterruptionReason, SfiLevel
from ..form_fields import one_of
from . import records


class ResultForm(FlaskForm):
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    result = RadioField(
        _l("Hur går det för henne nu?"),
        choices=FollowUpResult.choices,
        validate_choice=False,
        validators=[
            InputRequired(_l("Välj ett resultat.")),
            one_of(set(FollowUpResult), _l("Välj ett resultat.")),
        ],
    )
    sfi_level = SelectField(
        _l("Kurs som hon har gått klart (valfri)"),
        validate_choice=False,
        validators=[one_of(set(SfiLevel), _l("Välj en kurs i listan."))],
    )
    reason_code = SelectField(
        _l("Orsak till avbrottet"),
        validate_choice=False,
        validators=[one_of(set(InterruptionReason), _l("Välj en orsak i listan."))],
    )
    re_refer = BooleanField(_l("Gör en ny hänvisning till samma tjänst"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sfi_level.choices = [("", _l("Ingen kurs angiven"))] + SfiLevel.choices()
        self.reason_code.choices = [("", _l("Ingen orsak"))] + InterruptionReason.choices()

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        try:
            records.check_result(
                self.result.data,
                self.sfi_level.data or None,
                self.reason_code.data or None,
                bool(self.re_refer.data),
            )
        except records.FollowUpInvalid as error:
            self[error.field].errors = [error.message]
            return False
        return True
