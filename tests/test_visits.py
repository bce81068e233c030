"""Visit recording: the Today screen, the record form and its rules, edit and undo, the week."""

import re
from datetime import timedelta

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy import event, func, select

from app.choices import Role, Topic
from app.extensions import db
from app.i18n import LOCALES, RTL_LOCALES
from app.models import IdempotencyKey, Visit, VisitLanguage, utcnow
from app.visits.queries import local_day_start_utc
from app.workdays import local_today
from tests.factories import visit_form

HTMX = {"HX-Request": "true"}


# -- builders --------------------------------------------------------------------------------


@pytest.fixture
def site(make):
    return make.site()


@pytest.fixture
def staff(make, site, login):
    user = make.user(sites=[site])
    login(user)
    return user


def create_url(site) -> str:
    return f"/sites/{site.id}/visits"


def visit_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Visit.id)))


def language_row_count() -> int:
    return db.session.scalar(select(func.count()).select_from(VisitLanguage))


class StatementCounter:
    """Counts SQL statements sent to the database while active."""

    def __init__(self):
        self.statements: list[str] = []

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self._count)

    def _count(self, _conn, _cursor, statement, *_args):
        self.statements.append(statement)


# -- the Today screen ------------------------------------------------------------------------


def test_today_redirects_to_the_remembered_site(client, make, login):
    first, second = make.site(name="A förskola"), None
    second = make.site(org=first.organisation, name="B förskola")
    user = make.user(sites=[first, second])
    login(user)
    assert client.get("/today").location == f"/sites/{first.id}/today"
    assert client.get(f"/sites/{second.id}/today").status_code == 200
    db.session.expire_all()
    assert user.last_site_id == second.id
    assert client.get("/today").location == f"/sites/{second.id}/today"


def test_today_without_a_site_explains_what_to_do(client, make, login):
    login(make.user())
    response = client.get("/today")
    assert response.status_code == 200
    assert "Du är inte kopplad till någon förskola" in response.get_data(as_text=True)


def test_site_switcher_lists_the_users_sites_only_when_several(app, client, make, login, site):
    other = make.site(org=site.organisation, name="Andra förskolan")
    single = make.user(sites=[site])
    login(single)
    assert "Byt förskola" not in client.get(f"/sites/{site.id}/today").get_data(as_text=True)
    both = make.user(sites=[site, other])
    second = app.test_client()
    login(both, c=second)
    html = second.get(f"/sites/{site.id}/today").get_data(as_text=True)
    assert "Byt förskola" in html and f"/sites/{other.id}/today" in html


def test_record_form_has_steppers_chips_and_no_free_text(client, staff, site):
    html = client.get(f"/sites/{site.id}/today").get_data(as_text=True)
    for name in ("women", "men", "other_adults", "children_0_1", "children_1_3", "children_3_6"):
        assert f'type="number" id="{name}" name="{name}"' in html
    assert html.count('class="stepper-button"') == 12
    assert 'name="languages" value="ar"' in html and 'name="languages" value="prs"' in html
    assert 'name="topics" value="preschool"' in html
    assert "<textarea" not in html
    named_inputs = re.findall(r'<input type="(\w+)"[^>]*name="', html)
    assert set(named_inputs) <= {"hidden", "number", "checkbox", "radio", "date"}
    assert "<script>" not in html and "style=" not in html
    assert "js/stepper.js" in html


def test_languages_are_named_in_ui_language_and_in_themselves(client, staff, site):
    html = client.get(f"/sites/{site.id}/today").get_data(as_text=True)
    assert "arabiska" in html and "العربية" in html
    assert "dari" in html and "دری" in html
    assert "centralkurdiska" in html and "کوردیی ناوەندی" in html


# -- creating a visit --------------------------------------------------------------------------


