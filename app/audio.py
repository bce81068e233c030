"""Uploaded recordings (a service's text, a consent text): the type is proved from the file's
bytes, the file stored under a random name in the instance folder and sent back with the
mimetype of that type. One home for the areas that keep recordings (info, admin, referrals)."""

import secrets
from pathlib import Path

from flask import current_app, send_file
from flask_babel import gettext as _

from . import audit
from .extensions import db

# Stored audio files: extension -> mimetype; the type is decided from the file's first bytes.
AUDIO_TYPES = {
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "m4a": "audio/mp4",
    "webm": "audio/webm",
}


def audio_dir() -> Path:
    path = Path(current_app.instance_path) / "audio"
    path.mkdir(parents=True, exist_ok=True)
    return path


def sniff_audio(data: bytes) -> str | None:
    """The audio extension a file's bytes prove, or None (never trust the name).

    An MP3 may start with an ID3 tag; then the tag's own length must lead to an MPEG frame,
    so "ID3" followed by a web page is not audio."""
    if data.startswith(b"ID3") and len(data) >= 10:
        size = 0
        for byte in data[6:10]:  # a "syncsafe" integer: 7 bits a byte
            if byte & 0x80:
                return None
            size = (size << 7) | byte
        start = 10 + size + (10 if data[5] & 0x10 else 0)  # a footer doubles the header
        return "mp3" if _is_mpeg_frame(data[start : start + 2]) else None
    if _is_mpeg_frame(data[:2]):
        return "mp3"
    if data.startswith(b"OggS"):
        return "ogg"
    if data[4:8] == b"ftyp":
        return "m4a"
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    return None


def _is_mpeg_frame(head: bytes) -> bool:
    return len(head) == 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0


# Extensions accepted in a file name, per sniffed type.
AUDIO_EXTENSIONS = {
    "mp3": {"mp3"},
    "ogg": {"ogg", "oga", "opus"},
    "m4a": {"m4a", "mp4", "aac"},
    "webm": {"webm", "weba"},
}


def store_audio(upload) -> tuple[str | None, str | None]:
    """Save an uploaded audio file under a random name; (filename, None) or (None, message)."""
    limit = current_app.config["AUDIO_MAX_BYTES"]
    data = upload.read(limit + 1)
    if len(data) > limit:
        megabytes = round(limit / (1024 * 1024), 1)
        return None, _("Filen är för stor. Den får vara högst %(size)s MB.", size=megabytes)
    kind = sniff_audio(data)
    extension = (upload.filename or "").rsplit(".", 1)[-1].lower()
    if kind is None or extension not in AUDIO_EXTENSIONS[kind]:
        return None, _("Filen är inte ljud av en typ vi tar emot (MP3, OGG, M4A eller WebM).")
    name = f"{secrets.token_hex(16)}.{kind}"
    (audio_dir() / name).write_bytes(data)
    return name, None


def delete_audio(filename: str | None) -> None:
    if filename:
        (audio_dir() / Path(filename).name).unlink(missing_ok=True)


def send_audio(filename: str | None):
    """The stored recording as a response (its proven type's mimetype, ranges for seeking), or
    None when there is none to send."""
    if not filename:
        return None
    path = audio_dir() / Path(filename).name
    extension = path.suffix.lstrip(".")
    if extension not in AUDIO_TYPES or not path.is_file():
        return None
    return send_file(path, mimetype=AUDIO_TYPES[extension], conditional=True)


def replace_recording(row, upload, action: str, object_type: str, object_id: int, **detail):
    """Store `upload` as the recording of `row` (its `audio_filename`), audit and commit; the
    file it replaces is deleted once the new one is committed. A message when the upload is
    refused (too large, not audio), else None."""
    filename, problem = store_audio(upload)
    if problem:
        return problem
    old, row.audio_filename = row.audio_filename, filename
    audit.record(action, object_type, object_id, **detail)
    db.session.commit()
    delete_audio(old)
    return None


def remove_recording(row, action: str, object_type: str, object_id: int, **detail) -> None:
    """Take `row`'s recording away, audited; its file goes once that is committed."""
    old, row.audio_filename = row.audio_filename, None
    audit.record(action, object_type, object_id, **detail)
    db.session.commit()
    delete_audio(old)
