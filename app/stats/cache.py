"""(area: stats) The referral half of the statistics, cached in the process and kept exact.

A year of referral figures reads some 33,000 referrals four times (the figures, the trend and
two medians: about 65 ms of the dashboard's 130 on the bench's full data). Referrals change far
less often than the dashboard and its exports are opened, so those figures are cached per app,
keyed by the filters and by `Organisation.stats_version`.

That counter is raised in the transaction of any change the statistics can see: a new referral
or interest row of the organisation, or a change of a referral column they count. ORM events do
it; every such write in the app goes through the ORM, and a test fails on a bulk UPDATE or
DELETE of those tables, which the events would not see. The counter commits with the change: a
request that reads the new data reads the new version, so a cached figure never outlives the
data it was counted from.

Visits are not cached: they change all day, and their summaries are quick to read.
The cache holds counts of an organisation, never a row about a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from itertools import chain
from types import MappingProxyType

from flask import current_app
from sqlalchemy import event, inspect, update
from sqlalchemy.orm import Session

from ..models import AnonymousInterest, Organisation, Referral
from . import queries
from .periods import Bucket

ENTRIES = 256  # filter combinations per worker process; each is a few hundred numbers
TRACKED = (Referral, AnonymousInterest)
# The referral columns app.stats.queries reads: a change to another one (an assignee, a
# follow-up date, a failed call) leaves every figure as it was, so it keeps the cache.
COUNTED = (
    "organisation_id",
    "site_id",
    "service_id",
    "created_at",
    "status",
    "outcome",
    "first_contact_at",
    "closed_at",
)
PENDING = "stats_changed_organisations"  # key in Session.info


@dataclass(frozen=True)
class ReferralFigures:
    """Everything the statistics count about referrals and interest, read-only."""

    totals: MappingProxyType  # statuses, outcomes, with first contact, with a close date
    by_service: MappingProxyType  # service id → referrals
    interest: MappingProxyType  # service id → anonymous interest
    trend: tuple[tuple[date, int], ...]
    median_first_contact: float | None
    median_to_outcome: float | None


def referral_figures(
    f: queries.Filters, bucket: Bucket, threshold: int, version: int
) -> ReferralFigures:
    """The figures for `f`, counted once per `version` of the organisation's referrals."""
    counted = current_app.extensions.get("stats_referral_cache")
    if counted is None:
        counted = current_app.extensions["stats_referral_cache"] = lru_cache(maxsize=ENTRIES)(
            _count
        )
    return counted(f, bucket, threshold, version)


def _count(f: queries.Filters, bucket: Bucket, threshold: int, _version: int) -> ReferralFigures:
    totals, by_service, interest, trend = queries.referral_counts(f, bucket)
    first_n, outcome_n = totals["with_first_contact"], totals["with_closed_at"]
    # Medians over fewer referrals than the threshold are not computed at all (shown hidden).
    first_days, outcome_days = queries.median_days(
        f,
        first_n if first_n >= threshold else 0,
        outcome_n if outcome_n >= threshold else 0,
    )
    return ReferralFigures(
        MappingProxyType(totals),
        MappingProxyType(by_service),
        MappingProxyType(interest),
        tuple(trend),
        first_days,
        outcome_days,
    )


def _note_changed_organisations(session: Session, _context) -> None:
    """Remember whose referral or interest rows a flush wrote (after it: their ids are set)."""
    changed = {
        obj.organisation_id
        for obj in chain(session.new, session.deleted, filter(_counted_change, session.dirty))
        if isinstance(obj, TRACKED) and obj.organisation_id is not None
    }
    if changed:
        session.info.setdefault(PENDING, set()).update(changed)


def _counted_change(obj) -> bool:
    """An updated row whose change the statistics can see (any change, for interest rows)."""
    if not isinstance(obj, Referral):
        return True
    attributes = inspect(obj).attrs
    return any(attributes[name].history.has_changes() for name in COUNTED)


def _raise_stats_versions(session: Session) -> None:
    """Raise the versions last, just before COMMIT: on PostgreSQL the organisation row is then
    locked only for the commit itself, by a transaction that waits for nothing else."""
    session.flush()  # the commit's own flush comes after this event
    changed = session.info.pop(PENDING, None)
    if changed:
        table = Organisation.__table__
        session.connection().execute(
            update(table)
            .where(table.c.id.in_(sorted(changed)))
            .values(stats_version=table.c.stats_version + 1)
        )


def _forget_changes(session: Session) -> None:
    session.info.pop(PENDING, None)


def install_listeners() -> None:
    """Register the session hooks that keep the statistics' version, once per process
    (create_app's listener step, before the audit chain's: see app.audit.install_listeners)."""
    for name, listener in (
        ("after_flush", _note_changed_organisations),
        ("before_commit", _raise_stats_versions),
        ("after_rollback", _forget_changes),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
