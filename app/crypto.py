"""Keys for the contact details: AES-256-GCM to encrypt them, HMAC-SHA256 to find a phone.

Only `app.privacy` uses this module for contact details; it decides what is encrypted and binds
each ciphertext to its row and field (the associated data). This module owns the keys.

Where the keys live: never in the database, so a copy of the database (a backup, a stolen
disk, a dump) holds nothing readable without them. They sit in one JSON key file:

- `CONTACT_KEY_FILE` (config or environment variable) names the file. In production point it
  at a file outside the database's disk and outside its backups, e.g. a volume of its own or a
  secrets mount the app user may write (rotation rewrites the file);
- without it the file is `<instance>/keys/contact-keys.json`, created on first use with mode
  0600 in a directory created 0700.

The file lists keys, each with an id (stored beside every ciphertext), 32 random bytes for
AES-GCM, 32 for HMAC, when it was made and when it was retired. Exactly one key is current;
new rows are written under it. A retired key still decrypts the rows (and the backups) made
under it until it is destroyed, which `app.privacy.rotate_keys` does once no backup younger
than the retention can hold data under it.

Writes to the file are atomic (a full copy, fsync, rename) and serialised with an advisory
lock, so two workers creating the file at once, or two rotations, never lose a key. Readers
notice a rewritten file by its inode and modification time, so a long-running worker picks up
a rotation without a restart.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

FILE_VERSION = 1
NONCE_BYTES = 12  # the size AES-GCM is made for; random per ciphertext
# Plain texts are padded to a multiple of this, so a ciphertext's length tells little about
# the length of a name or an address.
PAD_TO = 16


class KeyUnavailable(Exception):
    """A ciphertext names a key the key file does not hold: destroyed, or the wrong file."""


class UndecryptableValue(Exception):
    """The ciphertext does not open under its key: damaged, or moved to another row or field."""


@dataclass(frozen=True)
class Key:
    id: str
    aead: bytes = field(repr=False)
    mac: bytes = field(repr=False)
    created_at: datetime
    retired_at: datetime | None = None

    def encrypt(self, plaintext: str, associated_data: bytes) -> bytes:
        """Nonce + AES-GCM ciphertext and tag of the padded UTF-8 text."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + AESGCM(self.aead).encrypt(nonce, _pad(plaintext), associated_data)

    def decrypt(self, blob: bytes, associated_data: bytes) -> str:
        try:
            padded = AESGCM(self.aead).decrypt(
                blob[:NONCE_BYTES], blob[NONCE_BYTES:], associated_data
            )
        except InvalidTag as error:
            raise UndecryptableValue(f"value under key {self.id} does not decrypt") from error
        return _unpad(padded)

    def keyed_hash(self, purpose: str, value: str) -> bytes:
        """HMAC-SHA256 of `value`, separated by `purpose` so one hash never stands for another."""
        message = purpose.encode() + b"\x00" + value.encode()
        return hmac.new(self.mac, message, hashlib.sha256).digest()


@dataclass(frozen=True)
class Keyring:
    path: Path
    keys: tuple[Key, ...]

    @property
    def current(self) -> Key:
        return next(k for k in self.keys if k.retired_at is None)

    def get(self, key_id: str) -> Key:
        for key in self.keys:
            if key.id == key_id:
                return key
        raise KeyUnavailable(f"key {key_id} is not in {self.path}")


def key_file() -> Path:
    """The key file of the running app: CONTACT_KEY_FILE, else one in the instance folder."""
    configured = current_app.config.get("CONTACT_KEY_FILE")
    if configured:
        return Path(configured)
    return Path(current_app.instance_path) / "keys" / "contact-keys.json"


_cache: dict[Path, tuple[tuple[int, int, int], Keyring]] = {}
_cache_lock = threading.Lock()


def keyring() -> Keyring:
    """The app's keys, read from the key file (created with a first key when missing)."""
    path = key_file()
    try:
        stat = path.stat()
    except FileNotFoundError:
        _create(path)
        stat = path.stat()
    signature = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    with _cache_lock:
        cached = _cache.get(path)
        if cached and cached[0] == signature:
            return cached[1]
    ring = _read(path)
    with _cache_lock:
        _cache[path] = (signature, ring)
    return ring


