"""Public service information, the catalogue, kiosk mode and the admin screens (area: info)."""

import gzip
import io
import json
import re

import pytest
import segno
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.choices import Role, TranslationStatus
from app.extensions import db
from app.i18n import CONTENT_LOCALES, LOCALES
from app.info import RESERVED_SLUGS, catalogue
from app.info.catalogue import (
    SeedError,
    as_version_1,
    core_services,
    export_catalogue,
    import_catalogue,
    seed_core_services,
    seed_files,
)
from app.info.views import qr_svg
from app.models import AuditEvent, Service, ServiceTranslation

FALLBACK_NOTE = "Den här texten finns inte på ditt språk än. Här är den på svenska."
# An ID3 tag of 4 bytes, then an MPEG frame header (MPEG-1 layer III, 128 kbit/s).
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x04TAG!" + b"\xff\xfb\x90\x64" + b"\x00" * 500
OGG = b"OggS\x00\x02" + b"\x00" * 500
# slug -> record, as the seed files in app/info/seed/services/ hold them.
CORE_SERVICES = core_services()


def same_services(catalogue_a: dict, catalogue_b: dict) -> bool:
    """Two exports hold the same services, their UUIDs aside (a copy has its own)."""
    return [as_version_1(r) for r in catalogue_a["services"]] == [
        as_version_1(r) for r in catalogue_b["services"]
    ]


def translated(app, locale: str, msgid: str) -> str:
    with app.test_request_context(), force_locale(locale):
        return _(msgid)


def html_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;")
    )


def add_text(service: Service, locale: str, name: str, **kw) -> ServiceTranslation:
    row = ServiceTranslation(service_id=service.id, locale=locale, name=name, **kw)
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def org(make):
    return make.org(kiosk_idle_seconds=45)


@pytest.fixture
def admin(make, org):
    return make.user(org=org, role=Role.ADMIN)


@pytest.fixture
def core(org):
    seed_core_services(org)
    db.session.commit()
    return org


# ---------------------------------------------------------------- seeding


def test_seed_gives_every_core_service_in_every_content_locale_swedish_reviewed(org):
    seed_core_services(org)
    seed_core_services(org)  # a second run adds nothing
    db.session.commit()
    rows = db.session.execute(
        select(Service.slug, ServiceTranslation.locale, ServiceTranslation.status).join(
            ServiceTranslation
        )
    ).all()
    assert {slug for slug, _l, _s in rows} == set(CORE_SERVICES)
    assert len(rows) == len(CORE_SERVICES) * len(CONTENT_LOCALES)
    for _slug, locale, status in rows:
        expected = TranslationStatus.REVIEWED if locale == "sv" else TranslationStatus.DRAFT
        assert status == expected
    texts = db.session.scalars(select(ServiceTranslation)).all()
    assert all(t.name and t.summary and t.eligibility and t.how_to_start for t in texts)


@pytest.mark.parametrize("path", seed_files(), ids=lambda path: path.stem)
def test_each_seed_file_imports_cleanly_and_exports_as_shipped(org, path):
    """A seed file is a catalogue an admin could upload: the import takes it as it is, and the
    export gives it back unchanged (so its top-level Swedish text agrees with its sv text)."""
    shipped = json.loads(path.read_text(encoding="utf-8"))
    assert import_catalogue(org, shipped) == {"created": 1, "updated": 0}
    assert [as_version_1(r) for r in export_catalogue(org)["services"]] == shipped["services"]
    record = shipped["services"][0]
    assert record["id"] == path.stem and list(record["translations"]) == list(CONTENT_LOCALES)
    assert path.read_text(encoding="utf-8") == (
        json.dumps(shipped, ensure_ascii=False, indent=2) + "\n"
    )


def test_seed_adds_only_the_services_the_organisation_lacks(org):
    sfi = Service(organisation_id=org.id, slug="sfi", sort_order=7)
    db.session.add(sfi)
    db.session.flush()
    add_text(sfi, "sv", "Vår egen SFI")
    added = seed_core_services(org)
    db.session.commit()
    lacking = sorted(
        set(CORE_SERVICES) - {"sfi"}, key=lambda slug: CORE_SERVICES[slug]["x_bro"]["sort_order"]
    )
    assert [s.slug for s in added] == lacking  # created in display order, as before
    db.session.refresh(sfi)
    assert sfi.sort_order == 7 and [t.name for t in sfi.translations] == ["Vår egen SFI"]


