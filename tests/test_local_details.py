"""Local details a visitor needs (issue 18, items 3 and 4): where each open preschool is, when
it is open, its phone and the services held there; where, when and how to apply for a
service in this municipality; the withdrawal page that says whom to call; and the admin's
screens and rules for all of it. Also listening (item 6): "Listen" rather than a command to
read, a labelled player for a recording, and recordings of consent texts as of services."""

import io
import re
from datetime import date

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import select

from app.admin.demo import DEMO_SITES, seed_demo_local_details
from app.choices import Role
from app.extensions import db
from app.info.catalogue import (
    CatalogueError,
    as_version_1,
    export_catalogue,
    import_catalogue,
    seed_core_services,
)
from app.info.forms import phone_number
from app.info.hours import (
    HoursError,
    by_day,
    format_day,
    is_valid,
    parse_day,
    week_rows,
    week_spans,
)
from app.info.places import map_url
from app.models import AuditEvent, Service, ServiceTranslation, Site

WEEK = [[1, "09:00", "12:00"], [1, "13:00", "16:00"], [3, "09:00", "12:00"], [5, "10:00", "15:00"]]


@pytest.fixture
def org(make):
    return make.org(name="Demo kommun")


@pytest.fixture
def north(make, org):
    return make.site(
        org=org,
        name="Öppna förskolan Norr",
        address="Norrgatan 12, 123 45 Demostad",
        phone="08-465 004 10",
        weekly_hours=WEEK,
    )


# ---------------------------------------------------------------- the withdrawal page (item 3)


def test_withdraw_page_switches_language_to_the_same_page(client, north):
    """The language picker on /<lang>/withdraw leads to /<other>/withdraw: it used to post to
    the staff language switcher, and the URL's language won, so the page came back the same."""
    page = client.get("/sv/withdraw").get_data(as_text=True)
    assert 'href="/ar/withdraw"' in page and 'href="/ti/withdraw"' in page
    arabic = client.get("/ar/withdraw").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in arabic


def test_withdraw_page_says_where_to_go_and_which_number_to_call(client, north, make, org):
    make.site(org=org, name="Stängd förskola", phone="08-465 004 99", is_active=False)
    page = client.get("/en/withdraw").get_data(as_text=True)
    assert "Öppna förskolan Norr" in page and "Norrgatan 12, 123 45 Demostad" in page
    assert 'href="tel:0846500410"' in page and "08-465 004 10" in page
    assert f'href="/en/site/{north.id}"' in page
    assert "Demo kommun" in page
    assert "08-465 004 99" not in page  # an inactive site is not a place to go to


def test_withdraw_page_in_an_unknown_language_goes_to_the_closest(client, north):
    response = client.get("/ar-SE/withdraw")
    assert response.status_code == 302 and response.headers["Location"].endswith("/ar/withdraw")


# ---------------------------------------------------------------- opening hours and map links


@pytest.mark.parametrize(
    "typed,periods",
    [
        ("", []),
        ("9-12", [("09:00", "12:00")]),
        ("09.00–12.00, 13–16:30", [("09:00", "12:00"), ("13:00", "16:30")]),
        ("13:00-16:00; 8:30 — 11", [("08:30", "11:00"), ("13:00", "16:00")]),
    ],
)
def test_a_day_typed_as_people_write_it_is_read(typed, periods):
    assert parse_day(typed) == periods
    assert parse_day(format_day(periods)) == periods


@pytest.mark.parametrize(
    "typed,code",
    [
        ("nio till tolv", "format"),
        ("25-26", "format"),
        ("9:75-12", "format"),
        ("12-9", "order"),
        ("9-12, 11-14", "overlap"),
        ("8-9, 10-11, 12-13, 14-15", "many"),
    ],
)
def test_a_day_that_cannot_be_read_names_the_problem(typed, code):
    with pytest.raises(HoursError) as error:
        parse_day(typed)
    assert error.value.code == code


