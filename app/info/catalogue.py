"""The service catalogue (area: info): JSON export/import of the catalogue in Open Referral
HSDS 3.0, the public HSDS API's records, and the seeding of the core services from their
files in seed/services/.

The core services' texts are data: one file per service (seed/services/<slug>.json), a
catalogue holding that one service in every content locale (the eight UI languages and
lättläst, sv-ll), read by the same import admins use, so a file is checked as an uploaded one
is. Seed files keep the version 1 shape (below): a seed is a template named by its slug, and
each organisation's copy gets its own UUID. Seed texts are general and true across Swedish
municipalities; a municipality adds its own address, phone and opening hours. Swedish is the
source and is marked reviewed; the other locales, lättläst too, are drafts until a person who
reads them checks them.

Export shape, version 2: each service is an HSDS 3.0 service (its `id` a UUID kept on the
service, stable across exports and edits; required `name` and `status`; a field without a
value is left out, never ""), plus the fields of our profile, "bro-hsds", all named `x_bro_*`
(HSDS lets a publisher add fields; harvesters ignore what they do not know):

    {"format": "bro-hsds", "version": 2,
     "organization": {"name", "x_bro_slug"},
     "services": [{"id": <uuid>, "name", "description", "eligibility_description",
                   "application_process", "url", "email", "status": "active"|"inactive",
                   "phones": [{"id", "number"}],
                   "schedules": [{"id", "description"},
                                 {"id", "freq": "WEEKLY", "byday": "MO", "opens_at",
                                  "closes_at"}],
                   "x_bro_slug": <slug: the public page's address, /<lang>/<slug>>,
                   "x_bro_pictogram": <file name in static/img/pictograms>,
                   "x_bro_sort_order": <int>, "x_bro_apply_url": <url>,
                   "x_bro_address": <the street address as one line of text; HSDS addresses
                                     need city, postal code and country as fields>,
                   "x_bro_translations": {<locale>: {"name", "description",
                                                     "eligibility_description",
                                                     "application_process", "status"}}}]}

The top-level texts are the Swedish source (also in x_bro_translations.sv). Phone and schedule
ids are derived from the service's UUID (uuid5), so they are stable too.

Version 1 files (before issue 22) still import: there `id` is the slug, the profile fields sit
in one object `x_bro` ({"pictogram", "sort_order", "apply_url"}), the texts in `translations`
and the address in `locations[0].addresses[0].address_1`. Each record is read by its own keys,
so a file may mix them.

An import matches a record to a service of the organisation by UUID first, then by slug; a
matched service keeps its UUID. A new service takes the record's UUID unless a service
(of any organisation) has it already. Round trip: importing an export into an organisation
and exporting again gives the same services, ids aside when the organisation is another one.
Audio files are not part of the JSON (they are files, and stay with the translation).
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID, uuid5

import click
from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from .. import audit
from ..choices import TranslationStatus
from ..extensions import db
from ..i18n import CONTENT_LOCALES, DEFAULT_LOCALE
from ..models import Organisation, Service, ServiceTranslation
from ..text_input import clean_text
from .forms import ServiceForm, TranslationForm
from .hours import is_valid

FORMAT = "bro-hsds"
VERSION = 2
TEXT_KEYS = ("name", "description", "eligibility_description", "application_process")
# HSDS's weekday codes (RFC 5545 BYDAY), Monday first as in app.info.hours.
BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# The statuses HSDS 3.0 gives a service; ours are the first two (Service.is_active).
HSDS_STATUSES = ("active", "inactive", "defunct", "temporarily closed")

# ---------------------------------------------------------------- export


def _without_empty(record: dict) -> dict:
    """HSDS leaves a field without a value out: no "", no [], no {} (no None either)."""
    return {key: value for key, value in record.items() if value not in ("", None, [], {})}


def _text_record(t: ServiceTranslation) -> dict:
    return _without_empty(
        {
            "name": t.name,
            "description": t.summary,
            "eligibility_description": t.eligibility,
            "application_process": t.how_to_start,
            "status": t.status,
        }
    )


def _services_with_texts(org: Organisation, active_only: bool = False, page=None):
    """The organisation's services in the catalogue's order with all their texts (two
    queries): [(service, {locale: translation})]."""
    query = select(Service).where(Service.organisation_id == org.id)
    if active_only:
        query = query.where(Service.is_active)
    services = list(db.session.scalars(query.order_by(Service.sort_order, Service.slug)))
    texts: dict[int, dict[str, ServiceTranslation]] = {}
    if services:
        rows = db.session.scalars(
            select(ServiceTranslation)
            .where(ServiceTranslation.service_id.in_([s.id for s in services]))
            .order_by(ServiceTranslation.locale)
        )
        for row in rows:
            texts.setdefault(row.service_id, {})[row.locale] = row
    return [(s, texts.get(s.id, {})) for s in services]


def export_catalogue(org: Organisation) -> dict:
    """The organisation's whole catalogue in HSDS 3.0 with our profile (two queries)."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "organization": {"name": org.name, "x_bro_slug": org.slug},
        "services": [
            service_record(s, texts.get(DEFAULT_LOCALE), texts)
            for s, texts in _services_with_texts(org)
        ],
    }