def test_a_seed_file_the_import_would_refuse_stops_the_seeding(org, tmp_path, monkeypatch):
    shipped = catalogue.SEED_FOLDER
    for path in seed_files():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    broken = json.loads((tmp_path / "so.json").read_text(encoding="utf-8"))
    broken["services"][0]["translations"]["ar"]["name"] = ""
    (tmp_path / "so.json").write_text(json.dumps(broken), encoding="utf-8")
    monkeypatch.setattr(catalogue, "SEED_FOLDER", tmp_path)
    with pytest.raises(SeedError, match=r"so\.json: .*translations\.ar\.name"):
        seed_core_services(org)
    assert db.session.scalar(select(func.count(Service.id))) == 0  # checked before any write

    (tmp_path / "so.json").unlink()
    (tmp_path / "samhalle.json").write_bytes((shipped / "so.json").read_bytes())
    with pytest.raises(SeedError, match="samhalle.json: a catalogue of one service"):
        seed_core_services(org)
    monkeypatch.setattr(catalogue, "SEED_FOLDER", tmp_path / "missing")
    with pytest.raises(SeedError, match="No seed files"):
        seed_core_services(org)


# ---------------------------------------------------------------- public pages


def test_grid_shows_each_active_service_with_its_pictogram(client, core):
    hidden = db.session.scalar(select(Service).where(Service.slug == "so"))
    hidden.is_active = False
    db.session.commit()
    response = client.get("/ar/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'href="/ar/sfi"' in page and "/static/img/services/sfi.svg" in page
    assert 'href="/ar/so"' not in page
    assert '<span lang="sv" dir="ltr">SFI</span> – اللغة السويدية للمهاجرين' in page


def test_missing_translation_shows_swedish_marked_sv_with_a_note_in_the_visitors_language(
    app, client, make, org
):
    service = make.service(org=org, slug="bibliotek")
    response = client.get("/ar/bibliotek")
    page = response.get_data(as_text=True)
    note = translated(app, "ar", FALLBACK_NOTE)
    assert response.status_code == 200
    assert note != FALLBACK_NOTE and note in page
    assert '<h1 lang="sv" dir="ltr">BIBLIOTEK</h1>' in page
    assert re.search(
        r'<p class="service-text lead" data-speak lang="sv" dir="ltr">Sammanfattning', page
    )
    # The read-aloud button speaks Swedish then, and a Swedish audio file is not offered as Arabic.
    assert 'data-lang="sv"' in page
    add_text(service, "ar", "المكتبة", summary="نص")
    page = client.get("/ar/bibliotek").get_data(as_text=True)
    assert note not in page and "المكتبة" in page and 'data-lang="ar"' in page


def test_grid_marks_swedish_fallback_names_and_shows_the_note(app, client, make, org):
    make.service(org=org, slug="bibliotek")
    page = client.get("/so/").get_data(as_text=True)
    assert translated(app, "so", FALLBACK_NOTE) in page
    assert '<span class="service-card-name" lang="sv" dir="ltr">BIBLIOTEK</span>' in page


@pytest.mark.parametrize(
    ("locale", "direction"),
    [("ar", "rtl"), ("fa", "rtl"), ("ckb", "rtl"), ("sv", "ltr"), ("so", "ltr"), ("ti", "ltr")],
)
def test_public_pages_carry_lang_and_direction(client, core, locale, direction):
    for path in (f"/{locale}/", f"/{locale}/sfi", f"/{locale}/sfi/print"):
        page = client.get(path).get_data(as_text=True)
        assert f'<html lang="{locale}" dir="{direction}">' in page, path


def test_unknown_locale_redirects_to_the_best_match(client, core):
    assert client.get("/ar-SE/").status_code == 302
    assert client.get("/ar-SE/").location == "/ar/"
    assert client.get("/xx/sfi").location == "/sv/sfi"
    assert client.get("/prs/sfi").location == "/fa/sfi"
    assert client.get("/AR/sfi/print").location == "/ar/sfi/print"
    # Other one-segment paths are still not found, not taken for a locale.
    assert client.get("/no-such-page").status_code == 404


def test_unknown_slug_is_a_translated_404(app, client, core):
    response = client.get("/ar/no-such-service")
    page = response.get_data(as_text=True)
    title = translated(app, "ar", "Sidan finns inte")
    assert response.status_code == 404
    assert title != "Sidan finns inte" and title in page
    assert '<html lang="ar" dir="rtl">' in page
    assert client.get("/sv/no-such-service/qr.svg").status_code == 404


def test_another_organisations_service_is_not_public_when_one_is_configured(app, client, make):
    first = make.org()
    make.service(org=first, slug="forsta")
    second = make.org(slug="andra")
    make.service(org=second, slug="andra-tjansten")
    assert client.get("/sv/forsta").status_code == 200
    assert client.get("/sv/andra-tjansten").status_code == 404
    app.config["PUBLIC_ORGANISATION"] = "andra"
    assert client.get("/sv/andra-tjansten").status_code == 200
    assert client.get("/sv/forsta").status_code == 404


def test_public_entry_redirects_to_the_browsers_language(client):
    response = client.get("/info", headers={"Accept-Language": "fa-IR,fa;q=0.9"})
    assert response.status_code == 302 and response.location == "/fa/"
    assert client.get("/info").location == "/sv/"


def test_language_picker_links_the_same_page_in_every_locale_by_endonym(client, core):
    page = client.get("/uk/sfi").get_data(as_text=True)
    for code, endonym in LOCALES.items():
        assert f'href="/{code}/sfi" hreflang="{code}" lang="{code}"' in page
        assert endonym in page
    assert 'href="/uk/sfi" hreflang="uk" lang="uk" dir="ltr" aria-current="page"' in page


def test_public_pages_are_light_and_cacheable_for_visitors(client, core, login, admin):
    response = client.get("/sv/sfi")
    page = response.get_data(as_text=True)
    assert "htmx" not in page and "app.js" not in page and "csrf" not in page.lower()
    assert "js/readaloud.js" in page and "kiosk.js" not in page
    assert response.headers["Cache-Control"] in ("public, max-age=300", "max-age=300, public")
    login(admin)
    assert client.get("/sv/sfi").headers["Cache-Control"] == "no-store"


def test_texts_are_plain_text_never_raw_html(client, make, org):
    service = make.service(org=org, slug="test")
    row = service.translations[0]
    row.summary = '<script>alert("x")</script>\nRad två <b>fet</b>'
    db.session.commit()
    page = client.get("/sv/test").get_data(as_text=True)
    assert "<script>alert" not in page and "<b>fet</b>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;\nRad två &lt;b&gt;fet&lt;/b&gt;" in page


def test_swedish_terms_in_other_languages_texts_are_marked_sv(client, core):
    """The seed texts mark them [[förskola]]: a span with lang="sv" on the public pages."""
    swedish = '<span lang="sv" dir="ltr">{}</span>'.format
    for path in ("/uk/forskola", "/uk/forskola/print"):
        page = client.get(path).get_data(as_text=True)
        assert "Дошкільний заклад (" + swedish("förskola") + ")</h1>" in page
        assert "<title>Дошкільний заклад (förskola) ·" in page  # a title has no markup
        assert "[[" not in page and "]]" not in page
    page = client.get("/so/employment").get_data(as_text=True)
    assert swedish("Arbetsförmedlingen") in page.split("</h1>")[1]  # in the texts too
    grid = client.get("/ar/").get_data(as_text=True)
    assert "الروضة (" + swedish("förskola") + ")" in grid


def test_swedish_term_marks_never_show_outside_the_public_texts(client, core, make):
    from app.names import service_names

    forskola = db.session.scalar(select(Service).where(Service.slug == "forskola"))
    assert service_names([forskola.id], "uk") == {forskola.id: "Дошкільний заклад (förskola)"}
    row = next(t for t in forskola.translations if t.locale == "uk")
    row.summary = "<b>[[för<i>skola]]</b> [[open"
    db.session.commit()
    page = client.get("/uk/forskola").get_data(as_text=True)
    assert '&lt;b&gt;<span lang="sv" dir="ltr">för&lt;i&gt;skola</span>&lt;/b&gt; [[open' in page


def test_the_pictogram_beside_the_heading_is_decorative(client, core):
    for path in ("/fa/sfi", "/fa/sfi/print"):
        page = client.get(path).get_data(as_text=True)
        assert re.search(r'<img class="pictogram" src="[^"]+" alt="" ', page), path


def test_public_pages_describe_themselves_in_the_visitors_language(app, client, core):
    default = "Tjänster för dig och din familj, förklarade på ditt språk: vad de är, vem som"
    assert f'<meta name="description" content="{default}' in client.get("/sv/").get_data(
        as_text=True
    )
    page = client.get("/uk/forskola").get_data(as_text=True)
    described = re.search(r'<meta name="description" content="([^"]*)">', page).group(1)
    assert described.startswith("Дошкільний заклад – для дітей") and len(described) <= 163
    withdraw = client.get("/en/withdraw").get_data(as_text=True)
    expected = translated(
        app, "en", "Du kan ta tillbaka ditt samtycke när som helst. Du behöver inte säga varför."
    )
    assert f'<meta name="description" content="{html_escape(expected)}">' in withdraw


def test_read_aloud_button_is_there_but_hidden_until_a_voice_is_found(client, core):
    page = client.get("/ti/sfi").get_data(as_text=True)
    assert re.search(r"<button[^>]*data-readaloud[^>]*data-lang=\"ti\"[^>]*hidden>", page)
    assert page.count("data-speak") == 3


# ---------------------------------------------------------------- QR code and print view


def test_qr_code_points_to_the_absolute_url_of_the_page_in_that_locale(client, core):
    expected_url = "http://localhost/fa/sfi"
    response = client.get("/fa/sfi/qr.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.data == qr_svg(expected_url)
    # The same URL encoded by segno directly gives the same symbol.
    reference = io.BytesIO()
    segno.make(expected_url, error="m").save(
        reference,
        kind="svg",
        xmldecl=False,
        scale=4,
        border=2,
        light="#fff",
        svgclass="qr",
        lineclass=None,
    )
    assert response.data == reference.getvalue()
    assert response.data != qr_svg("http://localhost/sv/sfi")
    page = client.get("/fa/sfi").get_data(as_text=True)
    assert 'src="/fa/sfi/qr.svg"' in page


def test_print_view_is_a_handout_with_the_qr_code_inline(client, core):
    response = client.get("/so/forskola/print")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert qr_svg("http://localhost/so/forskola").decode() in page
    assert "http://localhost/so/forskola" in page
    assert "Xannaanada carruurta" in page


# ---------------------------------------------------------------- page weight

STATIC_REF = re.compile(r'(?:src|href)="(/(?:static/|[a-z]{2,3}/[a-z0-9-]+/qr\.svg)[^"]*)"')


def test_first_view_of_a_service_page_is_at_most_30_kb_compressed(client, core):
    """HTML, CSS, JS, pictogram and QR code, each gzipped as a server would send them."""
    for path in ("/ar/sfi", "/sv/employment", "/ckb/parenting"):
        response = client.get(path)
        assert response.status_code == 200
        html = response.data
        resources = sorted(set(STATIC_REF.findall(html.decode())))
        kinds = {r.split("?")[0].rsplit(".", 1)[-1] for r in resources}
        assert {"css", "js", "svg"} <= kinds, resources
        total = len(gzip.compress(html, 9))
        for url in resources:
            if "favicon" in url:
                continue  # fetched once per site, not part of the page's first view
            resource = client.get(url)
            assert resource.status_code == 200, url
            total += len(gzip.compress(resource.data, 9))
            resource.close()
        assert total <= 30 * 1024, (path, total)


def test_pictograms_are_small_labelled_svgs():
    from pathlib import Path

    from app.info.forms import PICTOGRAMS

    folder = Path(__file__).resolve().parent.parent / "static" / "img" / "services"
    for name in PICTOGRAMS:
        data = (folder / name).read_text()
        assert len(data.encode()) < 2048, name
        assert 'role="img"' in data and "aria-label=" in data, name
        assert "<script" not in data and "style=" not in data, name


# ---------------------------------------------------------------- kiosk mode


@pytest.fixture
def kiosk(client, login, make, org, core):
    site = make.site(org=org)
    staff = make.user(org=org, role=Role.STAFF, sites=[site])
    login(staff)
    response = client.post("/kiosk/start")
    assert response.status_code == 303 and response.location == "/kiosk/"
    return staff


def test_only_staff_can_start_kiosk_mode(client):
    response = client.post("/kiosk/start")
    assert response.status_code in (302, 303) and "/login" in response.location


def test_kiosk_reaches_only_public_pages(client, kiosk):
    assert client.get("/kiosk/").status_code == 200
    assert client.get("/sv/sfi").status_code == 200
    assert client.get("/ar/").status_code == 200
    for path in ("/", "/admin/", "/login", "/kiosk/start", "/admin/services/"):
        response = client.get(path)
        assert response.status_code == 303 and response.location == "/kiosk/", path
    assert client.post("/logout").location == "/kiosk/"
    # Static files still load.
    assert client.get("/static/js/kiosk.js").status_code == 200


def test_kiosk_pages_go_home_after_the_organisations_idle_time(client, kiosk):
    page = client.get("/sv/sfi").get_data(as_text=True)
    assert 'data-kiosk-idle="45"' in page and 'data-kiosk-home="/kiosk/"' in page
    assert "js/kiosk.js" in page
    assert '<noscript><meta http-equiv="refresh" content="45;url=/kiosk/"></noscript>' in page
    response = client.get("/sv/sfi")
    assert response.headers["Cache-Control"] == "no-store"  # a kiosk page is never shared
    home = client.get("/kiosk/").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in home
    for code, endonym in LOCALES.items():
        assert f'href="/{code}/"' in home and endonym in home


def test_leaving_kiosk_needs_the_password_of_who_started_it(app, client, kiosk, make, org):
    other = make.user(org=org, role=Role.ADMIN)
    response = client.post("/kiosk/exit", data={"password": "wrong password"})
    assert response.status_code == 401
    message = translated(app, "sv", "Fel lösenord. Kioskläget är kvar.")
    assert message in response.get_data(as_text=True)
    assert client.get("/").location == "/kiosk/"  # still a kiosk
    assert client.post("/kiosk/exit", data={"password": ""}).status_code == 422
    del other  # another user's (correct) password does not open it either
    response = client.post("/kiosk/exit", data={"password": make.PASSWORD})
    assert response.status_code == 303 and response.location == "/"
    assert client.get("/admin/services/").status_code == 403  # signed in again, as staff
    assert client.get("/kiosk/").status_code == 200
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert "kiosk_start" in actions and "kiosk_exit" in actions


def test_kiosk_exit_attempts_are_throttled(client, kiosk, make):
    for _attempt in range(5):
        assert client.post("/kiosk/exit", data={"password": "wrong"}).status_code == 401
    assert client.post("/kiosk/exit", data={"password": make.PASSWORD}).status_code == 429


def test_kiosk_exit_without_a_kiosk_goes_to_sign_in(client):
    assert client.get("/kiosk/exit").location == "/login"


# ---------------------------------------------------------------- admin screens


def test_admin_list_shows_missing_draft_and_reviewed_per_locale(client, login, admin, make, org):
    service = make.service(org=org, slug="bibliotek")
    add_text(service, "ar", "المكتبة", status=TranslationStatus.DRAFT)
    login(admin)
    page = client.get("/admin/services/").get_data(as_text=True)
    assert f'href="/admin/services/{service.id}/texts/sv"' in page
    assert page.count("badge-reviewed") == 1
    assert page.count("badge-draft") == 1
    assert page.count("badge-missing") == len(CONTENT_LOCALES) - 2


def test_admin_creates_a_service_and_its_translation(client, login, admin, org):
    login(admin)
    response = client.post(
        "/admin/services/new",
        data={
            "slug": "sprak-cafe",
            "name": "Språkcafé",
            "pictogram": "service.svg",
            "sort_order": "5",
            "is_active": "y",
            "form_key": "k1",
        },
    )
    service = db.session.scalar(select(Service).where(Service.slug == "sprak-cafe"))
    assert response.status_code == 303
    assert response.location == f"/admin/services/{service.id}/texts/sv"
    again = client.post(
        "/admin/services/new",
        data={
            "slug": "sprak-cafe",
            "name": "Språkcafé",
            "pictogram": "service.svg",
            "sort_order": "5",
            "form_key": "k1",
        },
    )
    assert again.status_code == 303  # a replayed form stores nothing twice
    response = client.post(
        f"/admin/services/{service.id}/texts/sv",
        data={
            "name": "Språkcafé",
            "summary": "Prata svenska.\nVarje tisdag.",
            "status": "reviewed",
        },
    )
    assert response.status_code == 303
    page = client.get("/sv/sprak-cafe").get_data(as_text=True)
    assert "Språkcafé" in page and "Prata svenska.\nVarje tisdag." in page
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "service_create" in actions and "service_translation_update" in actions


@pytest.mark.parametrize(
    "slug", ["SFI", "sfi kurs", "sfi_kurs", "-sfi", "sfi-", "", "språk", "a" * 61, "<b>x</b>"]
)
def test_admin_refuses_a_bad_slug(client, login, admin, slug):
    login(admin)
    response = client.post(
        "/admin/services/new",
        data={"slug": slug, "name": "Tjänst", "pictogram": "service.svg", "sort_order": "1"},
    )
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Service.id))) == 0