def test_the_week_is_shown_monday_first_with_closed_days_in_the_readers_language():
    rows = week_rows(WEEK, "sv")
    assert [r.name for r in rows] == [
        "måndag",
        "tisdag",
        "onsdag",
        "torsdag",
        "fredag",
        "lördag",
        "söndag",
    ]
    assert rows[0].periods == "09:00–12:00, 13:00–16:00" and rows[1].periods == ""
    assert week_rows(WEEK, "ar")[0].name == "الاثنين"
    assert week_rows(None, "sv") == [] and by_day(None)[1] == []
    assert is_valid(WEEK) and is_valid(None)
    assert not is_valid([[8, "09:00", "12:00"]]) and not is_valid([[1, "12:00", "09:00"]])


def test_days_in_a_row_with_the_same_hours_read_as_one_line():
    weekdays = [[d, "08:30", "16:00"] for d in range(1, 6)]
    spans = week_spans(weekdays, "sv")
    assert [(r.name, r.periods) for r in spans] == [
        ("måndag–fredag", "08:30–16:00"),
        ("lördag–söndag", ""),
    ]
    assert [r.name for r in week_spans(WEEK, "en", "abbreviated")] == [
        "Mon",
        "Tue",
        "Wed",
        "Thu",
        "Fri",
        "Sat–Sun",
    ]


def test_map_links_go_to_openstreetmap_only():
    assert map_url("Norrgatan 12, 123 45 Demostad") == (
        "https://www.openstreetmap.org/search?query=Norrgatan+12%2C+123+45+Demostad"
    )
    assert map_url("x", 59.3293, 18.0686) == (
        "https://www.openstreetmap.org/?mlat=59.329300&mlon=18.068600#map=17/59.329300/18.068600"
    )
    assert map_url("  ") is None


# ---------------------------------------------------------------- the public pages (item 4)


