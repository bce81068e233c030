"""Small helpers every blueprint shares: one render path for full pages and htmx fragments,
one-time form keys, and pagination."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil
from urllib.parse import urlsplit

from flask import current_app, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import Select, delete, func, select
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .models import IdempotencyKey, utcnow

PAGE_SIZE = 25


def is_htmx() -> bool:
    """A fragment request from htmx; boosted navigations still want the whole page."""
    return (
        request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"
    )


def render(template: str, partial: str | None = None, **context) -> str:
    """The full page, or `partial` alone when htmx asked for a fragment."""
    if partial and is_htmx():
        return render_template(partial, **context)
    return render_template(template, **context)


def form_status(form: FlaskForm) -> int:
    """The status of a page that shows `form`: 422 when it was submitted and comes back to be
    corrected, 200 when it is shown for the first time."""
    return 422 if form.is_submitted() else 200


def local_path(target: str | None) -> str | None:
    """`target` if it is a path on this site as a browser will read it, else None.

    Browsers drop tabs and newlines inside a URL, so a tab between two slashes makes
    "//evil.example", another host: any control character, a backslash, or a scheme or host
    after parsing disqualifies it (and a newline could not go into a Location header anyway)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


def redirect_or_partial(endpoint: str, partial: str | None = None, context=None, **values):
    """After a successful POST: htmx gets the fragment, a plain form gets a redirect (PRG)."""
    if partial and is_htmx():
        return render_template(partial, **(context or {}))
    return redirect(url_for(endpoint, **values), code=303)


def new_form_key() -> str:
    return secrets.token_urlsafe(24)


def replayed_target(key: str | None) -> str | None:
    """The URL stored for a form key that was already used, else None."""
    if not key:
        return None
    return db.session.scalar(select(IdempotencyKey.target).where(IdempotencyKey.key == key))


def claim_form_key(key: str, user_id: int | None, target: str) -> None:
    """Store a form's key in the current transaction; a concurrent duplicate fails at commit."""
    db.session.add(IdempotencyKey(key=key, user_id=user_id, target=target))


def purge_form_keys(now: datetime | None = None) -> int:
    """Delete the form keys no form can send again; returns how many. Every form with a key is
    a signed-in one, and it posts with its sign-in's CSRF token, which ends with the sign-in
    (PERMANENT_SESSION_LIFETIME): a day past that, a key guards nothing. Kept, they grew by
    about 254 MB per million visits, nearly the visits' own size (docs/capacity.md)."""
    keep = current_app.config["PERMANENT_SESSION_LIFETIME"] + timedelta(days=1)
    cutoff = (now or utcnow()) - keep
    deleted = db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
    db.session.commit()
    return deleted.rowcount


def commit_once(key: str | None) -> str | None:
    """Commit; if another request already committed the same form key, roll back and return
    the URL that request stored, so the retry shows the same result and stores nothing."""
    try:
        db.session.commit()
        return None
    except IntegrityError:
        db.session.rollback()
        target = replayed_target(key)
        if target is None:
            raise
        return target


@dataclass
class Page:
    items: list
    page: int
    pages: int
    total: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(query: Select, page: int | None = None, per_page: int = PAGE_SIZE) -> Page:
    """One COUNT and one page of rows, both in SQL; the page number is the request's `page`
    unless given (a number out of range shows the nearest page)."""
    if page is None:
        page = request.args.get("page", 1, type=int)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    pages = max(1, ceil(total / per_page))
    page = min(max(1, page), pages)
    items = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(items=items, page=page, pages=pages, total=total)