def service_record(
    service: Service,
    source: ServiceTranslation | None,
    texts: dict[str, ServiceTranslation] | None = None,
) -> dict:
    """One service as an HSDS 3.0 service: its texts from `source` (the Swedish text in the
    export, a visitor's locale in the API), and with `texts` all of them in our profile."""
    record = {
        "id": service.uuid,
        # HSDS requires a name; a service without a text is named by its slug.
        "name": source.name if source else service.slug,
        "description": source.summary if source else "",
        "eligibility_description": source.eligibility if source else "",
        "application_process": source.how_to_start if source else "",
        "url": service.url,
        "email": service.email,
        "status": "active" if service.is_active else "inactive",
        "phones": [{"id": _derived_id(service, "phone"), "number": service.phone}]
        if service.phone
        else [],
        "schedules": _schedules(service),
        "x_bro_slug": service.slug,
        "x_bro_pictogram": service.pictogram,
        "x_bro_sort_order": service.sort_order,
        "x_bro_apply_url": service.apply_url,
        "x_bro_address": service.address,
    }
    if texts is not None:
        record["x_bro_translations"] = {
            locale: _text_record(t) for locale, t in sorted(texts.items())
        }
    return _without_empty(record)


def _derived_id(service: Service, part: str) -> str:
    """A stable UUID for a part of a service (its phone, a schedule) in HSDS, which gives
    every object an id: derived from the service's UUID, so it changes only with the part."""
    return str(uuid5(UUID(service.uuid), part))


def _schedules(service: Service) -> list[dict]:
    """The note on the hours, then one HSDS weekly schedule per opening period."""
    note = (
        [{"id": _derived_id(service, "schedule:note"), "description": service.opening_hours}]
        if service.opening_hours
        else []
    )
    return note + [
        {
            "id": _derived_id(service, f"schedule:{BYDAY[day - 1]}:{opens}-{closes}"),
            "freq": "WEEKLY",
            "byday": BYDAY[day - 1],
            "opens_at": opens,
            "closes_at": closes,
        }
        for day, opens, closes in service.weekly_hours or []
    ]


def as_version_1(record: dict) -> dict:
    """An exported service in the version 1 shape the seed files keep: named by its slug,
    without the UUIDs an organisation's copy has, every field present (its profile fields in
    `x_bro`, its texts in `translations`, its address in `locations`)."""
    address = record.get("x_bro_address")
    return {
        "id": record.get("x_bro_slug"),
        **{key: record.get(key, "") for key in (*TEXT_KEYS, "url", "email", "status")},
        "phones": [{"number": p["number"]} for p in record.get("phones", [])],
        "schedules": [
            {k: v for k, v in s.items() if k != "id"} for s in record.get("schedules", [])
        ],
        "locations": [{"addresses": [{"address_1": address}]}] if address else [],
        "x_bro": {
            "pictogram": record.get("x_bro_pictogram"),
            "sort_order": record.get("x_bro_sort_order"),
            **({"apply_url": record["x_bro_apply_url"]} if "x_bro_apply_url" in record else {}),
        },
        "translations": {
            locale: {key: text.get(key, "") for key in (*TEXT_KEYS, "status")}
            for locale, text in record.get("x_bro_translations", {}).items()
        },
    }