def test_site_page_shows_address_map_phone_hours_and_the_services_held_there(
    client, make, org, north
):
    sfi = make.service(org=org, slug="sfi-foraldrar")
    hidden = make.service(org=org, slug="gammal", is_active=False)
    north.services = [sfi, hidden]
    db.session.commit()
    page = client.get(f"/ar/site/{north.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '<html lang="ar" dir="rtl">' in html
    assert "Öppna förskolan Norr" in html and "Demo kommun" in html
    assert "https://www.openstreetmap.org/search?query=Norrgatan+12" in html
    assert 'href="tel:0846500410"' in html
    assert "الاثنين" in html and '<span dir="ltr">09:00–12:00, 13:00–16:00</span>' in html
    assert 'href="/ar/sfi-foraldrar"' in html and "/ar/gammal" not in html
    assert "<iframe" not in html and "<script" not in html.replace(
        '<script src="/static/', ""
    )  # no embedded map, no third-party script
    assert f'href="/en/site/{north.id}"' in html  # the language picker keeps the page


def test_site_page_of_an_inactive_or_other_organisations_site_is_not_found(client, make, north):
    closed = make.site(org=north.organisation, is_active=False)
    elsewhere = make.site(org=make.org())
    assert client.get(f"/sv/site/{closed.id}").status_code == 404
    assert client.get(f"/sv/site/{elsewhere.id}").status_code == 404
    assert client.get("/sv/site/999999").status_code == 404


def test_service_page_leads_with_where_when_and_how_to_apply_here(client, make, org, north):
    sfi = make.service(
        org=org,
        slug="sfi",
        address="Skolvägen 3, 123 46 Demostad",
        phone="08-465 004 20",
        weekly_hours=[[2, "08:30", "16:00"]],
        opening_hours="Stängt i juli",
        apply_url="https://demo.example/sfi/ansok",
    )
    north.services = [sfi]
    db.session.commit()
    html = client.get("/en/sfi").get_data(as_text=True)
    html = html[html.index("<main") :]
    local = html.index('class="local-box"')
    assert local < html.index("Sammanfattning.")  # before the text itself
    for expected in (
        "Demo kommun",
        "Skolvägen 3, 123 46 Demostad",
        'href="tel:0846500420"',
        '<span dir="ltr">08:30–16:00</span>',
        "Stängt i juli",
        'href="https://demo.example/sfi/ansok"',
        f'href="/en/site/{north.id}"',
    ):
        assert expected in html[local:], expected
    handout = client.get("/en/sfi/print").get_data(as_text=True)
    assert 'Tue <span dir="ltr">08:30–16:00</span>' in handout  # one line, open days only
    assert "https://demo.example/sfi/ansok" in handout and "Öppna förskolan Norr" in handout


def test_index_names_the_municipality_and_its_open_preschools(client, north):
    html = client.get("/sv/").get_data(as_text=True)
    assert "Demo kommun" in html and f'href="/sv/site/{north.id}"' in html


# ---------------------------------------------------------------- the admin's screens


def site_form(**overrides) -> dict:
    data = {
        "name": "Öppna förskolan Väster",
        "is_active": "y",
        "address": "Västra vägen 4, 123 47 Demostad",
        "phone": "08-465 004 30",
        "hours_1": "9-12",
        "hours_3": "09:00–12:00, 13:00-15:30",
        "latitude": "59,3293",
        "longitude": "18.0686",
    }
    return {**data, **overrides}


@pytest.fixture
def admin(make, org, login):
    user = make.user(org=org, role=Role.ADMIN)
    login(user)
    return user


def test_admin_saves_a_sites_local_details_and_the_services_held_there(client, make, org, admin):
    sfi = make.service(org=org, slug="sfi")
    response = client.post("/admin/sites/new", data=site_form(services=[str(sfi.id)]))
    assert response.status_code == 303
    site = db.session.scalar(select(Site).where(Site.name == "Öppna förskolan Väster"))
    assert site.address == "Västra vägen 4, 123 47 Demostad" and site.phone == "08-465 004 30"
    assert site.weekly_hours == [
        [1, "09:00", "12:00"],
        [3, "09:00", "12:00"],
        [3, "13:00", "15:30"],
    ]
    assert (site.latitude, site.longitude) == (59.3293, 18.0686)
    assert [s.slug for s in site.services] == ["sfi"]
    form = client.get(f"/admin/sites/{site.id}").get_data(as_text=True)
    assert 'value="09:00–12:00, 13:00–15:30"' in form and "checked" in form
    response = client.post(f"/admin/sites/{site.id}", data=site_form(hours_1="", hours_3=""))
    assert response.status_code == 303
    db.session.refresh(site)
    assert site.weekly_hours is None and site.services == []
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "site_updated")).one()
    assert set(event.detail["changed"]) == {"weekly_hours", "services"}


def field_errors(html: str) -> dict[str, str]:
    """Each field's error list as shown beside it."""
    return dict(re.findall(r'<ul class="field-errors" id="([\w-]+)-error">(.*?)</ul>', html, re.S))


def test_site_form_refuses_bad_details_beside_each_field(client, admin):
    bad = {
        "phone": ("123", "Skriv ett telefonnummer med riktnummer"),
        "hours_2": ("nio till tolv", "Skriv tiderna som 09:00–12:00"),
        "hours_3": ("16-9", "Stängningstiden måste vara efter öppningstiden."),
        "hours_4": ("9-12, 11-13", "Tiderna får inte gå in i varandra."),
        "latitude": ("91", "Välj ett tal från -90 till 90."),
        "longitude": ("öster", "Skriv ett tal med decimalpunkt"),
        "address": ("x" * 301, "Fältet får inte vara längre än 300 tecken."),
    }
    response = client.post(
        "/admin/sites/new", data=site_form(**{f: v for f, (v, _m) in bad.items()})
    )
    assert response.status_code == 422
    errors = field_errors(response.get_data(as_text=True))
    for field, (_value, message) in bad.items():
        assert message in errors.get(field, ""), field
    half = client.post("/admin/sites/new", data=site_form(longitude="", phone="08-46500430 <b>"))
    errors = field_errors(half.get_data(as_text=True))
    assert "Skriv både latitud och longitud, eller ingen av dem." in errors["longitude"]
    assert "Skriv ett telefonnummer med riktnummer" in errors["phone"]
    assert db.session.scalar(select(Site).where(Site.name == "Öppna förskolan Väster")) is None