def test_admin_refuses_a_duplicate_slug_but_allows_one_in_another_org(
    app, client, login, admin, make, org
):
    make.service(org=org, slug="sfi")
    other = make.service(org=make.org(), slug="bibliotek")
    login(admin)
    response = client.post(
        "/admin/services/new",
        data={"slug": "sfi", "name": "SFI", "pictogram": "sfi.svg", "sort_order": "1"},
    )
    assert response.status_code == 422
    assert html_escape(translated(app, "sv", "Det kortnamnet används redan.")) in response.get_data(
        as_text=True
    )
    mine = make.service(org=org, slug="so")
    response = client.post(
        f"/admin/services/{mine.id}", data={"slug": "sfi", "pictogram": "so.svg", "sort_order": "1"}
    )
    assert response.status_code == 422
    response = client.post(
        "/admin/services/new",
        data={"slug": other.slug, "name": "SFI", "pictogram": "sfi.svg", "sort_order": "1"},
    )
    assert response.status_code == 303


@pytest.mark.parametrize("slug", sorted(RESERVED_SLUGS))
def test_admin_refuses_a_slug_a_public_page_uses(app, client, login, admin, make, org, slug):
    """/sv/withdraw is the page on how to withdraw consent: a service there would never show."""
    login(admin)
    response = client.post(
        "/admin/services/new",
        data={"slug": slug, "name": "Tjänst", "pictogram": "service.svg", "sort_order": "1"},
    )
    assert response.status_code == 422
    assert html_escape(translated(app, "sv", "Det kortnamnet används redan.")) in response.get_data(
        as_text=True
    )
    service = make.service(org=org, slug="sfi")
    response = client.post(
        f"/admin/services/{service.id}",
        data={"slug": slug, "pictogram": "sfi.svg", "sort_order": "1"},
    )
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Service.id)).where(Service.slug == slug)) == 0


