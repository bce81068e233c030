"""The sign-in area's forms; their validators carry translated messages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Regexp


class LoginForm(FlaskForm):
    # autocomplete names the fields' purpose (WCAG 1.3.5), so password managers fill them.
    # A text field with the e-mail keyboard: HTML allows autocomplete="username" on a text
    # field, not on type="email" (the Nu HTML Checker's error).
    email = StringField(
        _l("E-post"),
        validators=[DataRequired(_l("Skriv din e-postadress.")), Length(max=254)],
        render_kw={
            "autocomplete": "username",
            "inputmode": "email",
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )
    password = PasswordField(
        _l("Lösenord"),
        validators=[DataRequired(_l("Skriv ditt lösenord.")), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


class LocaleForm(FlaskForm):
    locale = StringField()
    next = StringField()


class CodeForm(FlaskForm):
    code = StringField(
        _l("Kod"),
        validators=[
            DataRequired(_l("Skriv koden från appen.")),
            Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message=_l("Koden är sex siffror.")),
            Length(max=12),
        ],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