def _weekly_hours(schedules, where: str, errors: list[str]) -> list | None:
    """The weekly periods of an HSDS schedules list in the stored shape (app.info.hours)."""
    if not isinstance(schedules, list):
        return None  # _first has said what is wrong
    weekly = [
        [
            BYDAY.index(s["byday"]) + 1 if s.get("byday") in BYDAY else 0,
            s.get("opens_at"),
            s.get("closes_at"),
        ]
        for s in schedules
        if isinstance(s, dict) and "byday" in s
    ]
    if not weekly:
        return None
    weekly.sort(key=lambda row: (row[0], str(row[1])))
    if not is_valid(weekly):
        errors.append(_("%(where)s: öppettiderna går inte att läsa.", where=where))
        return None
    return weekly


def export_json(org: Organisation) -> str:
    return json.dumps(export_catalogue(org), ensure_ascii=False, indent=2, sort_keys=True)


# ---------------------------------------------------------------- import

# More services than any municipality's catalogue, fewer than would make one upload a
# minute of validation (each record is checked as the admin form checks it).
MAX_SERVICES = 1000
# A file with many broken records lists this many problems, then how many more there are.
MAX_LISTED_ERRORS = 50

# Where each field of the admin's forms sits in a record of each version, for the messages.
SERVICE_PLACES = {
    "slug": "x_bro_slug",
    "pictogram": "x_bro_pictogram",
    "url": "url",
    "email": "email",
    "phone": "phones",
    "address": "x_bro_address",
    "opening_hours": "schedules",
    "apply_url": "x_bro_apply_url",
    "sort_order": "x_bro_sort_order",
    "is_active": "status",
}
VERSION_1_PLACES = {
    **SERVICE_PLACES,
    "slug": "id",
    "pictogram": "x_bro.pictogram",
    "address": "locations",
    "apply_url": "x_bro.apply_url",
    "sort_order": "x_bro.sort_order",
}
TEXT_PLACES = {
    "name": "name",
    "summary": "description",
    "eligibility": "eligibility_description",
    "how_to_start": "application_process",
    "status": "status",
}


@dataclass
class ParsedService:
    slug: str
    fields: dict
    texts: dict[str, dict] = field(default_factory=dict)
    uuid: str | None = None  # the record's HSDS id, when it is a UUID
    service_id: int | None = None  # the organisation's service it updates


@dataclass
class Existing:
    """The organisation's services as an import matches records to them."""

    by_slug: dict[str, int] = field(default_factory=dict)
    by_uuid: dict[str, int] = field(default_factory=dict)

    def slug_of(self, service_id: int) -> str:
        return next(slug for slug, id_ in self.by_slug.items() if id_ == service_id)


class CatalogueError(Exception):
    """An import refused; `errors` lists every problem found, each already translated."""

    def __init__(self, errors: list[str]):
        if len(errors) > MAX_LISTED_ERRORS:
            more = len(errors) - MAX_LISTED_ERRORS
            errors = [
                *errors[:MAX_LISTED_ERRORS],
                ngettext("Och %(num)d fel till.", "Och %(num)d fel till.", more),
            ]
        super().__init__("; ".join(errors))
        self.errors = errors


def _text(value, where: str, errors: list[str]) -> str | None:
    """A text value of the file as the form would receive it; None (and a message) when the
    file has something else there: a number, a list or an object."""
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.append(_("%(where)s: ska vara text.", where=where))
        return None
    return clean_text(value).strip()  # an imported file is pasted text too


def _first(items, key: str, where: str, errors: list[str]):
    """The first entry of an HSDS list such as phones or schedules, or None."""
    if items in (None, []):
        return None
    if not isinstance(items, list) or not isinstance(items[0], dict):
        errors.append(_("%(where)s: ska vara en lista.", where=where))
        return None
    return items[0].get(key)


def _hours_note(schedules, where: str, errors: list[str]):
    """The note on the hours: the first schedule with a description and no weekday."""
    if schedules in (None, []):
        return None
    if not isinstance(schedules, list) or not all(isinstance(s, dict) for s in schedules):
        errors.append(_("%(where)s: ska vara en lista.", where=where))
        return None
    return next((s.get("description") for s in schedules if "byday" not in s), None)


def _as_uuid(value) -> str | None:
    """The record's id as a UUID in its canonical spelling, or None (a version 1 slug)."""
    if not isinstance(value, str):
        return None
    try:
        return str(UUID(value))
    except ValueError:
        return None


