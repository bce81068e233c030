"""Locale selection, text direction, the list of UI languages and the content locales (the
UI languages plus easy-to-read Swedish, in which admins write service and consent texts).

Order: the locale in a public URL, then the signed-in user's preference, then the choice made
with the language switcher, then Accept-Language, then Swedish.
"""

from flask import g, has_request_context, request, session
from flask_babel import force_locale, get_locale
from flask_login import current_user
from markupsafe import Markup

# Each language named in its own script (endonym); the order is the switcher's.
LOCALES: dict[str, str] = {
    "sv": "Svenska",
    "en": "English",
    "ar": "العربية",
    "fa": "فارسی",
    "so": "Soomaali",
    "ti": "ትግርኛ",
    "uk": "Українська",
    "ckb": "کوردیی ناوەندی",
}
DEFAULT_LOCALE = "sv"

# Easy-to-read Swedish (lättläst): a variant of the Swedish texts, not a UI language. Its pages
# live under /sv-ll/ (the URL's locale segment, so every public route serves it as it is),
# say lang="sv" and keep the Swedish UI; only the texts admins write (services, consent) differ.
EASY_SWEDISH = "sv-ll"

# Every locale a service or consent text is written in, in the language pickers' order:
# the UI languages, with lättläst right after Swedish. The one list of content locales: the
# public pickers, the text editors, the catalogue and the seeds all read it.
CONTENT_LOCALES: dict[str, str] = {
    DEFAULT_LOCALE: LOCALES[DEFAULT_LOCALE],
    EASY_SWEDISH: "Lättläst svenska",
    **LOCALES,
}

# Our own rule: Babel reports ltr for ckb, but Sorani in Arabic script is written right to left.
RTL_LOCALES = frozenset({"ar", "fa", "ckb"})


def text_direction(locale: str) -> str:
    return "rtl" if locale in RTL_LOCALES else "ltr"


def ui_locale(locale: str) -> str:
    """The UI language a content locale is shown in, and so its lang attribute and the voice
    that reads it: Swedish for lättläst, the locale itself for the others."""
    return DEFAULT_LOCALE if locale == EASY_SWEDISH else locale


def current_locale() -> str:
    """The code of the locale this request (or command) is rendered in, e.g. "sv" or "ar"."""
    return str(get_locale() or DEFAULT_LOCALE)


def fallback_locales(locale: str) -> tuple[str, ...]:
    """The locales a text is looked for in, in order: the reader's, then Swedish (the source
    every service and consent text is written in first; lättläst falls back to it too).
    Service names, the public pages' service texts and the consent screen all fall back by
    this one rule."""
    return tuple(dict.fromkeys((locale, DEFAULT_LOCALE)))


def supported(candidate: str | None) -> str | None:
    """The supported locale a requested one is served by, or None when we serve none close."""
    if not candidate:
        return None
    code = candidate.replace("_", "-").lower()
    if code in LOCALES:
        return code
    base = code.split("-")[0]
    if base in LOCALES:
        return base
    if base == "prs":  # Dari readers are served by Persian
        return "fa"
    return None


def best_match(candidate: str | None) -> str:
    """The supported locale closest to a requested one (e.g. 'ar-SE' -> 'ar', 'xx' -> 'sv')."""
    return supported(candidate) or DEFAULT_LOCALE


def browser_locale() -> str:
    """The browser's most preferred language we serve, by the rule of `best_match`.
    Werkzeug's own best_match knows nothing of Dari, so a prs-AF browser would get Swedish
    on /info while /prs/ gives Persian; one rule for both."""
    for value, _quality in request.accept_languages:  # highest quality first
        if code := supported(value):
            return code
    return DEFAULT_LOCALE


def select_locale() -> str:
    if not has_request_context():
        return DEFAULT_LOCALE  # a command (catalogue import, digest): no reader to ask
    url_locale = (request.view_args or {}).get("lang") if request else None
    if url_locale in CONTENT_LOCALES:
        return ui_locale(url_locale)
    forced = g.get("locale_override")
    if forced in LOCALES:
        return forced
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    if session.get("locale") in LOCALES:
        return session["locale"]
    return browser_locale()


def in_language(code: str, element: str = "div", *, caller, **attributes) -> Markup:
    """A template's call block rendered in the UI language `code`, inside `element` marked with
    that language and its direction; what surrounds it keeps the page's language.

    A staff page that shows the visitor's part (the consent, the receipt, the extract) stays in
    the staff member's language, nav and staff questions included, and the visitor's part is in
    hers: `{% call in_language(visitor_lang, "article", class_="receipt") %}…{% endcall %}`.
    A staff question inside the visitor's part goes back the same way, with `locale`."""
    with force_locale(code):
        body = caller()
    marked = Markup("").join(
        Markup(' {}="{}"').format(name.rstrip("_").replace("_", "-"), value)
        for name, value in attributes.items()
    )
    return Markup('<{0}{1} lang="{2}" dir="{3}">{4}</{0}>').format(
        element, marked, code, text_direction(code), body
    )