def test_no_js_post_redirects_and_the_list_shows_the_group(client, staff, site):
    response = client.post(create_url(site), data=visit_form(topics=["sfi", "preschool"]))
    assert response.status_code == 303
    visit = db.session.scalar(select(Visit))
    assert response.location == f"/sites/{site.id}/today#today-totals"  # totals and status in view
    assert (visit.women, visit.children_1_3, visit.is_new) == (1, 1, True)
    assert visit.topics == Topic.SFI | Topic.PRESCHOOL
    assert visit.recorded_by_id == staff.id and visit.site_id == site.id
    assert [(r.code, r.site_id, r.visit_date) for r in visit.languages] == [
        ("ar", site.id, visit.visit_date)
    ]
    html = client.get(response.location).get_data(as_text=True)
    assert "Besöket är sparat." in html and f'id="visit-{visit.id}"' in html
    list_html = html.split('id="today-list"')[1]
    assert "arabiska" in list_html and "Förskoleplats" in list_html


def test_htmx_post_returns_list_totals_and_a_fresh_form(client, staff, site):
    client.post(create_url(site), data=visit_form(form_key="first"))
    response = client.post(
        create_url(site),
        data=visit_form(form_key="second", women="2", languages=["ar", "so"]),
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="today-list"')
    totals = re.search(r'<section id="today-totals".*?</section>', html, re.S).group(0)
    assert 'data-hx-swap-oob="true"' in totals
    numbers = re.findall(r"<dd>(\d+)</dd>", totals)
    assert numbers == ["2", "3", "2", "2", "2"]  # groups, adults, children, languages, new
    form = re.search(r'<form id="record-form".*?</form>', html, re.S).group(0)
    assert 'data-hx-swap-oob="true"' in form
    assert 'value="ar" checked' not in form  # the form is reset
    assert "Besöket är sparat." in html
    assert visit_count() == 2


def test_same_form_key_twice_stores_one_visit(client, staff, site):
    data = visit_form(form_key="double-tap")
    assert client.post(create_url(site), data=data).status_code == 303
    again = client.post(create_url(site), data=data)
    assert again.status_code == 303  # the retry lands where the first submit did
    assert again.location == f"/sites/{site.id}/today#today-totals"
    assert client.post(create_url(site), data=data, headers=HTMX).status_code == 200
    assert visit_count() == 1
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 1


def test_the_daily_purge_removes_form_keys_no_sign_in_can_send_again(app, client, staff, site):
    assert client.post(create_url(site), data=visit_form(form_key="today")).status_code == 303
    lifetime = app.config["PERMANENT_SESSION_LIFETIME"]
    now = utcnow()
    db.session.add_all(
        [
            IdempotencyKey(key="within", target="/x", created_at=now - lifetime),
            IdempotencyKey(key="past", target="/x", created_at=now - lifetime - timedelta(days=2)),
        ]
    )
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["purge-expired"])
    assert "Form keys past their sign-in removed: 1" in result.output, result.output
    kept = set(db.session.scalars(select(IdempotencyKey.key)))
    assert kept == {"today", "within"}
    assert visit_count() == 1  # what the keys guarded stays


def test_late_entry_within_the_week_is_stored_on_that_day(client, staff, site):
    day = local_today() - timedelta(days=3)
    response = client.post(create_url(site), data=visit_form(visit_date=day.isoformat()))
    assert response.status_code == 303
    assert db.session.scalar(select(Visit.visit_date)) == day
    assert db.session.scalar(select(VisitLanguage.visit_date)) == day


def test_the_today_list_shows_25_groups_a_page_newest_first(client, staff, site):
    for i in range(26):
        client.post(create_url(site), data=visit_form(form_key=f"page-{i}", women=str(i % 5 + 1)))
    ids = list(db.session.scalars(select(Visit.id).order_by(Visit.id.desc())))
    first = client.get(f"/sites/{site.id}/today").get_data(as_text=True)
    second = client.get(f"/sites/{site.id}/today?page=2").get_data(as_text=True)
    on_first = [int(n) for n in re.findall(r'id="visit-(\d+)"', first)]
    assert on_first == ids[:25]
    assert re.findall(r'id="visit-(\d+)"', second) == [str(ids[25])]


