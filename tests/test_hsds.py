"""The service catalogue speaks Open Referral HSDS 3.0 (issue 22): the export and import of
app.info.catalogue and the public, read-only API of app.info.api."""

import json
import uuid

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import func, select

from app.extensions import db
from app.i18n import CONTENT_LOCALES
from app.info.catalogue import (
    CatalogueError,
    as_version_1,
    export_catalogue,
    import_catalogue,
    seed_core_services,
    seed_files,
)
from app.models import Service, ServiceTranslation

UUID = {"type": "string", "format": "uuid"}
TEXT = {"type": "string", "minLength": 1}
TIME = {"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$"}

# Our profile's check: the rules of HSDS 3.0's service schema that our export relies on,
# written here from a reading of the specification (schema/service.json, phone.json and
# schedule.json of openreferral/specification). It is NOT the official schema, which is not
# vendored here; it adds what our profile promises (no empty values, the x_bro_* fields).
PROFILE_SCHEMA = {
    "type": "object",
    "required": ["id", "name", "status", "x_bro_slug", "x_bro_pictogram", "x_bro_sort_order"],
    "properties": {
        "id": UUID,
        "name": TEXT,
        "description": TEXT,
        "eligibility_description": TEXT,
        "application_process": TEXT,
        "url": {"type": "string", "format": "uri"},
        "email": {"type": "string", "format": "email"},
        "status": {"enum": ["active", "inactive", "defunct", "temporarily closed"]},
        "phones": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "number"],
                "properties": {"id": UUID, "number": TEXT},
            },
        },
        "schedules": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id"],
                "properties": {
                    "id": UUID,
                    "freq": {"enum": ["WEEKLY", "MONTHLY"]},
                    "byday": {"enum": ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]},
                    "opens_at": TIME,
                    "closes_at": TIME,
                    "description": TEXT,
                },
            },
        },
        "x_bro_slug": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"},
        "x_bro_pictogram": TEXT,
        "x_bro_sort_order": {"type": "integer"},
        "x_bro_apply_url": {"type": "string", "format": "uri"},
        "x_bro_address": TEXT,
        "x_bro_locale": {"enum": list(CONTENT_LOCALES)},
        "x_bro_page_url": {"type": "string", "format": "uri"},
        "x_bro_translations": {
            "type": "object",
            "propertyNames": {"enum": list(CONTENT_LOCALES)},
            "additionalProperties": {
                "type": "object",
                "required": ["name", "status"],
                "additionalProperties": TEXT,
            },
        },
    },
}
PROFILE = Draft202012Validator(PROFILE_SCHEMA, format_checker=FormatChecker())


def problems(record: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in PROFILE.iter_errors(record)]