def _form_data(values: dict[str, str | None]) -> MultiDict | None:
    """The values as a posted form, or None when one of them could not be text."""
    if any(v is None for v in values.values()):
        return None
    return MultiDict(values)


def _form_errors(form, places: dict[str, str], where: str, errors: list[str]) -> None:
    for name, messages in form.errors.items():
        errors.extend(f"{where}.{places.get(name, name)}: {m}" for m in messages)


def parse_catalogue(data, organisation_id: int, existing: Existing) -> list[ParsedService]:
    """Check a whole catalogue, each record with the rules of the admin's forms and matched
    to the organisation's `existing` services; raise CatalogueError listing every problem,
    or return it."""
    errors: list[str] = []
    if not isinstance(data, dict) or not isinstance(data.get("services"), list):
        raise CatalogueError([_("Filen är inte en tjänstekatalog (listan services saknas).")])
    if len(data["services"]) > MAX_SERVICES:
        raise CatalogueError(
            [_("Filen har för många tjänster. Högst %(max)s går att läsa in.", max=MAX_SERVICES)]
        )
    parsed, seen = [], set()
    for index, record in enumerate(data["services"], start=1):
        where = f"services[{index}]"
        if not isinstance(record, dict):
            errors.append(_("%(where)s: ska vara ett objekt.", where=where))
            continue
        item = _parse_service(record, where, errors, organisation_id, existing)
        # Twice the same slug, UUID or service of ours: which record should win is unknown.
        keys = {("slug", item.slug), ("uuid", item.uuid), ("service", item.service_id)}
        if keys & seen - {("uuid", None), ("service", None)}:
            errors.append(
                _("%(where)s: id %(slug)s finns två gånger.", where=where, slug=item.slug)
            )
        seen |= keys
        parsed.append(item)
    if errors:
        raise CatalogueError(errors)
    return parsed


def _parse_service(
    record: dict, where: str, errors: list[str], organisation_id: int, existing: Existing
) -> ParsedService:
    uuid = _as_uuid(record.get("id"))
    version_1 = uuid is None and "x_bro_slug" not in record
    places = VERSION_1_PLACES if version_1 else SERVICE_PLACES
    status = record.get("status", "active")
    if status not in HSDS_STATUSES:
        errors.append(_("%(where)s.status: ska vara active eller inactive.", where=where))
    extra = record.get("x_bro") or {}
    if not isinstance(extra, dict):
        errors.append(_("%(where)s: ska vara ett objekt.", where=f"{where}.x_bro"))
        extra = {}

    def profile(name: str, default=None):
        """A field of our profile: x_bro_<name>, or in a version 1 file x_bro.<name>."""
        key = f"x_bro_{name}"
        return record[key] if key in record else extra.get(name, default)

    sort_order = profile("sort_order", 100)
    if not isinstance(sort_order, int) or isinstance(sort_order, bool):
        errors.append(_("%(where)s: ska vara ett heltal.", where=f"{where}.{places['sort_order']}"))
        sort_order = 100
    if "x_bro_address" in record:
        address = record["x_bro_address"]
    else:
        addresses = _first(record.get("locations"), "addresses", f"{where}.locations", errors)
        address = _first(addresses, "address_1", f"{where}.locations", errors)
    service_id = existing.by_uuid.get(uuid) if uuid else None
    slug_value = record.get("id") if version_1 else record.get("x_bro_slug")
    if slug_value is None and service_id is not None:
        slug_value = existing.slug_of(service_id)  # an HSDS record without our profile
    values = {
        "slug": _text(slug_value, f"{where}.{places['slug']}", errors),
        "pictogram": _text(
            profile("pictogram", "service.svg"), f"{where}.{places['pictogram']}", errors
        ),
        "url": _text(record.get("url"), f"{where}.url", errors),
        "email": _text(record.get("email"), f"{where}.email", errors),
        "phone": _text(
            _first(record.get("phones"), "number", f"{where}.phones", errors),
            f"{where}.phones",
            errors,
        ),
        "address": _text(address, f"{where}.{places['address']}", errors),
        "opening_hours": _text(
            _hours_note(record.get("schedules"), f"{where}.schedules", errors),
            f"{where}.schedules",
            errors,
        ),
        "apply_url": _text(profile("apply_url"), f"{where}.{places['apply_url']}", errors),
        "sort_order": str(sort_order),
        "is_active": "y" if status == "active" else "",
    }
    weekly_hours = _weekly_hours(record.get("schedules"), f"{where}.schedules", errors)
    slug = values["slug"] or ""
    if service_id is None:
        service_id = existing.by_slug.get(slug)
    item = ParsedService(slug=slug, fields={}, uuid=uuid, service_id=service_id)
    formdata = _form_data(values)
    if formdata is not None:
        form = ServiceForm(
            formdata=formdata,
            meta={"csrf": False},
            organisation_id=organisation_id,
            service_id=service_id,
        )
        if form.validate():
            item.fields = {name: form[name].data for name in SERVICE_PLACES}
            item.fields["weekly_hours"] = weekly_hours
        else:
            _form_errors(form, places, where, errors)
    texts_key = "x_bro_translations" if "x_bro_translations" in record else "translations"
    translations = record.get(texts_key) or {}
    if not isinstance(translations, dict):
        errors.append(_("%(where)s: ska vara ett objekt.", where=f"{where}.{texts_key}"))
        translations = {}
    if DEFAULT_LOCALE not in translations and record.get("name"):
        # The top-level HSDS fields are the Swedish source text.
        source = {k: record.get(k) for k in TEXT_KEYS}
        translations = {**translations, DEFAULT_LOCALE: {**source, "status": "reviewed"}}
    if DEFAULT_LOCALE not in translations:
        errors.append(_("%(where)s: svensk text saknas.", where=where))
    for locale, text in translations.items():
        place = f"{where}.{texts_key}.{locale}"
        if locale not in CONTENT_LOCALES:
            errors.append(_("%(where)s: okänt språk.", where=place))
            continue
        if not isinstance(text, dict):
            errors.append(_("%(where)s: ska vara ett objekt.", where=place))
            continue
        if (values_of_text := _parse_text(text, place, errors, locale)) is not None:
            item.texts[locale] = values_of_text
    return item