def test_saving_a_visit_runs_a_bounded_number_of_statements(client, staff, site):
    make_some = [visit_form(form_key=f"k{i}", languages=["ar", "so", "ti"]) for i in range(3)]
    for data in make_some:
        client.post(create_url(site), data=data)
    with StatementCounter() as plain:
        assert client.post(create_url(site), data=visit_form(form_key="p")).status_code == 303
    with StatementCounter() as htmx:
        response = client.post(create_url(site), data=visit_form(form_key="h"), headers=HTMX)
        assert response.status_code == 200
    # The plain POST: BEGIN, the session's user (with its organisation), scope and replay
    # checks, the inserts, four summary upserts (day, month and their languages). The
    # fragment adds the list, the totals, the top languages and today's sessions (one of
    # them going on now is offered to count the group to: issue 19).
    assert len(plain.statements) <= 12, plain.statements
    assert len(htmx.statements) <= 21, htmx.statements


# -- bad input: a message next to the field, 422, nothing stored ------------------------------


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"women": "-1"}, "Ange ett antal från 0 till 50."),
        ({"children_1_3": "51"}, "Ange ett antal från 0 till 50."),
        ({"men": "två"}, "Ange ett antal från 0 till 50."),
        ({"women": "0", "children_1_3": "0"}, "Lägg till minst en vuxen eller ett barn."),
        ({"languages": ["ar", "xx"]}, "Välj språk i listan."),
        ({"topics": ["work", "religion"]}, "Välj ämnen i listan."),
        ({"is_new": "maybe"}, "Välj ett av alternativen."),
        ({"part_of_day": "night"}, "Välj ett av alternativen."),
        ({"visit_date": "2999-01-01"}, "Datumet kan inte vara i framtiden."),
        ({"visit_date": "not-a-date"}, "Välj ett datum."),
    ],
)
def test_bad_input_is_refused_next_to_the_field_and_nothing_is_stored(
    client, staff, site, overrides, message
):
    response = client.post(create_url(site), data=visit_form(**overrides))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert 'class="field-errors' in html
    assert visit_count() == 0 and language_row_count() == 0


def test_future_date_by_one_day_is_refused(client, staff, site):
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    response = client.post(create_url(site), data=visit_form(visit_date=tomorrow))
    assert response.status_code == 422
    assert visit_count() == 0


def test_date_older_than_a_week_is_refused(client, staff, site):
    old = (local_today() - timedelta(days=8)).isoformat()
    response = client.post(create_url(site), data=visit_form(visit_date=old))
    assert response.status_code == 422
    assert "Välj en dag inom den senaste veckan." in response.get_data(as_text=True)
    assert visit_count() == 0


def test_bad_input_through_htmx_returns_the_form_retargeted(client, staff, site):
    response = client.post(create_url(site), data=visit_form(women="99"), headers=HTMX)
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#record-form"
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<form id="record-form"') and "<html" not in html
    assert 'value="99"' in html and 'aria-invalid="true"' in html
    assert visit_count() == 0


def test_missing_form_key_is_a_tampered_form(client, staff, site):
    response = client.post(create_url(site), data=visit_form(form_key=None))
    assert response.status_code == 400
    assert visit_count() == 0


def test_error_messages_are_translated(client, staff, site):
    staff.locale = "ar"
    db.session.commit()
    response = client.post(create_url(site), data=visit_form(women="-1"))
    with force_locale("ar"):
        expected = _("Ange ett antal från 0 till %(max)s.", max=50)
    assert expected != "Ange ett antal från 0 till 50."
    assert expected in response.get_data(as_text=True)


# -- scoping ---------------------------------------------------------------------------------


def test_staff_of_another_site_gets_404_and_nothing_is_stored(client, make, login, site):
    other_site = make.site(org=site.organisation)
    login(make.user(sites=[other_site]))
    make.visit(site)
    assert client.get(f"/sites/{site.id}/today").status_code == 404
    assert client.get(f"/sites/{site.id}/week").status_code == 404
    assert client.post(create_url(site), data=visit_form()).status_code == 404
    assert visit_count() == 1


def test_another_organisations_admin_gets_404(client, make, login, site):
    login(make.user(role=Role.ADMIN))
    assert client.get(f"/sites/{site.id}/today").status_code == 404


# -- edit and undo ---------------------------------------------------------------------------


