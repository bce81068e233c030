"""Malformed input that once gave a 500 (issue 16): ids out of the database's integer range in
URLs, query strings and hidden fields; form fields sent as file parts; dates at the end of the
calendar in the statistics period; and catalogue imports that were too deep, of the wrong
types or out of range. Each is answered with a clear refusal and stores nothing.
"""

import io
import json

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.info import catalogue
from app.models import AnonymousInterest, Consent, Service, ServiceTranslation, Site
from tests.security_world import build_world, sign_in_as

HUGE_IDS = [str(2**31), str(10**20), str(-(10**20)), "²"]


@pytest.fixture
def world(make):
    return build_world(make)


def _counts() -> tuple[int, int, int]:
    return (
        db.session.scalar(select(func.count(Consent.id))),
        db.session.scalar(select(func.count(AnonymousInterest.id))),
        db.session.scalar(select(func.count(Service.id))),
    )


# --- ids out of range --------------------------------------------------------------------


@pytest.mark.parametrize("bad", HUGE_IDS)
@pytest.mark.parametrize("step", ["referrals/consent", "referrals"])
def test_referral_flow_treats_an_out_of_range_service_id_as_not_found(client, world, bad, step):
    sign_in_as(client, world.users["staff_a1"])
    before = _counts()
    response = client.post(
        f"/sites/{world.site_a1.id}/{step}",
        data={
            "service_id": [str(world.service_x.id), bad],
            "visitor_lang": "sv",
            "text_id": str(world.text_a.id),
            "form_key": "overflow",
            "answer": "no",
            "agree_processing": "y",
            "agree_disclosure": "y",
            "method": "tablet",
            "first_name": "Fatima",
            "phone": "070-123 45 67",
            "contact_language": "sv",
            "best_time": "morning",
        },
    )
    assert response.status_code == 404
    assert _counts() == before


@pytest.mark.parametrize("bad", HUGE_IDS)
def test_referral_flow_treats_an_out_of_range_text_id_as_a_bad_request(client, world, bad):
    sign_in_as(client, world.users["staff_a1"])
    before = _counts()
    response = client.post(
        f"/sites/{world.site_a1.id}/referrals/consent",
        data={
            "service_id": str(world.service_x.id),
            "visitor_lang": "sv",
            "text_id": bad,
            "form_key": "overflow",
            "answer": "no",
        },
    )
    assert response.status_code == 400
    assert _counts() == before


@pytest.mark.parametrize("bad", HUGE_IDS)
def test_referral_consent_screen_refuses_an_out_of_range_service_id(client, world, bad):
    sign_in_as(client, world.users["staff_a1"])
    response = client.get(
        f"/sites/{world.site_a1.id}/referrals/consent",
        query_string={"service_id": bad, "visitor_lang": "sv"},
    )
    assert response.status_code in (404, 422)


@pytest.mark.parametrize("bad", HUGE_IDS)
def test_queue_site_filter_out_of_range_is_not_found(client, world, bad):
    sign_in_as(client, world.users["admin_a"])
    response = client.get(
        f"/queue/services/{world.service_x.id}", query_string={"site_id": bad, "tab": "open"}
    )
    assert response.status_code == 404


@pytest.mark.parametrize("bad", HUGE_IDS)
@pytest.mark.parametrize("name", ["site_id", "service_id"])
def test_stats_filter_ids_out_of_range_are_not_found(client, world, bad, name):
    sign_in_as(client, world.users["admin_a"])
    assert client.get("/stats/", query_string={name: bad}).status_code == 404


@pytest.mark.parametrize("bad", ["2147483648", "100000000000000000000", "0"])
@pytest.mark.parametrize(
    "template",
    [
        "/sites/{}/today",
        "/sites/{}/referrals/new",
        "/queue/referrals/{}",
        "/queue/services/{}",
        "/admin/users/{}",
        "/admin/services/{}",
        "/referrals/receipt/{}",
    ],
)
def test_out_of_range_ids_in_urls_are_not_found(client, world, bad, template):
    sign_in_as(client, world.users["admin_a"])
    assert client.get(template.format(bad)).status_code == 404