def _parse_text(text: dict, place: str, errors: list[str], locale: str) -> dict | None:
    """One translation checked as the admin's translation form checks it, or None."""
    default_status = (
        TranslationStatus.REVIEWED if locale == DEFAULT_LOCALE else TranslationStatus.DRAFT
    )
    formdata = _form_data(
        {
            name: _text(
                text.get(key, default_status if name == "status" else None),
                f"{place}.{key}",
                errors,
            )
            for name, key in TEXT_PLACES.items()
        }
    )
    if formdata is None:
        return None
    form = TranslationForm(formdata=formdata, meta={"csrf": False})
    if not form.validate():
        _form_errors(form, TEXT_PLACES, place, errors)
        return None
    return {name: form[name].data for name in TEXT_PLACES}


def _existing(org: Organisation) -> tuple[Existing, dict[int, Service]]:
    services = {
        s.id: s
        for s in db.session.scalars(select(Service).where(Service.organisation_id == org.id))
    }
    return (
        Existing(
            by_slug={s.slug: s.id for s in services.values()},
            by_uuid={s.uuid: s.id for s in services.values()},
        ),
        services,
    )


def import_catalogue(org: Organisation, data, user=None) -> dict[str, int]:
    """Create or update the services in `data` (matched by UUID, then slug) and their
    translations, all or nothing: raises CatalogueError before anything is written. The
    caller commits."""
    existing, services = _existing(org)
    parsed = parse_catalogue(data, org.id, existing)
    created, updated = _store(org, parsed, services)
    audit.record(
        "catalogue_import",
        "organisation",
        org.id,
        user=user,
        organisation_id=org.id,
        created=len(created),
        updated=len(updated),
    )
    return {"created": len(created), "updated": len(updated)}


