"""The service catalogue (area: info): JSON export/import of a catalogue shaped on Open
Referral HSDS, and the seeding of the core services from their files in seed/services/.

The core services' texts are data: one file per service (seed/services/<slug>.json), a
catalogue in the export's shape holding that one service in every content locale (the eight
UI languages and lättläst, sv-ll), read by the same import admins use, so a file is checked
as an uploaded one is. Seed texts are general and true across Swedish municipalities; a
municipality adds its own address, phone and opening hours. Swedish is the source and is
marked reviewed; the other locales, lättläst too, are drafts until a person who reads them
checks them.

Export/import shape (HSDS 3 field names where they fit):

    {"format": "bro-hsds", "version": 1,
     "organization": {"id": <slug>, "name": ...},
     "services": [{"id": <slug>, "name", "description", "eligibility_description",
                   "application_process", "url", "email", "status": "active"|"inactive",
                   "phones": [{"number"}],
                   "schedules": [{"description"},
                                 {"freq": "WEEKLY", "byday": "MO", "opens_at", "closes_at"}],
                   "locations": [{"addresses": [{"address_1"}]}],
                   "x_bro": {"pictogram", "sort_order", "apply_url"},
                   "translations": {<locale>: {"name", "description", "eligibility_description",
                                               "application_process", "status"}}}]}

Round trip: importing an export into an organisation and exporting again gives the same JSON.
Audio files are not part of the JSON (they are files, and stay with the translation).
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

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
VERSION = 1
TEXT_KEYS = ("name", "description", "eligibility_description", "application_process")
# HSDS's weekday codes (RFC 5545 BYDAY), Monday first as in app.info.hours.
BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

# ---------------------------------------------------------------- export


def _text_record(t: ServiceTranslation) -> dict:
    return {
        "name": t.name,
        "description": t.summary,
        "eligibility_description": t.eligibility,
        "application_process": t.how_to_start,
        "status": t.status,
    }


def export_catalogue(org: Organisation) -> dict:
    """The organisation's whole catalogue as an HSDS-shaped dict (two queries)."""
    services = list(
        db.session.scalars(
            select(Service)
            .where(Service.organisation_id == org.id)
            .order_by(Service.sort_order, Service.slug)
        )
    )
    texts: dict[int, dict[str, ServiceTranslation]] = {}
    if services:
        rows = db.session.scalars(
            select(ServiceTranslation)
            .where(ServiceTranslation.service_id.in_([s.id for s in services]))
            .order_by(ServiceTranslation.locale)
        )
        for row in rows:
            texts.setdefault(row.service_id, {})[row.locale] = row
    return {
        "format": FORMAT,
        "version": VERSION,
        "organization": {"id": org.slug, "name": org.name},
        "services": [_service_record(s, texts.get(s.id, {})) for s in services],
    }


def _service_record(service: Service, texts: dict[str, ServiceTranslation]) -> dict:
    source = texts.get(DEFAULT_LOCALE)
    return {
        "id": service.slug,
        "name": source.name if source else "",
        "description": source.summary if source else "",
        "eligibility_description": source.eligibility if source else "",
        "application_process": source.how_to_start if source else "",
        "url": service.url,
        "email": service.email,
        "status": "active" if service.is_active else "inactive",
        "phones": [{"number": service.phone}] if service.phone else [],
        "schedules": _schedules(service),
        "locations": ([{"addresses": [{"address_1": service.address}]}] if service.address else []),
        "x_bro": {
            "pictogram": service.pictogram,
            "sort_order": service.sort_order,
            **({"apply_url": service.apply_url} if service.apply_url else {}),
        },
        "translations": {locale: _text_record(t) for locale, t in sorted(texts.items())},
    }


def _schedules(service: Service) -> list[dict]:
    """The note on the hours, then one HSDS weekly schedule per opening period."""
    note = [{"description": service.opening_hours}] if service.opening_hours else []
    return note + [
        {"freq": "WEEKLY", "byday": BYDAY[day - 1], "opens_at": opens, "closes_at": closes}
        for day, opens, closes in service.weekly_hours or []
    ]


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

