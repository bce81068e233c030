"""The forms of the referral flow. State between steps travels in hidden fields (service ids,
visitor language, consent text id, follow-up text id), never contact details in the session."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields import EmailField, TelField
from wtforms.validators import (
    AnyOf,
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from .. import privacy
from ..choices import BestTime, ConsentMethod, Gender, MessageChannel
from ..i18n import CONTENT_LOCALES, LOCALES
from ..text_input import name_text
from ..web import new_form_key


class ChipsField(SelectMultipleField):
    """Several checkboxes, one per choice (rendered as large chips)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def locale_choices() -> list[tuple[str, str]]:
    """The languages a visitor can be contacted in: the UI languages."""
    return list(LOCALES.items())


def text_locale_choices() -> list[tuple[str, str]]:
    """The languages a consent text can be shown in: the UI languages and lättläst."""
    return list(CONTENT_LOCALES.items())


class StartForm(FlaskForm):
    """Step 1: which services, and which language the visitor reads."""

    class Meta:
        csrf = False  # a GET form that only chooses what to show next

    service_id = ChipsField(
        _l("Tjänster"),
        coerce=int,
        validators=[DataRequired(message=_l("Välj minst en tjänst."))],
    )
    visitor_lang = SelectField(_l("Besökarens språk"), choices=text_locale_choices)


BOTH_BOXES = _l("Du behöver kryssa i båda rutorna för att säga ja.")


class ConsentForm(FlaskForm):
    """Step 2: the visitor's two explicit agreements and how the consent was given."""

    agree_processing = BooleanField(
        _l(
            "Jag samtycker till att mina kontaktuppgifter sparas för att tjänsterna ska kontakta mig."
        ),
        validators=[DataRequired(message=BOTH_BOXES)],
    )
    agree_disclosure = BooleanField(
        _l(
            "Jag samtycker till att öppna förskolan lämnar ut mina kontaktuppgifter till tjänsterna ovan, trots sekretessen."
        ),
        validators=[DataRequired(message=BOTH_BOXES)],
    )
    # Optional and separate: shown only when a follow-up text is published; unchecked changes
    # nothing about the referral.
    agree_follow_up = BooleanField(
        _l("Ja, ni får kontakta mig senare och fråga hur det gick."), default=False
    )
    method = RadioField(
        _l("Hur samtycket gavs"),
        choices=ConsentMethod.choices,
        default=ConsentMethod.TABLET.value,
        validators=[InputRequired()],
    )


# No channel chosen: she hears nothing from us (choices.MessageChannel).
NO_MESSAGES = ""

# A target-group fact's answers: "" is "not answered", stored as None.
NOT_ANSWERED = ""
YES_NO = {"yes": True, "no": False, NOT_ANSWERED: None}


def yes_no_choices() -> list[tuple[str, str]]:
    return [("yes", _l("Ja")), ("no", _l("Nej")), (NOT_ANSWERED, _l("Inget svar"))]


def gender_choices() -> list[tuple[str, str]]:
    return [*Gender.choices(), (NOT_ANSWERED, _l("Inget svar"))]


def message_channel_choices() -> list[tuple[str, str]]:
    return [(NO_MESSAGES, _l("Inga meddelanden")), *MessageChannel.choices()]


def fact_field(label) -> RadioField:
    return RadioField(label, choices=yes_no_choices, default=NOT_ANSWERED)


# A shared tablet must not offer the next visitor the last one's name or number.
NO_AUTOFILL = {"autocomplete": "off"}