def test_recorder_edits_own_entry_of_today(client, staff, site):
    client.post(create_url(site), data=visit_form())
    visit = db.session.scalar(select(Visit))
    url = f"/sites/{site.id}/visits/{visit.id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert 'id="women" name="women" value="1"' in page
    assert 'value="ar" checked' in page
    response = client.post(url, data=visit_form(women="2", men="1", languages=["so", "ti"]))
    assert response.status_code == 303
    db.session.expire_all()
    visit = db.session.get(Visit, visit.id)
    assert (visit.women, visit.men) == (2, 1)
    assert [row.code for row in visit.languages] == ["so", "ti"]
    assert language_row_count() == 2


def test_edit_with_bad_input_changes_nothing(client, staff, site):
    client.post(create_url(site), data=visit_form())
    visit = db.session.scalar(select(Visit))
    url = f"/sites/{site.id}/visits/{visit.id}/edit"
    response = client.post(url, data=visit_form(women="0", children_1_3="0"))
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).women == 1


def test_recorder_undoes_own_entry(client, staff, site):
    client.post(create_url(site), data=visit_form())
    visit = db.session.scalar(select(Visit))
    response = client.post(f"/sites/{site.id}/visits/{visit.id}/delete", headers=HTMX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Besöket är borttaget." in html
    assert 'id="record-form"' not in html  # an undo leaves a half-filled form alone
    assert visit_count() == 0 and language_row_count() == 0


def test_undo_without_js_redirects_to_today(client, staff, site):
    client.post(create_url(site), data=visit_form())
    visit = db.session.scalar(select(Visit))
    response = client.post(f"/sites/{site.id}/visits/{visit.id}/delete")
    assert response.status_code == 303 and response.location == f"/sites/{site.id}/today"
    assert visit_count() == 0


def test_another_users_entry_cannot_be_changed(client, make, staff, site):
    colleague = make.user(sites=[site])
    visit = make.visit(site, user=colleague, on=local_today())
    html = client.get(f"/sites/{site.id}/today").get_data(as_text=True)
    assert f"/visits/{visit.id}/edit" not in html
    assert client.get(f"/sites/{site.id}/visits/{visit.id}/edit").status_code == 404
    assert (
        client.post(f"/sites/{site.id}/visits/{visit.id}/edit", data=visit_form()).status_code
        == 404
    )
    assert client.post(f"/sites/{site.id}/visits/{visit.id}/delete").status_code == 404
    assert visit_count() == 1


def test_own_entry_of_an_earlier_day_cannot_be_changed(client, make, staff, site):
    yesterday = local_today() - timedelta(days=1)
    visit = make.visit(
        site,
        user=staff,
        on=yesterday,
        created_at=local_day_start_utc(local_today()) - timedelta(hours=2),
    )
    assert client.get(f"/sites/{site.id}/visits/{visit.id}/edit").status_code == 404
    assert client.post(f"/sites/{site.id}/visits/{visit.id}/delete").status_code == 404
    assert visit_count() == 1


def test_entry_of_another_site_cannot_be_reached_through_own_site(client, make, staff, site):
    other_site = make.site(org=site.organisation)
    visit = make.visit(other_site, user=staff, on=local_today(), created_at=utcnow())
    assert client.post(f"/sites/{site.id}/visits/{visit.id}/delete").status_code == 404
    assert visit_count() == 1


# -- totals, week and most used languages -----------------------------------------------------


def test_week_view_shows_totals_per_day(client, make, staff, site):
    today = local_today()
    monday = today - timedelta(days=today.weekday())
    make.visit(site, on=monday, women=2, children_0_1=1, languages=("ar", "so"))
    make.visit(site, on=monday, women=1, men=1, children_1_3=2, languages=("ar",), is_new=True)
    make.visit(site, on=monday + timedelta(days=1), women=1, languages=("ti",))
    make.visit(site, on=monday - timedelta(days=1), women=9)  # last week's Sunday
    html = client.get(f"/sites/{site.id}/week?week={monday.isoformat()}").get_data(as_text=True)
    rows = re.findall(r"<tr[^>]*>\s*<th scope=\"row\">.*?</tr>", html, re.S)
    cells = [re.findall(r"<td>(\d+)</td>", row) for row in rows]
    assert cells[0] == ["2", "4", "3", "1", "2"]  # groups, adults, children, new, languages
    assert cells[1] == ["1", "1", "0", "0", "1"]
    assert cells[2] == ["0", "0", "0", "0", "0"]
    assert cells[-1] == ["3", "5", "3", "1", "3"]  # the week: languages counted once


def test_week_with_a_malformed_date_shows_the_current_week(client, staff, site):
    response = client.get(f"/sites/{site.id}/week?week=yesterday")
    assert response.status_code == 200
    week = local_today().isocalendar().week
    assert f"Vecka {week}" in response.get_data(as_text=True)


@pytest.mark.parametrize("week", ["0001-01-01", "9999-12-31"])
def test_week_out_of_range_shows_the_current_week(client, staff, site, week):
    response = client.get(f"/sites/{site.id}/week?week={week}")
    assert response.status_code == 200
    assert f"Vecka {local_today().isocalendar().week}" in response.get_data(as_text=True)


def test_demo_seed_writes_consistent_language_rows(app, make):
    from app.visits.demo import seed_demo_visits

    site = make.site()
    make.user(sites=[site])
    seed_demo_visits(site.organisation, weeks=1)
    db.session.commit()
    assert visit_count() > 0
    mismatched = db.session.scalar(
        select(func.count())
        .select_from(VisitLanguage)
        .join(Visit, Visit.id == VisitLanguage.visit_id)
        .where(
            (VisitLanguage.site_id != Visit.site_id)
            | (VisitLanguage.visit_date != Visit.visit_date)
        )
    )
    assert mismatched == 0
    empty_groups = db.session.scalar(
        select(func.count(Visit.id)).where(
            Visit.women
            + Visit.men
            + Visit.other_adults
            + Visit.children_0_1
            + Visit.children_1_3
            + Visit.children_3_6
            == 0
        )
    )
    assert empty_groups == 0


def test_most_used_languages_come_first(client, make, staff, site):
    today = local_today()
    for _n in range(3):
        make.visit(site, on=today - timedelta(days=2), languages=("uk",))
    make.visit(site, on=today - timedelta(days=5), languages=("ckb", "uk"))
    make.visit(site, on=today - timedelta(days=200), languages=("pl",) * 1)  # too old to count
    html = client.get(f"/sites/{site.id}/today").get_data(as_text=True)
    top = html.split('class="more-languages"')[0]
    codes = re.findall(r'name="languages" value="(\w+)"', top)
    assert codes[:2] == ["uk", "ckb"]
    assert len(codes) == 6 and "pl" not in codes
    assert codes[2:] == ["ar", "so", "ti", "fa"]  # padded with the defaults


def test_site_without_history_offers_the_default_languages(client, staff, site):
    html = client.get(f"/sites/{site.id}/today").get_data(as_text=True)
    top = html.split('class="more-languages"')[0]
    assert re.findall(r'name="languages" value="(\w+)"', top) == [
        "ar",
        "so",
        "ti",
        "fa",
        "uk",
        "en",
    ]


# -- every locale ------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", list(LOCALES))
def test_record_form_and_list_render_in_every_locale(client, make, login, site, locale):
    user = make.user(sites=[site], locale=locale)
    login(user)
    make.visit(site, user=user, on=local_today(), created_at=utcnow(), topics=Topic.HEALTH)
    html = client.get(f"/sites/{site.id}/today").get_data(as_text=True)
    direction = "rtl" if locale in RTL_LOCALES else "ltr"
    assert f'<html lang="{locale}" dir="{direction}">' in html
    with force_locale(locale):
        for msgid in ("Spara besöket", "Dagens grupper", "Fler språk", "Ny besökare", "Hälsa"):
            text = _(msgid)
            assert text in html or str(escape(text)) in html, (locale, msgid)
            if locale != "sv":
                assert text != msgid, (locale, msgid)


def test_returning_is_preselected_first_because_most_groups_come_back(client, staff, site):
    """Issue 18: three groups in four come back (the demo month: 386 to 114), so "returning"
    is the default and the first chip; a new group takes one tap."""
    page = client.get(f"/sites/{site.id}/today").get_data(as_text=True)
    chips = re.findall(r'name="is_new" value="(\w+)"( checked)?>', page)
    assert chips == [("returning", " checked"), ("new", "")]
    assert client.post(create_url(site), data=visit_form(is_new="new")).status_code == 303
    assert db.session.scalar(select(Visit)).is_new is True