def test_site_form_keeps_the_sites_lifetime_and_refuses_a_close_before_the_opening(client, admin):
    """Issue 20: a project's period must lie inside its sites' lifetime, so the admin records
    when a site opened and closed; a date in another shape or a close before the opening is
    refused beside its field, and nothing is stored."""
    response = client.post("/admin/sites/new", data=site_form(opened_on="2024-08-19", closed_on=""))
    assert response.status_code == 303
    site = db.session.scalar(select(Site).where(Site.name == "Öppna förskolan Väster"))
    assert (site.opened_on, site.closed_on) == (date(2024, 8, 19), None)
    response = client.post(
        f"/admin/sites/{site.id}", data=site_form(opened_on="19/8 2024", closed_on="2024-08-01")
    )
    assert response.status_code == 422
    errors = field_errors(response.get_data(as_text=True))
    assert "Skriv datumet som ÅÅÅÅ-MM-DD." in errors["opened_on"]
    response = client.post(
        f"/admin/sites/{site.id}", data=site_form(opened_on="2024-08-19", closed_on="2024-08-01")
    )
    errors = field_errors(response.get_data(as_text=True))
    assert "Stängningsdagen kan inte vara före öppningsdagen." in errors["closed_on"]
    db.session.refresh(site)
    assert (site.opened_on, site.closed_on) == (date(2024, 8, 19), None)


def test_site_form_speaks_the_admins_language(client, make, org, login):
    login(make.user(org=org, role=Role.ADMIN, locale="en"))
    html = client.post("/admin/sites/new", data=site_form(hours_2="16-9")).get_data(as_text=True)
    assert '<label for="hours_2">Tuesday</label>' in html


def service_form(service, **overrides) -> dict:
    data = {
        "slug": service.slug,
        "pictogram": "sfi.svg",
        "sort_order": "10",
        "is_active": "y",
        "address": "Skolvägen 3",
        "phone": "010-123 45 67",
        "hours_2": "8.30-16",
        "apply_url": "https://demo.example/ansok",
    }
    return {**data, **overrides}


def test_admin_saves_a_services_local_details(client, make, org, admin):
    sfi = make.service(org=org, slug="sfi", weekly_hours=[[1, "09:00", "10:00"]])
    assert 'value="09:00–10:00"' in client.get(f"/admin/services/{sfi.id}").get_data(as_text=True)
    assert client.post(f"/admin/services/{sfi.id}", data=service_form(sfi)).status_code == 303
    db.session.refresh(sfi)
    assert sfi.weekly_hours == [[2, "08:30", "16:00"]]
    assert (sfi.apply_url, sfi.phone) == ("https://demo.example/ansok", "010-123 45 67")


def test_service_form_refuses_bad_local_details_beside_each_field(client, make, org, admin):
    sfi = make.service(org=org, slug="sfi")
    for bad in (
        {"apply_url": "http://demo.example/ansok", "phone": "ring oss", "hours_5": "9-25"},
        {"apply_url": "javascript:alert(1)"},
        {"apply_url": "https://" + "a" * 300 + ".se"},
    ):
        response = client.post(f"/admin/services/{sfi.id}", data=service_form(sfi, **bad))
        assert response.status_code == 422
        errors = field_errors(response.get_data(as_text=True))
        assert set(errors) == set(bad)
    assert "börjar med https://" in errors["apply_url"] or "300 tecken" in errors["apply_url"]
    assert "Fältet får inte vara längre än 300 tecken." in errors["apply_url"]
    db.session.refresh(sfi)
    assert sfi.apply_url == "" and sfi.weekly_hours is None