def _store(
    org: Organisation, parsed: list[ParsedService], services: dict[int, Service]
) -> tuple[list[Service], list[Service]]:
    """Write checked services (`services` maps the ids of the organisation's services to
    them); returns the services created and those updated."""
    texts: dict[tuple[int, str], ServiceTranslation] = {}
    if services:
        rows = db.session.scalars(
            select(ServiceTranslation).where(ServiceTranslation.service_id.in_(list(services)))
        )
        texts = {(t.service_id, t.locale): t for t in rows}
    wanted = [item.uuid for item in parsed if item.uuid and item.service_id is None]
    # A UUID another organisation's service holds stays theirs (an export imported into a
    # second organisation makes copies, with ids of their own).
    taken = (
        set(db.session.scalars(select(Service.uuid).where(Service.uuid.in_(wanted))))
        if wanted
        else set()
    )
    created: list[Service] = []
    updated: list[Service] = []
    for item in parsed:
        service = services.get(item.service_id) if item.service_id else None
        if service is None:
            service = Service(organisation_id=org.id)
            if item.uuid and item.uuid not in taken:
                service.uuid = item.uuid
            db.session.add(service)
            created.append(service)
        else:
            updated.append(service)
        for name, value in item.fields.items():
            setattr(service, name, value)
        db.session.flush()
        for locale, values in item.texts.items():
            row = texts.get((service.id, locale))
            if row is None:
                row = ServiceTranslation(service_id=service.id, locale=locale)
                db.session.add(row)
            for name, value in values.items():
                setattr(row, name, value)
    return created, updated


def load_json(raw: bytes | str):
    """Parse uploaded JSON, turning a syntax error into a CatalogueError."""
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise CatalogueError(
            [_("Filen är inte giltig JSON: %(error)s", error=str(error))]
        ) from None
    except RecursionError:
        # Lists or objects nested thousands deep: the parser recurses once per level, and a
        # catalogue has six. Python unwinds the recursion cleanly, so this is only bad input.
        raise CatalogueError([_("Filen har för många nivåer inuti varandra.")]) from None


# ---------------------------------------------------------------- seeding

# Shipped with the package (pyproject's package-data), next to this module.
SEED_FOLDER = Path(__file__).resolve().parent / "seed" / "services"


class SeedError(Exception):
    """A seed file the import refuses: a fault of the package, not of an admin's upload, so
    seeding stops with the file's name and every problem rather than seed part of it."""


def seed_files() -> list[Path]:
    """The core services' files, one per service; none means a package built without them."""
    paths = sorted(SEED_FOLDER.glob("*.json"))
    if not paths:
        raise SeedError(f"No seed files in {SEED_FOLDER}")
    return paths


def core_services() -> dict[str, dict]:
    """slug -> the core service's record as its seed file holds it (HSDS shape)."""
    return {path.stem: _read_seed(path)["services"][0] for path in seed_files()}


def _read_seed(path: Path) -> dict:
    try:
        data = load_json(path.read_bytes())
    except CatalogueError as error:
        raise SeedError(f"{path.name}: {error}") from None
    services = data.get("services") if isinstance(data, dict) else None
    # One service a file, named by its id: two files can then never seed the same slug.
    if not (
        isinstance(services, list)
        and len(services) == 1
        and isinstance(services[0], dict)
        and services[0].get("id") == path.stem
    ):
        raise SeedError(f"{path.name}: a catalogue of one service with id {path.stem!r} expected")
    return data


def seed_core_services(org: Organisation) -> list[Service]:
    """Add the core services with their texts to `org` (those it lacks); returns the new ones.

    Every seed file is checked as an import checks it, also those of services `org` has, so
    a file the import would refuse fails every seeding, not only a new organisation's."""
    existing, _services = _existing(org)
    lacking: list[ParsedService] = []
    for path in seed_files():
        try:
            parsed = parse_catalogue(_read_seed(path), org.id, existing)
        except CatalogueError as error:
            raise SeedError(f"{path.name}: {error}") from None
        lacking.extend(item for item in parsed if item.service_id is None)
    # Files are named by slug; services are created in display order, as they always were.
    lacking.sort(key=lambda item: (item.fields["sort_order"], item.slug))
    # No audit event: seeding is part of creating the organisation, not an admin's import.
    created, _updated = _store(org, lacking, {})
    db.session.flush()
    return created


# ---------------------------------------------------------------- flask commands


def command_org(slug: str | None) -> Organisation:
    slug = slug or current_app.config.get("PUBLIC_ORGANISATION")
    query = select(Organisation)
    query = query.where(Organisation.slug == slug) if slug else query.order_by(Organisation.id)
    org = db.session.scalar(query.limit(1))
    if org is None:
        raise click.ClickException("No such organisation")
    return org
