"""Locale selection, text direction and catalogue completeness."""

import pytest
from flask import request, session
from flask_login import login_user

from app import i18n_tools
from app.i18n import LOCALES, RTL_LOCALES, best_match, select_locale, text_direction


@pytest.mark.parametrize("locale", list(LOCALES))
def test_login_page_has_lang_and_dir_for_every_locale(client, locale):
    client.post("/locale", data={"locale": locale, "next": "/login"})
    html = client.get("/login").get_data(as_text=True)
    expected_dir = "rtl" if locale in ("ar", "fa", "ckb") else "ltr"
    assert f'<html lang="{locale}" dir="{expected_dir}">' in html


def test_rtl_set_is_our_rule_not_babels():
    assert RTL_LOCALES == {"ar", "fa", "ckb"}
    assert text_direction("ckb") == "rtl"
    assert text_direction("so") == "ltr"


def test_switcher_turns_the_sign_in_page_into_arabic(client):
    assert 'lang="sv" dir="ltr"' in client.get("/login").get_data(as_text=True)
    response = client.post("/locale", data={"locale": "ar", "next": "/login"})
    assert response.status_code == 303 and response.location == "/login"
    html = client.get("/login").get_data(as_text=True)
    assert 'lang="ar" dir="rtl"' in html
    assert "تسجيل الدخول" in html  # "Sign in"


def test_switcher_names_languages_in_their_own_script(client):
    html = client.get("/login").get_data(as_text=True)
    for endonym in (
        "Svenska",
        "العربية",
        "فارسی",
        "Soomaali",
        "ትግርኛ",
        "Українська",
        "کوردیی ناوەندی",
    ):
        assert endonym in html


def test_locale_order_url_then_user_then_switcher_then_header_then_swedish(app, make):
    user = make.user(locale="fa")
    with app.test_request_context("/", headers={"Accept-Language": "de"}):
        assert select_locale() == "sv"
    with app.test_request_context("/", headers={"Accept-Language": "uk,en;q=0.5"}):
        assert select_locale() == "uk"
        session["locale"] = "so"
        assert select_locale() == "so"
        login_user(user)
        assert select_locale() == "fa"
        request.view_args = {"lang": "ti"}
        assert select_locale() == "ti"


def test_unknown_or_regional_locales_find_the_best_match():
    assert best_match("ar-SE") == "ar"
    assert best_match("prs") == "fa"
    assert best_match("xx") == "sv"
    assert best_match(None) == "sv"


def test_every_message_is_translated_in_every_locale():
    gaps = i18n_tools.missing()
    assert set(gaps) == set(LOCALES)
    assert {locale: ids for locale, ids in gaps.items() if ids} == {}


def test_catalogues_match_the_source_strings():
    """Every string in the code is in the catalogues (run `make extract` after adding one)."""
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "messages.pot"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "babel.messages.frontend",
                "-q",
                "extract",
                "-F",
                "translations/babel.cfg",
                "-k",
                "_l",
                "-o",
                str(pot),
                "--no-location",
                ".",
            ],
            cwd=root,
            check=True,
        )
        with pot.open("rb") as f:
            source = {m.id for m in read_po(f) if m.id}
    with (root / "translations/en/LC_MESSAGES/messages.po").open("rb") as f:
        catalogue = {m.id for m in read_po(f) if m.id}
    assert source - catalogue == set()


def test_cached_dates_times_and_counts_follow_the_reader_language_and_time_zone(app):
    """Dates, times and counts are formatted once and cached: the cache must never hand one
    reader's language or clock to another (the key holds the language and the time zone)."""
    from datetime import UTC, date, datetime

    from babel.dates import format_date
    from flask import render_template_string
    from flask_babel import force_locale

    from app.stats.suppression import Cell, Mark
    from app.stats.views import stat_text

    page = "{{ d|date }}|{{ t|datetime('HH:mm') }}|{{ t|datetime }}|{{ n|stat }}"
    values = {
        "d": date(2026, 3, 5),
        "t": datetime(2026, 6, 1, 22, 30, tzinfo=UTC),  # 00:30 on 2 June in Stockholm
        "n": Cell(12345, Mark.SHOWN, 5),
    }
    seen = {}
    with app.test_request_context("/"):
        for locale in ("sv", "ar", "en", "sv", "ar"):
            with force_locale(locale):
                text = render_template_string(page, **values)
            seen.setdefault(locale, text)
            assert text == seen[locale]  # the second time, from the cache: the same
            day, clock, stamp, count = text.split("|")
            assert day == format_date(values["d"], "medium", locale=locale)
            assert clock == "00:30"
            with force_locale(locale):
                assert stat_text(values["n"]) == count
    assert len(set(seen.values())) == 3
    assert seen["en"].split("|")[3] == "12,345"
    assert seen["sv"].split("|")[3] == "12\xa0345"
    assert seen["sv"].split("|")[2] == "2026-06-02 00:30"  # Swedish short format, local time