# ---------------------------------------------------------------- catalogue and demo data


def test_catalogue_carries_weekly_hours_and_the_apply_link_as_hsds(make, org):
    make.service(
        org=org,
        slug="sfi",
        opening_hours="Stängt i juli",
        weekly_hours=[[1, "09:00", "12:00"], [5, "13:00", "16:00"]],
        apply_url="https://demo.example/ansok",
    )
    record = export_catalogue(org)["services"][0]
    assert [{k: v for k, v in s.items() if k != "id"} for s in record["schedules"]] == [
        {"description": "Stängt i juli"},
        {"freq": "WEEKLY", "byday": "MO", "opens_at": "09:00", "closes_at": "12:00"},
        {"freq": "WEEKLY", "byday": "FR", "opens_at": "13:00", "closes_at": "16:00"},
    ]
    assert record["x_bro_apply_url"] == "https://demo.example/ansok"
    other = make.org()
    import_catalogue(other, {"services": [record]})
    assert [as_version_1(r) for r in export_catalogue(other)["services"]] == [
        as_version_1(record)  # the copy has a UUID of its own
    ]
    broken = {**record, "id": "so", "schedules": [{"byday": "XX", "opens_at": "9"}]}
    with pytest.raises(CatalogueError) as error:
        import_catalogue(other, {"services": [broken]})
    assert "services[1].schedules: öppettiderna går inte att läsa." in error.value.errors


def test_demo_sites_and_services_have_local_details_the_admin_forms_accept(make):
    org = make.org(name="Demo kommun")
    for name in DEMO_SITES:
        make.site(org=org, name=name)
    seed_core_services(org)
    seed_demo_local_details(org)  # as create_demo does, without its months of visits
    db.session.commit()
    sites = db.session.scalars(select(Site)).all()
    services = db.session.scalars(select(Service)).all()
    assert len(sites) == 2 and len(services) == 6
    for place in [*sites, *services]:
        assert place.address and place.phone and place.weekly_hours, place
        assert is_valid(place.weekly_hours)
        phone_number(None, type("F", (), {"data": place.phone})())  # raises if refused
        assert place.phone.startswith("08-465 004 ")  # PTS's range for fiction
    assert all(s.apply_url.startswith("https://www.demo-kommun.example/") for s in services)
    assert all(site.services for site in sites)


# ---------------------------------------------------------------- listening (item 6)

OGG = b"OggS\x00\x02" + b"\x00" * 500
LABELLED_PLAYER = re.compile(
    # The label is in the reader's language: "Lyssna på texten" in Swedish.
    r'<span class="recording-label" id="recording-label">(?P<label>[^<]+)</span>\s*'
    r'<audio controls preload="none" src="(?P<src>[^"]+)" aria-labelledby="recording-label">'
)


def upload(client, url: str, data: bytes, filename: str):
    return client.post(
        url, data={"audio": (io.BytesIO(data), filename)}, content_type="multipart/form-data"
    )


def test_service_page_offers_listen_and_a_recording_has_a_visible_label(client, make, org, admin):
    sfi = make.service(org=org, slug="sfi")
    html = client.get("/sv/sfi").get_data(as_text=True)
    button = re.search(r"<button[^>]*data-readaloud[^>]*>([^<]*)</button>", html)
    assert button and button.group(1) == "Lyssna" and 'data-stop="Stoppa"' in button.group(0)
    assert "Läs upp" not in html and "<audio" not in html
    assert (
        upload(client, f"/admin/services/{sfi.id}/texts/sv/audio", OGG, "s.ogg").status_code == 303
    )
    html = client.get("/sv/sfi").get_data(as_text=True)
    player = LABELLED_PLAYER.search(html)
    assert player and player["src"] == "/sv/sfi/audio"
    assert "data-readaloud" not in html  # one way to listen: the person's recording
    text = db.session.scalars(select(ServiceTranslation)).one()
    assert text.audio_filename.endswith(".ogg")