def test_admin_refuses_bad_service_fields(client, login, admin, make, org):
    service = make.service(org=org, slug="sfi")
    login(admin)
    for data in (
        {"url": "not a url"},
        {"url": "javascript://example.com/%0aalert(1)"},
        {"email": "not-an-email"},
        {"sort_order": "many"},
        {"pictogram": "../../etc/passwd"},
        {"phone": "1" * 41},
    ):
        form = {"slug": "sfi", "pictogram": "sfi.svg", "sort_order": "1", **data}
        assert client.post(f"/admin/services/{service.id}", data=form).status_code == 422, data


def test_admin_refuses_an_empty_name_and_an_unknown_locale(client, login, admin, make, org):
    service = make.service(org=org, slug="sfi")
    login(admin)
    response = client.post(
        f"/admin/services/{service.id}/texts/ar", data={"name": "  ", "status": "draft"}
    )
    assert response.status_code == 422
    assert (
        client.post(
            f"/admin/services/{service.id}/texts/ar", data={"name": "x", "status": "published"}
        ).status_code
        == 422
    )
    assert client.get(f"/admin/services/{service.id}/texts/xx").status_code == 404
    assert db.session.scalar(select(func.count(ServiceTranslation.id))) == 1


def test_admin_text_with_html_is_shown_escaped_to_admin_and_visitor(
    client, login, admin, make, org
):
    service = make.service(org=org, slug="sfi")
    login(admin)
    raw = '<img src=x onerror="alert(1)">'
    response = client.post(
        f"/admin/services/{service.id}/texts/sv",
        data={"name": raw, "summary": raw, "status": "reviewed"},
    )
    assert response.status_code == 303
    for path in (f"/admin/services/{service.id}/texts/sv", "/admin/services/", "/sv/sfi", "/sv/"):
        page = client.get(path).get_data(as_text=True)
        assert raw not in page and "&lt;img src=x onerror=" in page, path