def empty_values(value, path="") -> list[str]:
    """Where a record holds "", [], {} or null: HSDS leaves such a field out."""
    if value in ("", None, [], {}):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in empty_values(v, f"{path}/{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in empty_values(v, f"{path}/{i}")]
    return []


@pytest.fixture
def app_config():
    return {"PUBLIC_ORGANISATION": "offentlig"}


@pytest.fixture
def org(make):
    return make.org(slug="offentlig")


@pytest.fixture
def core(org):
    seed_core_services(org)
    db.session.commit()
    return org


def local(org, **kw) -> Service:
    sfi = db.session.scalar(
        select(Service).where(Service.organisation_id == org.id, Service.slug == "sfi")
    )
    details = {
        "phone": "08-123 45 67",
        "email": "sfi@kommun.se",
        "address": "Storgatan 1, 123 45 Staden",
        "opening_hours": "Stängt i juli",
        "weekly_hours": [[1, "09:00", "12:00"], [5, "13:00", "16:00"]],
        "apply_url": "https://kommun.se/sfi/ansok",
    }
    for name, value in {**details, **kw}.items():
        setattr(sfi, name, value)
    db.session.commit()
    return sfi


# ---------------------------------------------------------------- export


def test_every_exported_service_conforms_to_our_hsds_profile(core, make):
    local(core)
    make.service(org=core, slug="tom", is_active=False)  # no url, e-mail, phone or hours
    data = export_catalogue(core)
    assert (data["format"], data["version"]) == ("bro-hsds", 2)
    records = data["services"]
    assert len(records) == len(seed_files()) + 1
    for record in records:
        assert problems(record) == [], record["x_bro_slug"]
        assert empty_values(record) == [], record["x_bro_slug"]
    sfi = next(r for r in records if r["x_bro_slug"] == "sfi")
    assert sfi["email"] == "sfi@kommun.se" and sfi["phones"][0]["number"] == "08-123 45 67"
    assert [s.get("byday") for s in sfi["schedules"]] == [None, "MO", "FR"]
    assert sfi["x_bro_address"] == "Storgatan 1, 123 45 Staden"
    assert set(sfi["x_bro_translations"]) == set(CONTENT_LOCALES)
    bare = next(r for r in records if r["x_bro_slug"] == "tom")
    assert bare["status"] == "inactive"
    assert not {"email", "url", "phones", "schedules", "x_bro_address"} & set(bare)


def test_the_profile_check_refuses_the_old_shape(core):
    """The check can fail: the version 1 record (a slug as id, "" for no e-mail) breaks it."""
    old = as_version_1(export_catalogue(core)["services"][0])
    assert old["email"] == ""
    found = problems(old)
    assert any(p.startswith("id:") for p in found)
    assert any(p.startswith("email:") for p in found)
    assert empty_values(old)


def test_ids_are_stable_across_exports_and_edits(core):
    sfi = local(core)
    first = export_catalogue(core)
    assert export_catalogue(core) == first
    sfi.phone, sfi.email = "08-765 43 21", "ny@kommun.se"
    sfi.translations[0].name = "SFI – nytt namn"
    db.session.commit()
    again = export_catalogue(core)
    before = {r["x_bro_slug"]: r for r in first["services"]}
    after = {r["x_bro_slug"]: r for r in again["services"]}
    assert {s: r["id"] for s, r in before.items()} == {s: r["id"] for s, r in after.items()}
    assert after["sfi"]["id"] == sfi.uuid and after["sfi"]["email"] == "ny@kommun.se"
    assert after["sfi"]["phones"][0]["id"] == before["sfi"]["phones"][0]["id"]
    assert [s["id"] for s in after["sfi"]["schedules"]] == [
        s["id"] for s in before["sfi"]["schedules"]
    ]
    ids = [r["id"] for r in again["services"]]
    assert len(set(ids)) == len(ids) and all(uuid.UUID(i) for i in ids)


# ---------------------------------------------------------------- import


def test_export_imported_into_a_new_organisation_gives_the_same_catalogue(core, make):
    local(core)
    exported = json.loads(json.dumps(export_catalogue(core)))  # through JSON, as a file
    other = make.org()
    assert import_catalogue(other, exported) == {"created": len(seed_files()), "updated": 0}
    copy = export_catalogue(other)
    assert [as_version_1(r) for r in copy["services"]] == [
        as_version_1(r) for r in exported["services"]
    ]
    # The copies are other services: UUIDs of their own, as HSDS ids are unique.
    assert not {r["id"] for r in copy["services"]} & {r["id"] for r in exported["services"]}
    assert import_catalogue(other, exported) == {"created": 0, "updated": len(seed_files())}
    assert import_catalogue(other, copy) == {"created": 0, "updated": len(seed_files())}
    assert export_catalogue(other) == copy


def test_import_matches_by_uuid_first_then_by_slug(core):
    sfi = local(core)
    record = next(r for r in export_catalogue(core)["services"] if r["id"] == sfi.uuid)
    renamed = {**record, "x_bro_slug": "svenska"}
    assert import_catalogue(core, {"services": [renamed]}) == {"created": 0, "updated": 1}
    db.session.refresh(sfi)
    assert sfi.slug == "svenska"
    # An unknown UUID with a known slug updates that service, which keeps its own id.
    stranger = {**renamed, "id": str(uuid.uuid4()), "email": "annan@kommun.se"}
    assert import_catalogue(core, {"services": [stranger]}) == {"created": 0, "updated": 1}
    db.session.refresh(sfi)
    assert sfi.email == "annan@kommun.se" and sfi.uuid == record["id"]
    # A new service keeps the UUID its record brings.
    fresh = str(uuid.uuid4())
    new = {"id": fresh, "name": "Simskola", "status": "active", "x_bro_slug": "simskola"}
    assert import_catalogue(core, {"services": [new]}) == {"created": 1, "updated": 0}
    assert db.session.scalar(select(Service.slug).where(Service.uuid == fresh)) == "simskola"
    # An HSDS record without our profile updates the service its UUID names.
    plain = {"id": fresh.upper(), "name": "Simskola för barn", "status": "active"}
    assert import_catalogue(core, {"services": [plain]}) == {"created": 0, "updated": 1}
    text = db.session.scalar(
        select(ServiceTranslation.name)
        .join(Service)
        .where(Service.uuid == fresh, ServiceTranslation.locale == "sv")
    )
    assert text == "Simskola för barn"


def test_a_version_1_file_still_imports(org):
    old = {
        "format": "bro-hsds",
        "version": 1,
        "services": [
            {
                "id": "bibliotek",
                "name": "Bibliotek",
                "email": "",
                "status": "active",
                "phones": [{"number": "08-111 22 33"}],
                "schedules": [
                    {"description": "Öppet varje dag"},
                    {"freq": "WEEKLY", "byday": "TU", "opens_at": "10:00", "closes_at": "18:00"},
                ],
                "locations": [{"addresses": [{"address_1": "Biblioteksgatan 2"}]}],
                "x_bro": {"pictogram": "service.svg", "sort_order": 5, "apply_url": ""},
                "translations": {"ar": {"name": "المكتبة", "status": "draft"}},
            }
        ],
    }
    assert import_catalogue(org, old) == {"created": 1, "updated": 0}
    service = db.session.scalar(select(Service))
    assert (service.slug, service.phone, service.address, service.opening_hours) == (
        "bibliotek",
        "08-111 22 33",
        "Biblioteksgatan 2",
        "Öppet varje dag",
    )
    assert service.weekly_hours == [[2, "10:00", "18:00"]] and service.sort_order == 5
    assert uuid.UUID(service.uuid)
    assert {t.locale for t in service.translations} == {"sv", "ar"}
    assert import_catalogue(org, old) == {"created": 0, "updated": 1}  # matched by its slug
    record = export_catalogue(org)["services"][0]
    assert problems(record) == [] and record["x_bro_slug"] == "bibliotek"
    # Every shipped seed file is a version 1 catalogue, and seeds an organisation.
    assert json.loads(seed_files()[0].read_text(encoding="utf-8"))["version"] == 1


def test_bad_records_are_refused_whole_with_every_problem(org):
    good = {"id": str(uuid.uuid4()), "name": "Bra", "status": "active", "x_bro_slug": "bra"}
    bad = {
        "id": str(uuid.uuid4()),
        "name": "Dålig",
        "status": "closed",
        "email": "inte en adress",
        "x_bro_slug": "Dålig slug",
        "x_bro_sort_order": "först",
        "x_bro_translations": {"sv": {"name": ""}},
    }
    twin = {**good, "x_bro_slug": "tvilling"}  # the same UUID twice
    with pytest.raises(CatalogueError) as error:
        import_catalogue(org, {"version": 2, "services": [good, bad, twin]})
    found = "\n".join(error.value.errors)
    for place in (
        "services[2].status",
        "services[2].email",
        "services[2].x_bro_slug",
        "services[2].x_bro_sort_order",
        "services[2].x_bro_translations.sv.name",
        "services[3]: id tvilling finns två gånger",
    ):
        assert place in found
    db.session.rollback()
    assert db.session.scalar(select(func.count(Service.id))) == 0


# ---------------------------------------------------------------- the API


def api(client, path="", **args):
    response = client.get(f"/api/hsds/services{path}", query_string=args)
    return response, response.get_json()


def test_the_api_lists_the_public_active_services_a_page_at_a_time(client, org, make):
    services = [make.service(org=org, slug=f"tjanst-{n}", sort_order=n) for n in range(5)]
    make.service(org=org, slug="stangd", is_active=False)
    make.service(org=make.org(), slug="annan")
    response, body = api(client, per_page=2)
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert {k: v for k, v in body.items() if k != "contents"} == {
        "total_items": 5,
        "total_pages": 3,
        "page_number": 1,
        "size": 2,
        "first_page": True,
        "last_page": False,
        "empty": False,
    }
    assert [r["id"] for r in body["contents"]] == [s.uuid for s in services[:2]]
    for record in body["contents"]:
        assert problems(record) == [] and empty_values(record) == []
        assert "x_bro_translations" not in record
    _response, last = api(client, page=3, per_page=2)
    assert (last["size"], last["last_page"], last["first_page"]) == (1, True, False)
    assert last["contents"][0]["x_bro_slug"] == "tjanst-4"
    _response, beyond = api(client, page=4, per_page=2)
    assert beyond["empty"] is True and beyond["contents"] == [] and beyond["total_items"] == 5
    _response, everything = api(client, per_page=100)
    assert everything["size"] == 5 and everything["total_pages"] == 1


@pytest.mark.parametrize(
    "args",
    [
        {"per_page": 0},
        {"per_page": 101},
        {"per_page": -1},
        {"per_page": "tio"},
        {"page": 0},
        {"page": "1e9"},
        {"page": 2**40},
        {"locale": "xx"},
    ],
)
def test_the_api_refuses_bad_query_values(client, org, make, args):
    make.service(org=org)
    response, body = api(client, **args)
    assert response.status_code == 400 and body["error"]


def test_the_api_speaks_the_locale_asked_for_with_the_swedish_fallback(client, org, make):
    translated = make.service(org=org, slug="oversatt", sort_order=1)
    db.session.add(
        ServiceTranslation(service_id=translated.id, locale="ar", name="مترجم", summary="نص.")
    )
    swedish = make.service(org=org, slug="svensk", sort_order=2)
    db.session.commit()
    _response, body = api(client, locale="ar")
    first, second = body["contents"]
    assert (first["name"], first["description"], first["x_bro_locale"]) == ("مترجم", "نص.", "ar")
    assert (second["name"], second["x_bro_locale"]) == ("SVENSK", "sv")
    assert second["x_bro_page_url"].endswith("/ar/svensk")
    _response, one = api(client, f"/{translated.uuid}", locale="ar")
    assert one == first
    _response, default = api(client, f"/{translated.uuid}")
    assert (default["name"], default["x_bro_locale"]) == ("OVERSATT", "sv")
    assert api(client, f"/{swedish.uuid}", locale="xx")[0].status_code == 400


def test_the_api_answers_404_for_a_service_it_does_not_show(client, org, make):
    hidden = make.service(org=org, is_active=False)
    elsewhere = make.service(org=make.org())
    for path in (f"/{uuid.uuid4()}", f"/{hidden.uuid}", f"/{elsewhere.uuid}"):
        response, body = api(client, path)
        assert response.status_code == 404 and body == {"error": "no such service"}
    for malformed in ("/not-a-uuid", "/1234", f"/{hidden.uuid}x"):
        assert client.get(f"/api/hsds/services{malformed}").status_code == 404


def test_the_api_is_cacheable_and_rate_limited(client, org, make):
    service = make.service(org=org)
    response, _body = api(client, f"/{service.uuid}")
    assert response.cache_control.public and response.cache_control.max_age == 300
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    etag = response.headers["ETag"]
    again = client.get(f"/api/hsds/services/{service.uuid}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    statuses = [api(client)[0].status_code for _ in range(125)]
    assert statuses[:100] == [200] * 100 and statuses[-1] == 429
