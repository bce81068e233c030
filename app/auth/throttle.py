"""Sign-in throttling: the one policy every sign-in step uses (password, two-factor code, the
password that leaves kiosk mode).

The policy, after OWASP's Authentication and Credential Stuffing cheat sheets: a hard
account lock lets anyone lock a known account out with a few requests, so there is none.
Instead, failed attempts count in three places, all in the limiter's storage (Redis in
production, so every worker sees the same counts):

- per address, any account (`LOGIN_LIMIT_PER_ADDRESS`): one machine guessing across many
  accounts is stopped;
- per account *and* address (`LOGIN_LIMIT_PER_ACCOUNT`, a moving window, by default 5 a
  minute and 20 an hour, so the wait grows): the address that guesses at an account is
  stopped, while the owner signing in from another address is not;
- per account from every address (`LOGIN_BACKOFF_AFTER`): when an account has failed that
  often, it is slowed, not locked: one attempt per `LOGIN_BACKOFF_INTERVAL` from anyone. The
  right password still gets in within that interval; guessing from many addresses (or behind
  a proxy that lets the address be forged) gets a few tries a minute at most.

Every refusal is audited by the caller. A refused attempt never reaches the password check, so
it costs the server no Argon2 time.
"""

import time
from dataclasses import dataclass

from flask import current_app, request
from limits import RateLimitItem, parse_many

from ..extensions import limiter


@dataclass(frozen=True)
class Refusal:
    """Why an attempt was refused and how many seconds until the next one may be made."""

    limit: str
    retry_after: int


def _items(setting: str) -> list[RateLimitItem]:
    return parse_many(current_app.config[setting])


def _address() -> str:
    return request.remote_addr or "-"


def _counters(account: str) -> list[tuple[str, RateLimitItem, tuple[str, ...]]]:
    account = account.strip().lower()[:254]
    address = _address()
    return [
        *(
            ("address", item, ("signin-address", address))
            for item in _items("LOGIN_LIMIT_PER_ADDRESS")
        ),
        *(
            ("account", item, ("signin-account", account, address))
            for item in _items("LOGIN_LIMIT_PER_ACCOUNT")
        ),
        *(("account_all", item, ("signin-all", account)) for item in _items("LOGIN_BACKOFF_AFTER")),
    ]


def _seconds_until_reset(item: RateLimitItem, keys: tuple[str, ...]) -> int:
    reset_at = limiter.limiter.get_window_stats(item, *keys).reset_time
    return max(1, int(reset_at - time.time()) + 1)


def refusal(account: str) -> Refusal | None:
    """Whether an attempt on `account` from this address may go ahead now (None) or not.

    Past the account-wide threshold an attempt takes one slot of the back-off interval, so a
    stream of guesses from many addresses leaves room for one attempt per interval."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return None
    backing_off = False
    for kind, item, keys in _counters(account):
        if limiter.limiter.test(item, *keys):
            continue
        if kind == "account_all":
            backing_off = True
            continue
        return Refusal(kind, _seconds_until_reset(item, keys))
    if backing_off:
        slot = parse_many(current_app.config["LOGIN_BACKOFF_INTERVAL"])[0]
        keys = ("signin-slot", account.strip().lower()[:254])
        if not limiter.limiter.hit(slot, *keys):
            return Refusal("backoff", _seconds_until_reset(slot, keys))
    return None


def failed(account: str) -> None:
    """Count one failed attempt on `account` from this address."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    for _kind, item, keys in _counters(account):
        limiter.limiter.hit(item, *keys)