class ContactForm(FlaskForm):
    """Step 3: the contact details, minimised. Phone and/or e-mail; at least one."""

    first_name = StringField(
        _l("Förnamn eller smeknamn"),
        validators=[
            DataRequired(message=_l("Skriv ett förnamn eller smeknamn.")),
            Length(max=80),
            name_text,
        ],
        render_kw=NO_AUTOFILL,
    )
    phone = TelField(
        _l("Telefonnummer"), validators=[Optional(), Length(max=40)], render_kw=NO_AUTOFILL
    )
    email = EmailField(
        _l("E-post"),
        validators=[
            Optional(),
            Length(max=254),
            Email(message=_l("Skriv en giltig e-postadress."), check_deliverability=False),
        ],
        render_kw=NO_AUTOFILL,
    )
    contact_language = SelectField(_l("Språk för kontakt"), choices=locale_choices)
    interpreter_needed = BooleanField(_l("Behöver tolk"))
    best_time = SelectField(_l("Bästa tid att nå"), choices=BestTime.choices)
    # Part of the consent she gives here: messages about her referral (a confirmation, a
    # booked time), only on the channel she picks, none unless she picks one.
    message_channel = RadioField(
        _l("Vill hon få besked om hänvisningen?"),
        choices=message_channel_choices,
        default=NO_MESSAGES,
    )

    # Target-group facts: optional and coded, counted only in statistics.
    gender = RadioField(_l("Kön"), choices=gender_choices, default=NOT_ANSWERED)
    has_child_0_6 = fact_field(_l("Har barn 0–6 år"))
    parental_leave = fact_field(_l("Föräldraledig"))
    sfi_interrupted_before = fact_field(_l("Har avbrutit SFI tidigare"))
    FACT_FIELDS = ("gender", "has_child_0_6", "parental_leave", "sfi_interrupted_before")

    # The consent step's answer, carried in hidden fields, and the form's one-time key. Without
    # them the consent step was skipped or altered: see `consent_missing`.
    agree_processing = HiddenField(validators=[AnyOf(["y"], message=BOTH_BOXES)])
    agree_disclosure = HiddenField(validators=[AnyOf(["y"], message=BOTH_BOXES)])
    method = HiddenField(
        validators=[
            AnyOf([m.value for m in ConsentMethod], message=_l("Välj ett av alternativen."))
        ]
    )
    # The optional follow-up agreement: "y" or nothing (the flow checks the text it names).
    agree_follow_up = HiddenField(validators=[AnyOf(["y", ""])], default="")
    form_key = HiddenField(validators=[DataRequired(), Length(max=64)])
    CONSENT_FIELDS = (
        "agree_processing",
        "agree_disclosure",
        "agree_follow_up",
        "method",
        "form_key",
    )

    phone_e164: str | None = None

    @classmethod
    def after_consent(cls, consent: "ConsentForm", language: str) -> "ContactForm":
        """The contact step's empty form, carrying the answer of a valid consent step."""
        return cls(
            formdata=None,
            agree_processing="y",
            agree_disclosure="y",
            method=consent.method.data,
            agree_follow_up="y" if consent.agree_follow_up.data else "",
            form_key=new_form_key(),
            contact_language=language,
        )

    @property
    def follow_up_agreed(self) -> bool:
        return self.agree_follow_up.data == "y"

    def target_facts(self) -> privacy.TargetFacts:
        """The coded answers, None where not answered."""
        return privacy.TargetFacts(
            gender=self.gender.data or None,
            has_child_0_6=YES_NO[self.has_child_0_6.data],
            parental_leave=YES_NO[self.parental_leave.data],
            sfi_interrupted_before=YES_NO[self.sfi_interrupted_before.data],
        )

    @property
    def consent_missing(self) -> bool:
        """The consent step's answer is missing or altered (or the form key is): nothing may be
        stored, and there is nothing for the visitor to correct on this step."""
        return any(self[name].errors for name in self.CONSENT_FIELDS)

    def validate_phone(self, field) -> None:
        if not field.data:
            self.phone_e164 = None
            return
        try:
            self.phone_e164 = privacy.normalise_phone(field.data)
        except ValueError as error:
            raise ValidationError(
                _l("Skriv ett giltigt telefonnummer, till exempel 070-123 45 67.")
            ) from error

    @property
    def chosen_channel(self) -> str | None:
        """The channel she chose for messages (choices.MessageChannel), None for none."""
        return self.message_channel.data or None

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        has_phone = bool((self.phone.data or "").strip())
        has_email = bool((self.email.data or "").strip())
        if not has_phone and not has_email:
            self.phone.errors = [
                *self.phone.errors,
                _l("Skriv ett telefonnummer eller en e-postadress."),
            ]
            return False
        needs = {
            MessageChannel.SMS: (has_phone, _l("För sms behövs ett telefonnummer.")),
            MessageChannel.EMAIL: (has_email, _l("För e-post behövs en e-postadress.")),
        }
        if self.chosen_channel in needs:
            present, message = needs[MessageChannel(self.chosen_channel)]
            if not present:
                self.message_channel.errors = [*self.message_channel.errors, message]
                return False
        return valid


class StatusForm(FlaskForm):
    """The visitor's own lookup of where her referral stands: the receipt's code and her
    phone number, both needed (the register extract's lookup)."""

    code = StringField(
        _l("Referenskod"),
        validators=[DataRequired(message=_l("Skriv koden från ditt kvitto.")), Length(max=20)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
    phone = TelField(
        _l("Ditt telefonnummer"),
        validators=[DataRequired(message=_l("Skriv ditt telefonnummer.")), Length(max=40)],
        render_kw=NO_AUTOFILL,  # she may look it up on a library's or a friend's computer
    )


class ExtractForm(FlaskForm):
    """Register extract: the receipt's reference code and the visitor's phone number."""

    code = StringField(
        _l("Referenskod"),
        validators=[DataRequired(message=_l("Skriv referenskoden från kvittot.")), Length(max=20)],
    )
    phone = TelField(
        _l("Besökarens telefonnummer"),
        validators=[DataRequired(message=_l("Skriv besökarens telefonnummer.")), Length(max=40)],
        render_kw=NO_AUTOFILL,
    )