def test_admin_uploads_a_recording_of_a_consent_text_played_on_the_consent_screen(
    client, make, org, admin, login, north
):
    text = make.consent_text(org, "ar", body="نص الموافقة")
    sfi = make.service(org=org, slug="sfi")
    page = client.get(f"/admin/consent-texts/{text.id}/audio")
    assert page.status_code == 200
    refused = upload(client, f"/admin/consent-texts/{text.id}/audio", b"<html>" * 50, "x.mp3")
    assert refused.status_code == 422
    assert re.search(
        r'id="audio-error"><li>Filen är inte ljud av en typ vi tar emot',
        refused.get_data(as_text=True),
    )
    response = upload(client, f"/admin/consent-texts/{text.id}/audio", OGG, "samtycke.ogg")
    assert response.status_code == 303
    db.session.refresh(text)
    assert re.fullmatch(r"[0-9a-f]{32}\.ogg", text.audio_filename)
    assert "Inspelad" in client.get("/admin/consent-texts/").get_data(as_text=True)

    staff = make.user(org=org, sites=[north])
    client.post("/logout")
    login(staff)
    screen = client.get(
        f"/sites/{north.id}/referrals/consent",
        query_string={"service_id": [sfi.id], "visitor_lang": "ar"},
    ).get_data(as_text=True)
    player = LABELLED_PLAYER.search(screen)
    assert player is not None
    with force_locale("ar"):  # the visitor's part of the consent screen is in her language
        assert player["label"] == gettext("Lyssna på texten")
    assert player["src"] == f"/consent-texts/{text.id}/audio"
    audio = client.get(player["src"])
    assert audio.status_code == 200 and audio.mimetype == "audio/ogg" and audio.data == OGG

    stranger = make.user(org=make.org(), role=Role.ADMIN)
    client.post("/logout")
    login(stranger)
    assert client.get(player["src"]).status_code == 404  # another organisation's text
    assert client.get(f"/admin/consent-texts/{text.id}/audio").status_code == 404

    client.post("/logout")
    login(admin)
    assert client.post(f"/admin/consent-texts/{text.id}/audio/delete").status_code == 303
    db.session.refresh(text)
    assert text.audio_filename is None
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "consent_text")
    ).all()
    assert actions == ["consent_text_audio_upload", "consent_text_audio_remove"]


def test_consent_screen_without_a_recording_offers_listen_hidden_until_a_voice_is_found(
    client, make, org, north, login
):
    make.consent_text(org, "ti", body="ጽሑፍ")
    sfi = make.service(org=org, slug="sfi")
    login(make.user(org=org, sites=[north]))
    screen = client.get(
        f"/sites/{north.id}/referrals/consent",
        query_string={"service_id": [sfi.id], "visitor_lang": "ti"},
    ).get_data(as_text=True)
    assert re.search(r'<button[^>]*data-readaloud data-lang="ti"[^>]*hidden>', screen)
    assert "<audio" not in screen


def test_receipt_names_the_open_preschool_to_come_back_to(client, make, org, north, login):
    staff = make.user(org=org, sites=[north])
    consent = make.referral_consent(north, [make.service(org=org, slug="sfi")], staff)
    login(staff)
    html = client.get(f"/referrals/receipt/{consent.id}").get_data(as_text=True)
    assert "Öppna förskolan Norr" in html and "Norrgatan 12, 123 45 Demostad" in html
    assert 'href="tel:0846500410"' in html and "09:00–12:00, 13:00–16:00" in html
