"""Password hashing (Argon2id, argon2-cffi's current defaults) and the password policy."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
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
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def dummy_verify() -> None:
    """Spend the same time as a real check, so an unknown e-mail is not told apart by timing."""
    verify_password(_DUMMY_HASH, "not the password")


def policy_problem(password: str) -> str | None:
    """A short reason the password is refused, or None. Messages are translated by the caller."""
    if len(password) < MIN_LENGTH:
        return "too_short"
    if password.lower() in COMMON_PASSWORDS or len(set(password)) < 4:
        return "too_common"
    return None


_DUMMY_HASH = _hasher.hash("dummy password for timing")
