"""Rules for text that people type and others read. A right-to-left override can make
"Fatima\u202egnp.exe" read as "Fatimaexe.png", so names refuse invisible control characters
with a message; longer texts (service texts, consent texts, addresses) lose them instead,
because an admin pasting a text cannot see what to remove."""

import re

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

# Unicode's bidi embeddings, overrides and isolates: they change how the text around them reads.
DIRECTION_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_NAME_REFUSED = re.compile(f"[\x00-\x1f\x7f{DIRECTION_CONTROLS}]")
# Tabs and line breaks stay in longer texts.
_TEXT_REMOVED = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f{DIRECTION_CONTROLS}]")


def name_text(_form, field) -> None:
    """Validator for names shown to others: no control characters, bidi overrides included."""
    if field.data and _NAME_REFUSED.search(field.data):
        raise ValidationError(
            str(
                _l(
                    "Namnet innehåller osynliga styrtecken, till exempel sådana som vänder "
                    "skrivriktningen. Skriv namnet igen utan att klistra in det."
                )
            )
        )


def clean_text(value):
    """Filter for longer texts: drop the control characters a name would refuse."""
    return _TEXT_REMOVED.sub("", value) if isinstance(value, str) else value
