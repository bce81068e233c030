"""Password hashing (Argon2id) and the password policy.

The parameters are argon2-cffi's current defaults unless the app's ARGON2_PARAMETERS says
otherwise (the tests make hashing cheap that way, as Argon2 is slow on purpose). Every hash
carries its own parameters, so a hash made under other parameters still verifies.
"""

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

MIN_LENGTH = 12

# Checked in lower case; the most used passwords in public breach lists that are 12+ long.
COMMON_PASSWORDS = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678910",
        "password1234",
        "password12345",
        "qwertyuiop12",
        "qwertyuiopas",
        "qwerty123456",
        "iloveyou1234",
        "111111111111",
        "000000000000",
        "123123123123",
        "abcdefghijkl",
        "abc123456789",
        "passwordpassword",
        "sommar202020",
        "sommar123456",
        "lösenord1234",
        "losenord1234",
        "welcome12345",
        "administrator",
        "letmein12345",
        "football1234",
        "princess1234",
        "sunshine1234",
        "monkey123456",
        "dragon123456",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "zaq12wsxcde3",
        "qazwsxedcrfv",
        "asdfghjkl123",
        "changeme1234",
        "hejhej123456",
        "stockholm123",
        "sverige12345",
        "password2024",
        "password2025",
        "password2026",
        "lösenord2026",
    }
)


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher()[0].verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def dummy_verify() -> None:
    """Spend the same time as a real check, so an unknown e-mail is not told apart by timing."""
    verify_password(_hasher()[1], "not the password")


def _hasher() -> tuple[PasswordHasher, str]:
    """The hasher of the running app's parameters (argon2-cffi's defaults outside an app),
    and its dummy hash."""
    settings = current_app.config.get("ARGON2_PARAMETERS") if has_app_context() else None
    return _hasher_for(tuple(sorted((settings or {}).items())))


@cache
def _hasher_for(settings: tuple[tuple[str, int], ...]) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(**dict(settings))
    # The dummy hash has the same parameters as the real ones, so checking it costs the same.
    # Made here, on the first use of either path, so the first check costs the same too.
    return hasher, hasher.hash("dummy password for timing")


def policy_problem(password: str) -> str | None:
    """A short reason the password is refused, or None. Messages are translated by the caller."""
    if len(password) < MIN_LENGTH:
        return "too_short"
    if password.lower() in COMMON_PASSWORDS or len(set(password)) < 4:
        return "too_common"
    return None