def test_queue_assign_refuses_a_digit_python_cannot_read(client, world):
    sign_in_as(client, world.users["admin_a"])
    referral = world.referral_a1_x
    response = client.post(
        f"/queue/referrals/{referral.id}/assign",
        data={"version": str(referral.version), "assignee_id": "²"},
    )
    assert response.status_code == 400


# --- file parts where text is expected ---------------------------------------------------


def _file(text: str = "x"):
    return (io.BytesIO(text.encode()), "field.txt")


FILE_PART_FORMS = [
    ("admin_a", "/admin/sites/new", {"name": _file, "is_active": "y"}),
    ("admin_a", "/admin/users/new", {"name": _file, "email": "a@example.test", "role": "staff"}),
    ("admin_a", "/admin/services/new", {"slug": _file, "sort_order": "1"}),
    ("admin_a", "/admin/settings", {"legal_basis": _file}),
    ("admin_a", "/admin/consent-texts/new", {"body": _file, "locale": "sv"}),
    ("staff_a1", "/sites/{site}/visits", {"women": _file, "languages": _file}),
    ("staff_a1", "/referrals/extract", {"code": _file, "phone": _file}),
    ("admin_a", "/stats/export.csv", {"period": _file}),
    ("admin_a", "/queue/referrals/{referral}/status", {"version": _file, "to_status": "new"}),
    ("admin_a", "/admin/services/import", {"file": _file, "csrf_token": _file}),
    ("admin_a", "/admin/services/{service}/texts/sv", {"name": _file, "status": "draft"}),
]