def test_another_organisations_service_is_404_for_an_admin(client, login, admin, make):
    other = make.service(org=make.org(), slug="sfi")
    login(admin)
    for path in (
        f"/admin/services/{other.id}",
        f"/admin/services/{other.id}/texts/sv",
    ):
        assert client.get(path).status_code == 404, path
        assert client.post(path, data={"slug": "x", "name": "x"}).status_code == 404, path
    upload = {"audio": (io.BytesIO(MP3), "a.mp3")}
    assert client.post(f"/admin/services/{other.id}/texts/sv/audio", data=upload).status_code == 404
    assert client.post(f"/admin/services/{other.id}/texts/sv/audio/delete").status_code == 404
    assert db.session.get(ServiceTranslation, other.translations[0].id).name == "SFI"


def test_only_admins_open_the_service_screens(client, login, make, org):
    login(make.user(org=org, role=Role.COORDINATOR))
    assert client.get("/admin/services/").status_code == 403


# ---------------------------------------------------------------- audio


def upload(client, service, data: bytes, filename: str, lang="sv"):
    return client.post(
        f"/admin/services/{service.id}/texts/{lang}/audio",
        data={"audio": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def test_admin_uploads_audio_that_visitors_can_play(app, client, login, admin, make, org):
    service = make.service(org=org, slug="sfi")
    login(admin)
    response = upload(client, service, OGG, "sfi.ogg")
    assert response.status_code == 303
    row = db.session.get(ServiceTranslation, service.translations[0].id)
    db.session.refresh(row)
    assert re.fullmatch(r"[0-9a-f]{32}\.ogg", row.audio_filename)
    client.post("/logout")
    page = client.get("/sv/sfi").get_data(as_text=True)
    assert 'src="/sv/sfi/audio"' in page
    audio = client.get("/sv/sfi/audio")
    assert audio.status_code == 200 and audio.mimetype == "audio/ogg" and audio.data == OGG
    assert client.get("/ar/sfi/audio").status_code == 404  # Swedish audio is not Arabic
    assert "/ar/sfi/audio" not in client.get("/ar/sfi").get_data(as_text=True)
    login(admin)
    assert upload(client, service, MP3, "ny.MP3").status_code == 303
    db.session.refresh(row)
    assert row.audio_filename.endswith(".mp3")
    assert client.get("/sv/sfi/audio").mimetype == "audio/mpeg"
    assert client.post(f"/admin/services/{service.id}/texts/sv/audio/delete").status_code == 303
    db.session.refresh(row)
    assert row.audio_filename is None
    assert client.get("/sv/sfi/audio").status_code == 404
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions.count("service_audio_upload") == 2 and "service_audio_remove" in actions


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"<html>not audio</html>" * 10, "fake.mp3"),  # right name, wrong bytes
        (b"%PDF-1.7 " + b"\x00" * 100, "doc.ogg"),
        (OGG, "sound.exe"),  # right bytes, wrong name
        (b"", "empty.mp3"),
    ],
)
def test_audio_of_the_wrong_type_is_refused_with_a_clear_message(
    app, client, login, admin, make, org, data, filename
):
    service = make.service(org=org, slug="sfi")
    login(admin)
    response = upload(client, service, data, filename)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    if data:
        message = "Filen är inte ljud av en typ vi tar emot (MP3, OGG, M4A eller WebM)."
        assert message in page
    assert db.session.get(ServiceTranslation, service.translations[0].id).audio_filename is None