@contextmanager
def exclusive() -> Iterator[None]:
    """Hold the key file's lock: one rotation at a time, and no file creation meanwhile."""
    path = key_file()
    _make_directory(path.parent)
    fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def start_new_key(now: datetime) -> tuple[Key, Key]:
    """Add a new current key and retire the one before it (at `now`). Hold `exclusive()`.

    Returns (new key, retired key). The retired key stays in the file: rows not yet
    re-encrypted, and backups, still need it.
    """
    ring = keyring()
    old = ring.current
    new = _new_key(now, taken={k.id for k in ring.keys})
    keys = [replace(k, retired_at=now) if k.id == old.id else k for k in ring.keys]
    _write(ring.path, [*keys, new])
    return new, replace(old, retired_at=now)


def retired_before(cutoff: datetime) -> list[str]:
    """Ids of the keys retired before `cutoff`: due to be destroyed."""
    return [k.id for k in keyring().keys if k.retired_at is not None and k.retired_at < cutoff]


def destroy(key_ids: set[str]) -> None:
    """Remove these retired keys from the key file for good (never the current key). Hold
    `exclusive()`. Whatever was encrypted under them, in the database or any backup, can no
    longer be read."""
    if not key_ids:
        return
    ring = keyring()
    if ring.current.id in key_ids:
        raise ValueError("the current key cannot be destroyed")
    _write(ring.path, [k for k in ring.keys if k.id not in key_ids])


# -- the file ----------------------------------------------------------------------------------


def _new_key(now: datetime, taken: frozenset[str] | set[str] = frozenset()) -> Key:
    while (key_id := secrets.token_hex(4)) in taken:
        continue
    return Key(key_id, AESGCM.generate_key(bit_length=256), secrets.token_bytes(32), now)


def _create(path: Path) -> None:
    """Write a key file with one key, unless another process got there first."""
    _make_directory(path.parent)
    with exclusive():
        if path.exists():
            return
        _write(path, [_new_key(datetime.now(UTC).replace(tzinfo=None))])


def _make_directory(directory: Path) -> None:
    if not directory.exists():
        directory.mkdir(parents=True, mode=0o700, exist_ok=True)
        os.chmod(directory, 0o700)  # mkdir's mode is masked by the umask


def _write(path: Path, keys: list[Key]) -> None:
    """Replace the file atomically: a crash leaves the old file or the new, never half of one."""
    payload = {
        "version": FILE_VERSION,
        "keys": [
            {
                "id": k.id,
                "aead": base64.b64encode(k.aead).decode(),
                "hmac": base64.b64encode(k.mac).decode(),
                "created_at": k.created_at.isoformat(),
                "retired_at": k.retired_at.isoformat() if k.retired_at else None,
            }
            for k in keys
        ],
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".keys-")  # mkstemp makes it 0600
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(payload, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)


def _read(path: Path) -> Keyring:
    data = json.loads(path.read_text())
    if data.get("version") != FILE_VERSION:
        raise ValueError(f"{path}: unknown key file version {data.get('version')!r}")
    keys = tuple(
        Key(
            id=k["id"],
            aead=base64.b64decode(k["aead"]),
            mac=base64.b64decode(k["hmac"]),
            created_at=datetime.fromisoformat(k["created_at"]),
            retired_at=datetime.fromisoformat(k["retired_at"]) if k["retired_at"] else None,
        )
        for k in data["keys"]
    )
    if sum(k.retired_at is None for k in keys) != 1:
        raise ValueError(f"{path}: exactly one key must be current")
    return Keyring(path, keys)


def _pad(text: str) -> bytes:
    """ISO/IEC 7816-4 padding: 0x80, then zeros up to a multiple of PAD_TO."""
    raw = text.encode() + b"\x80"
    return raw + b"\x00" * (-len(raw) % PAD_TO)


def _unpad(padded: bytes) -> str:
    return padded[: padded.rindex(b"\x80")].decode()
