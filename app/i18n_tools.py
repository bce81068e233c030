"""Catalogue chores for `make extract` and for translators.

python -m app.i18n_tools fill-source translations/sv/LC_MESSAGES/messages.po
    Swedish is the source language: its msgstr is the msgid unless someone reworded it.
python -m app.i18n_tools apply FILE.json
    FILE.json maps msgid -> {locale: translation}; fills those entries in every catalogue.
python -m app.i18n_tools missing
    Lists untranslated or fuzzy entries per locale (the test suite fails on any).
"""

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


def _load(path: Path):
    with path.open("rb") as f:
        return read_po(f)


def _save(catalog, path: Path) -> None:
    with path.open("wb") as f:
        write_po(f, catalog, width=100, omit_header=False, ignore_obsolete=True)


def catalogues() -> dict[str, Path]:
    return {p.parent.parent.name: p for p in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))}


def fill_source(path: Path) -> None:
    catalog = _load(path)
    for message in catalog:
        if message.pluralizable and not all(message.string):
            message.string = tuple(message.id)  # Swedish has two forms, like the msgids
        elif message.id and not message.string:
            message.string = message.id
        message.flags.discard("fuzzy")
    _save(catalog, path)


def apply(json_path: Path) -> None:
    wanted = json.loads(json_path.read_text(encoding="utf-8"))
    for locale, path in catalogues().items():
        catalog = _load(path)
        for msgid, by_locale in wanted.items():
            text = by_locale.get(locale)
            key = tuple(msgid) if isinstance(msgid, list) else msgid
            if text and key in catalog:
                catalog[key].string = tuple(text) if isinstance(text, list) else text
                catalog[key].flags.discard("fuzzy")
        _save(catalog, path)


def missing() -> dict[str, list[str]]:
    result = {}
    for locale, path in catalogues().items():
        gaps = []
        for message in _load(path):
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if "fuzzy" in message.flags or not all(strings):
                gaps.append(message.id if isinstance(message.id, str) else message.id[0])
        result[locale] = gaps
    return result


def main(argv: list[str]) -> int:
    command, *args = argv
    if command == "fill-source":
        fill_source(Path(args[0]))
    elif command == "apply":
        apply(Path(args[0]))
    elif command == "missing":
        gaps = missing()
        for locale, ids in gaps.items():
            for msgid in ids:
                print(f"{locale}: {msgid}")
        return 1 if any(gaps.values()) else 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
