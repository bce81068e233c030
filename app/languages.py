"""Visitor languages: the one vetted list of codes staff can pick, named by Babel (CLDR).

Codes are ISO 639-1 where one exists, ISO 639-3 where 639-1 lumps languages that visitors
tell apart (prs Dari, ckb Sorani, kmr Kurmanji). Each is shown in the UI language and in
itself, so a visitor can point at their own language on the tablet.
"""

from functools import cache, lru_cache
from typing import NamedTuple

from babel import Locale, UnknownLocaleError
from markupsafe import Markup

# Roughly the languages Swedish municipalities meet most, newest arrivals and national
# minority languages included. Add a code here and it can be recorded; nowhere else.
VISITOR_LANGUAGES: tuple[str, ...] = (
    "ar", "prs", "fa", "so", "ti", "am", "om", "ps", "ckb", "kmr",
    "uk", "ru", "en", "sv", "fi", "fit", "se", "rom", "yi", "pl",
    "bs", "hr", "sr", "sq", "mk", "bg", "ro", "hu", "el", "tr",
    "es", "fr", "de", "it", "pt", "et", "lv", "lt", "cs", "sk",
    "hy", "ka", "az", "uz", "tk", "tg", "mn", "ur", "hi", "bn",
    "pa", "ta", "ne", "th", "vi", "zh", "my", "fil", "sw", "rw",
    "ln", "ha", "yo", "wo", "kab", "he",
)  # fmt: skip

# Shown first on a site with no history yet (the needs named in the SKR initiative).
DEFAULT_TOP: tuple[str, ...] = ("ar", "so", "ti", "fa", "uk", "en")

# CLDR names some languages under another key: Dari is "fa_AF", Kurmanji is "ku".
_CLDR_KEY = {"prs": "fa_AF", "kmr": "ku"}

# Endonyms CLDR lacks (it has no locale data for these national minority languages): a UI
# language without its own name for one shows this, as its speakers write it, rather than an
# English exonym ("Tornedalen Finnish" on an Arabic page).
_OWN_ENDONYMS = {"fit": "meänkieli", "rom": "romani čhib"}


class LanguageName(NamedTuple):
    code: str
    name: str  # in the UI language
    endonym: str  # in the language itself ("" when CLDR has no data for it)


@cache
def parsed_locale(code: str) -> Locale | None:
    """Babel's Locale for `code`, parsed once: Babel builds a new object on every parse."""
    try:
        return Locale.parse(code.split("_")[0])
    except (UnknownLocaleError, ValueError):
        return None


@lru_cache(maxsize=1024)
def _name(code: str, ui_locale: str) -> LanguageName | None:
    key = _CLDR_KEY.get(code, code)
    ui = parsed_locale(ui_locale) or Locale("sv")
    own = parsed_locale(key)
    endonym = (own.languages.get(key, "") if own else "") or _OWN_ENDONYMS.get(code, "")
    # Small UI locales (ckb, ti, so, and ar, fa, uk for Meänkieli) lack names for some
    # languages: the language's own name is the fallback, which its speakers recognise, and
    # English only where there is none.
    name = ui.languages.get(key) or endonym or Locale("en").languages.get(key)
    if not name and not endonym:
        return None
    return LanguageName(code, name or endonym, endonym if endonym != name else "")


@cache
def names(ui_locale: str) -> dict[str, LanguageName]:
    """Every vetted code Babel can name, in vetting order."""
    found = (_name(code, ui_locale) for code in VISITOR_LANGUAGES)
    return {n.code: n for n in found if n is not None}


def known_codes() -> frozenset[str]:
    return frozenset(names("sv"))


def sorted_names(ui_locale: str, exclude=()) -> list[LanguageName]:
    """The searchable list: alphabetical in the UI language."""
    return sorted(
        (n for c, n in names(ui_locale).items() if c not in exclude),
        key=lambda n: n.name.casefold(),
    )


def name(code: str, ui_locale: str, *, standalone: bool = False) -> str:
    """What `code` is called in the UI language: the one naming of a language for every page,
    list and export (a vetted code, or any code CLDR knows, such as a contact language);
    the code itself when CLDR has no name for it. `standalone` capitalises the first letter
    for a label that stands alone, a table row: CLDR writes Swedish names in lower case, as
    they stand mid-sentence ("talar arabiska")."""
    found = names(ui_locale).get(code) or _name(code, ui_locale)
    text = found.name if found else code
    return text[:1].upper() + text[1:] if standalone else text


CHIP = Markup(
    '<label class="chip" data-search="{search}"><input type="checkbox" name="languages"'
    ' value="{code}"{checked}><span class="chip-text">{name}{endonym}</span></label>'
)
ENDONYM = Markup(' <span class="chip-endonym" dir="auto">{}</span>')


@lru_cache(maxsize=512)
def chips(ui_locale: str, exclude: frozenset[str], checked: frozenset[str]) -> Markup:
    """The visit form's "more languages" chips: dozens on every Today page, so they are built
    once per UI language, site's top languages and selection, not by a macro per request."""
    return Markup("").join(
        CHIP.format(
            search=f"{n.name} {n.endonym} {n.code}".lower(),
            code=n.code,
            checked=Markup(" checked") if n.code in checked else "",
            name=n.name,
            endonym=ENDONYM.format(n.endonym) if n.endonym else "",
        )
        for n in sorted_names(ui_locale, exclude=exclude)
    )