def test_audio_message_is_in_the_admins_language(app, client, login, make, org):
    arabic_admin = make.user(org=org, role=Role.ADMIN, locale="ar")
    service = make.service(org=org, slug="sfi")
    login(arabic_admin)
    page = upload(client, service, b"not audio at all", "x.mp3").get_data(as_text=True)
    message = translated(
        app, "ar", "Filen är inte ljud av en typ vi tar emot (MP3, OGG, M4A eller WebM)."
    )
    assert message in page


@pytest.mark.parametrize("app_config", [{"AUDIO_MAX_BYTES": 1000}])
def test_audio_over_the_size_limit_is_refused(client, login, admin, make, org):
    service = make.service(org=org, slug="sfi")
    login(admin)
    response = upload(client, service, MP3 + b"\x00" * (1001 - len(MP3)), "big.mp3")
    assert response.status_code == 422
    assert "Filen är för stor. Den får vara högst" in response.get_data(as_text=True)
    assert upload(client, service, MP3, "ok.mp3").status_code == 303


# ---------------------------------------------------------------- export / import


def test_catalogue_round_trips_through_json_export_and_import(client, login, admin, make, core):
    sfi = db.session.scalar(select(Service).where(Service.slug == "sfi"))
    sfi.phone, sfi.address, sfi.opening_hours, sfi.email = (
        "08-123 45 67",
        "Storgatan 1, 123 45 Staden",
        "Mån–fre 9–16",
        "sfi@kommun.se",
    )
    db.session.commit()
    login(admin)
    exported = client.get("/admin/services/export")
    assert exported.status_code == 200 and exported.mimetype == "application/json"
    data = json.loads(exported.data)
    first = as_version_1(data["services"][0])  # HSDS 3.0 is tests/test_hsds.py's
    assert first["id"] == "sfi" and first["status"] == "active"
    assert first["phones"] == [{"number": "08-123 45 67"}]
    assert first["locations"] == [{"addresses": [{"address_1": "Storgatan 1, 123 45 Staden"}]}]
    assert first["schedules"] == [{"description": "Mån–fre 9–16"}]
    assert set(first["translations"]) == set(CONTENT_LOCALES)

    other_org = make.org()
    other_admin = make.user(org=other_org, role=Role.ADMIN)
    client.post("/logout")
    login(other_admin)
    response = client.post(
        "/admin/services/import",
        data={"file": (io.BytesIO(exported.data), "catalogue.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    again = json.loads(client.get("/admin/services/export").data)
    assert same_services(again, data)  # the copies have UUIDs of their own
    # Importing the same file once more changes nothing.
    client.post(
        "/admin/services/import",
        data={"file": (io.BytesIO(exported.data), "catalogue.json")},
        content_type="multipart/form-data",
    )
    assert same_services(json.loads(client.get("/admin/services/export").data), data)
    assert db.session.scalar(
        select(func.count(Service.id)).where(Service.organisation_id == other_org.id)
    ) == len(CORE_SERVICES)


def test_cli_commands_export_and_import_the_catalogue(app, make, core, tmp_path):
    runner = app.test_cli_runner()
    path = tmp_path / "catalogue.json"
    result = runner.invoke(args=["catalogue-export", str(path), "--org", core.slug])
    assert result.exit_code == 0, result.output
    target = make.org(slug="ny-kommun")
    result = runner.invoke(args=["catalogue-import", str(path), "--org", "ny-kommun"])
    assert result.exit_code == 0, result.output
    assert same_services(export_catalogue(target), json.loads(path.read_text()))
    bad = tmp_path / "bad.json"
    bad.write_text('{"services": [{"id": "Bad Slug"}]}')
    result = runner.invoke(args=["catalogue-import", str(bad), "--org", "ny-kommun"])
    assert result.exit_code != 0


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ("{not json", "inte giltig JSON"),
        ('{"items": []}', "listan services saknas"),
        ('{"services": [{"id": "Bad Slug", "name": "X"}]}', "services[1].id"),
        (
            '{"services": [{"id": "ok", "translations": {"sv": {"name": ""}}}]}',
            "services[1].translations.sv.name: Skriv ett namn.",
        ),
        ('{"services": [{"id": "ok", "translations": {"xx": {"name": "a"}}}]}', "okänt språk"),
        ('{"services": [{"id": "ok"}]}', "svensk text saknas"),
        (
            '{"services": [{"id": "ok", "name": "A"}, {"id": "ok", "name": "B"}]}',
            "finns två gånger",
        ),
        ('{"services": [{"id": "ok", "name": "A", "status": "gone"}]}', "active eller inactive"),
        ('{"services": [{"id": "ok", "name": "A", "phones": "123"}]}', "ska vara en lista"),
        (
            '{"services": [{"id": "ok", "name": "A", "url": "javascript:alert(1)"}]}',
            "Skriv en hel webbadress.",
        ),
        (
            '{"services": [{"id": "ok", "name": "A", "x_bro": {"pictogram": "../x.svg"}}]}',
            "services[1].x_bro.pictogram",
        ),
    ],
)
def test_import_reports_every_error_and_writes_nothing(
    client, login, admin, make, org, payload, fragment
):
    make.service(org=org, slug="sfi")
    login(admin)
    good_then_bad = payload
    response = client.post(
        "/admin/services/import",
        data={"file": (io.BytesIO(good_then_bad.encode()), "c.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert html_escape(fragment) in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Service.id))) == 1
    assert db.session.scalar(select(func.count(ServiceTranslation.id))) == 1


def test_import_is_one_transaction_when_a_later_service_is_bad(client, login, admin, org):
    login(admin)
    payload = {
        "services": [
            {"id": "forst", "name": "Först"},
            {"id": "sist", "translations": {"sv": {"name": "x" * 121}}},
        ]
    }
    response = client.post(
        "/admin/services/import",
        data={"file": (io.BytesIO(json.dumps(payload).encode()), "c.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Service.id))) == 0


# ---------------------------------------------------------------- entries (issue 18)


def test_a_visitor_at_the_root_gets_the_language_picker_with_a_small_staff_link(client, core):
    response = client.get("/")
    assert response.status_code == 302 and response.location == "/kiosk/"
    page = client.get("/kiosk/").get_data(as_text=True)
    for code in LOCALES:
        assert f'href="/{code}/"' in page
    assert '<p class="staff-link"><a href="/login">Logga in för personal</a></p>' in page


def test_a_kiosk_picker_shows_no_staff_link(client, kiosk):
    assert "staff-link" not in client.get("/kiosk/").get_data(as_text=True)


def test_signed_in_staff_at_the_root_still_land_on_their_page(client, make, login, org):
    login(make.user(org=org, role=Role.ADMIN))
    assert client.get("/").location == "/admin/"


@pytest.mark.parametrize(
    "accept, expected",
    [
        ("prs-AF", "/fa/"),  # Dari is served by Persian, as /prs/ is
        ("prs-AF,en;q=0.5", "/fa/"),
        ("de,ar-SE;q=0.8", "/ar/"),  # the first language we serve, by preference
        ("de", "/sv/"),
    ],
)
def test_info_picks_the_browser_language_by_the_same_rule_as_the_url(client, accept, expected):
    assert client.get("/info", headers={"Accept-Language": accept}).location == expected
    assert client.get("/prs/").location == "/fa/"


def test_info_opens_in_the_staff_members_language_not_the_browsers(client, make, login, org):
    login(make.user(org=org, locale="fa"))
    response = client.get("/info", headers={"Accept-Language": "en"})
    assert response.location == "/fa/"


def test_staff_navigation_links_to_the_public_pages_and_kiosk_mode(client, make, login, org):
    site = make.site(org=org)
    login(make.user(org=org, role=Role.STAFF, sites=[site], locale="ar"))
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    nav = page.split('class="mainnav"')[1].split("</nav>")[0]
    assert f'href="/ar/">{translated(client.application, "ar", "Information för besökare")}' in nav
    assert f'href="/kiosk/start">{translated(client.application, "ar", "Kioskläge")}' in nav