@pytest.mark.parametrize("actor,template,fields", FILE_PART_FORMS, ids=lambda v: str(v)[:40])
def test_a_file_part_where_text_is_expected_is_a_bad_request(
    client, world, actor, template, fields
):
    sign_in_as(client, world.users[actor])
    url = template.format(
        site=world.site_a1.id, referral=world.referral_a1_x.id, service=world.service_x.id
    )
    data = {k: v() if callable(v) else v for k, v in fields.items()}
    before = _counts()
    response = client.post(url, data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Något var fel i förfrågan" in response.get_data(as_text=True)
    assert _counts() == before


def test_the_upload_forms_still_take_their_file(client, world):
    sign_in_as(client, world.users["admin_a"])
    body = json.dumps(catalogue.export_catalogue(world.org_a)).encode()
    response = client.post(
        "/admin/services/import",
        data={"file": (io.BytesIO(body), "c.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303


# --- dates at the end of the calendar ----------------------------------------------------


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
@pytest.mark.parametrize("period", ["week", "month", "quarter", "year"])
def test_stats_period_out_of_range_is_a_clear_422(client, world, day, period):
    sign_in_as(client, world.users["admin_a"])
    response = client.get("/stats/", query_string={"period": period, "on": day})
    assert response.status_code == 422
    assert "Välj ett datum från" in response.get_data(as_text=True)
    for fmt in ("csv", "xlsx"):
        response = client.post(f"/stats/export.{fmt}", data={"period": period, "on": day})
        assert response.status_code == 422


def test_stats_custom_period_at_the_calendar_edge_is_a_clear_422(client, world):
    sign_in_as(client, world.users["admin_a"])
    response = client.get(
        "/stats/", query_string={"period": "custom", "start": "0001-01-01", "end": "0001-12-31"}
    )
    assert response.status_code == 422
    assert "Välj ett datum från" in response.get_data(as_text=True)


# --- catalogue import --------------------------------------------------------------------


def _import(client, body: bytes | dict):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(
        "/admin/services/import",
        data={"file": (io.BytesIO(raw), "c.json")},
        content_type="multipart/form-data",
    )


def _service(slug="ny", **overrides) -> dict:
    record = {"id": slug, "translations": {"sv": {"name": "Ny tjänst", "status": "reviewed"}}}
    record.update(overrides)
    return record


def _stored() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count(Service.id))),
        db.session.scalar(select(func.count(ServiceTranslation.id))),
    )


def test_import_of_json_nested_very_deep_is_refused(client, world):
    sign_in_as(client, world.users["admin_a"])
    before = _stored()
    response = _import(client, b"[" * 50_000 + b"]" * 50_000)
    assert response.status_code == 422
    assert "för många nivåer" in response.get_data(as_text=True)
    assert _stored() == before


@pytest.mark.parametrize("status", [["draft"], {"a": 1}, 1, None])
def test_import_refuses_a_translation_status_that_is_not_text(client, world, status):
    sign_in_as(client, world.users["admin_a"])
    before = _stored()
    record = _service()
    record["translations"]["sv"]["status"] = status
    response = _import(client, {"services": [record]})
    assert response.status_code == 422
    assert "services[1].translations.sv.status" in response.get_data(as_text=True)
    assert _stored() == before


@pytest.mark.parametrize("order", [10**19, -1, 10001, 1.5, "7", True])
def test_import_refuses_a_sort_order_the_admin_form_refuses(client, world, order):
    sign_in_as(client, world.users["admin_a"])
    before = _stored()
    response = _import(client, {"services": [_service(x_bro={"sort_order": order})]})
    assert response.status_code == 422
    assert "services[1].x_bro.sort_order" in response.get_data(as_text=True)
    assert _stored() == before


@pytest.mark.parametrize(
    "record,where",
    [
        (_service(translations={"sv": {"name": ""}}), "translations.sv.name"),
        (_service(translations={"sv": {"name": "\x00\x01"}}), "translations.sv.name"),
        (_service(translations={"sv": {"name": "Rad\nbrytning"}}), "translations.sv.name"),
        (_service(translations={"sv": {"name": "x" * 121}}), "translations.sv.name"),
        (_service(slug=1e309), "id"),
        (_service(slug="Stora-Bokstäver"), "id"),
        (_service(slug="a" * 61), "id"),
        (_service(slug="withdraw"), "id"),  # /<lang>/withdraw is a public page's
        (_service(email="inte en adress"), "email"),
        (_service(url="https://"), "url"),
        (_service(url="javascript:alert(1)"), "url"),
        (_service(x_bro={"pictogram": "../../etc/passwd"}), "x_bro.pictogram"),
        (_service(phones=[{"number": ["070"]}]), "phones"),
        (_service(status=["active"]), "status"),
        (
            _service(translations={"sv": {"name": "Namn", "description": {"a": 1}}}),
            "translations.sv.description",
        ),
    ],
)
def test_import_validates_each_record_as_the_admin_form_does(client, world, record, where):
    sign_in_as(client, world.users["admin_a"])
    before = _stored()
    good = _service("bra")
    response = _import(client, {"services": [good, record]})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"services[2].{where}" in html
    assert "Ingenting sparades" in html
    assert _stored() == before  # the good record is not stored either


def test_import_refusal_is_shown_next_to_the_upload_field_in_the_admins_language(client, world):
    sign_in_as(client, world.users["admin_a"])
    client.post("/locale", data={"locale": "ar", "next": "/"})
    response = _import(client, {"services": [_service(translations={"sv": {"name": ""}})]})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="file-error"' in html
    assert "services[1].translations.sv.name" in html


def test_cli_import_refuses_a_garbage_record(app, world):
    before = _stored()
    with pytest.raises(catalogue.CatalogueError) as refused:
        catalogue.import_catalogue(
            world.org_a, {"services": [_service(x_bro={"sort_order": 10**19})]}
        )
    db.session.rollback()
    assert any("x_bro.sort_order" in e for e in refused.value.errors)
    assert _stored() == before


def test_an_exported_catalogue_still_imports_unchanged(client, world):
    sign_in_as(client, world.users["admin_a"])
    catalogue.seed_core_services(world.org_a)
    db.session.commit()
    exported = catalogue.export_json(world.org_a)
    response = _import(client, exported.encode())
    assert response.status_code == 303
    db.session.expire_all()
    assert catalogue.export_json(world.org_a) == exported


def test_no_site_was_renamed_by_a_refused_post(client, world):
    """A refusal loses nothing else: the world's sites keep their names."""
    sign_in_as(client, world.users["admin_a"])
    client.post(
        f"/admin/sites/{world.site_a1.id}",
        data={"name": _file()},
        content_type="multipart/form-data",
    )
    db.session.expire_all()
    assert db.session.get(Site, world.site_a1.id).name == "Förskolan A1"