# Where each field of the admin's forms sits in a record, for the messages.
SERVICE_PLACES = {
    "slug": "id",
    "pictogram": "x_bro.pictogram",
    "url": "url",
    "email": "email",
    "phone": "phones",
    "address": "locations",
    "opening_hours": "schedules",
    "apply_url": "x_bro.apply_url",
    "sort_order": "x_bro.sort_order",
    "is_active": "status",
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


def _form_data(values: dict[str, str | None]) -> MultiDict | None:
    """The values as a posted form, or None when one of them could not be text."""
    if any(v is None for v in values.values()):
        return None
    return MultiDict(values)


def _form_errors(form, places: dict[str, str], where: str, errors: list[str]) -> None:
    for name, messages in form.errors.items():
        errors.extend(f"{where}.{places.get(name, name)}: {m}" for m in messages)


def parse_catalogue(data, organisation_id: int, existing: dict[str, int]) -> list[ParsedService]:
    """Check a whole catalogue, each record with the rules of the admin's forms (`existing`
    maps the organisation's slugs to their ids); raise CatalogueError listing every problem,
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
        if item.slug in seen:
            errors.append(
                _("%(where)s: id %(slug)s finns två gånger.", where=where, slug=item.slug)
            )
        seen.add(item.slug)
        parsed.append(item)
    if errors:
        raise CatalogueError(errors)
    return parsed


def _parse_service(
    record: dict, where: str, errors: list[str], organisation_id: int, existing: dict[str, int]
) -> ParsedService:
    status = record.get("status", "active")
    if status not in ("active", "inactive"):
        errors.append(_("%(where)s.status: ska vara active eller inactive.", where=where))
    extra = record.get("x_bro") or {}
    if not isinstance(extra, dict):
        errors.append(_("%(where)s: ska vara ett objekt.", where=f"{where}.x_bro"))
        extra = {}
    sort_order = extra.get("sort_order", 100)
    if not isinstance(sort_order, int) or isinstance(sort_order, bool):
        errors.append(_("%(where)s: ska vara ett heltal.", where=f"{where}.x_bro.sort_order"))
        sort_order = 100
    addresses = _first(record.get("locations"), "addresses", f"{where}.locations", errors)
    values = {
        "slug": _text(record.get("id"), f"{where}.id", errors),
        "pictogram": _text(
            extra.get("pictogram", "service.svg"), f"{where}.x_bro.pictogram", errors
        ),
        "url": _text(record.get("url"), f"{where}.url", errors),
        "email": _text(record.get("email"), f"{where}.email", errors),
        "phone": _text(
            _first(record.get("phones"), "number", f"{where}.phones", errors),
            f"{where}.phones",
            errors,
        ),
        "address": _text(
            _first(addresses, "address_1", f"{where}.locations", errors),
            f"{where}.locations",
            errors,
        ),
        "opening_hours": _text(
            _first(record.get("schedules"), "description", f"{where}.schedules", errors),
            f"{where}.schedules",
            errors,
        ),
        "apply_url": _text(extra.get("apply_url"), f"{where}.x_bro.apply_url", errors),
        "sort_order": str(sort_order),
        "is_active": "" if status == "inactive" else "y",
    }
    weekly_hours = _weekly_hours(record.get("schedules"), f"{where}.schedules", errors)
    slug = values["slug"] or ""
    item = ParsedService(slug=slug, fields={})
    formdata = _form_data(values)
    if formdata is not None:
        form = ServiceForm(
            formdata=formdata,
            meta={"csrf": False},
            organisation_id=organisation_id,
            service_id=existing.get(slug),
        )
        if form.validate():
            item.fields = {name: form[name].data for name in SERVICE_PLACES if name != "slug"}
            item.fields["weekly_hours"] = weekly_hours
        else:
            _form_errors(form, SERVICE_PLACES, where, errors)
    translations = record.get("translations") or {}
    if not isinstance(translations, dict):
        errors.append(_("%(where)s: ska vara ett objekt.", where=f"{where}.translations"))
        translations = {}
    if DEFAULT_LOCALE not in translations and record.get("name"):
        # The top-level HSDS fields are the Swedish source text.
        source = {k: record.get(k) for k in TEXT_KEYS}
        translations = {**translations, DEFAULT_LOCALE: {**source, "status": "reviewed"}}
    if DEFAULT_LOCALE not in translations:
        errors.append(_("%(where)s: svensk text saknas.", where=where))
    for locale, text in translations.items():
        place = f"{where}.translations.{locale}"
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


def import_catalogue(org: Organisation, data, user=None) -> dict[str, int]:
    """Create or update the services in `data` (matched by id = slug) and their translations,
    all or nothing: raises CatalogueError before anything is written. The caller commits."""
    existing = {
        s.slug: s
        for s in db.session.scalars(select(Service).where(Service.organisation_id == org.id))
    }
    parsed = parse_catalogue(data, org.id, {slug: s.id for slug, s in existing.items()})
    created, updated = _store(org, parsed, existing)
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
    org: Organisation, parsed: list[ParsedService], existing: dict[str, Service]
) -> tuple[list[Service], list[Service]]:
    """Write checked services (`existing` maps the organisation's slugs to its services);
    returns the services created and those updated."""
    texts: dict[tuple[int, str], ServiceTranslation] = {}
    if existing:
        rows = db.session.scalars(
            select(ServiceTranslation).where(
                ServiceTranslation.service_id.in_([s.id for s in existing.values()])
            )
        )
        texts = {(t.service_id, t.locale): t for t in rows}
    created: list[Service] = []
    updated: list[Service] = []
    for item in parsed:
        service = existing.get(item.slug)
        if service is None:
            service = Service(organisation_id=org.id, slug=item.slug)
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
    existing = dict(
        db.session.execute(
            select(Service.slug, Service.id).where(Service.organisation_id == org.id)
        ).all()
    )
    lacking: list[ParsedService] = []
    for path in seed_files():
        try:
            parsed = parse_catalogue(_read_seed(path), org.id, existing)
        except CatalogueError as error:
            raise SeedError(f"{path.name}: {error}") from None
        lacking.extend(item for item in parsed if item.slug not in existing)
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
