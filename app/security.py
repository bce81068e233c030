"""Security headers on every response, no caching of signed-in pages, and the idle timeout."""

from datetime import UTC, datetime

from flask import Flask, abort, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


def register(app: Flask) -> None:
    @app.before_request
    def refuse_nul_bytes():
        """A NUL byte is never valid text; PostgreSQL would refuse it with an error, so refuse
        it first with a plain 400 (tampering) instead of letting it reach the database."""
        for values in (request.args, request.form):
            for key, value in values.items(multi=True):
                if "\x00" in key or "\x00" in value:
                    abort(400)
        if "\x00" in request.path:
            abort(400)
        return None

    @app.before_request
    def enforce_idle_timeout():
        if not current_user.is_authenticated:
            return None
        now = datetime.now(UTC).timestamp()
        last_seen = session.get("last_seen", now)
        signed_in_at = session.get("signed_in_at", now)
        session["last_seen"] = now
        idle = now - last_seen > app.config["SESSION_IDLE_MINUTES"] * 60
        too_old = now - signed_in_at > app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
        if idle or too_old:
            logout_user()
            session.clear()
            flash(_("Du loggades ut eftersom du inte varit aktiv på en stund."))
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")), code=303)
        return None

    @app.after_request
    def headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "no-referrer"
        h["X-Frame-Options"] = "DENY"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if request.is_secure:
            h["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if request.endpoint != "static":
            # Pages are private unless a public view said otherwise, and never cached signed in.
            # The session, not current_user: after a view's commit the user is expired, and
            # reading it again would cost a query (and, after a POST, a write transaction).
            if "_user_id" in session or not response.cache_control.public:
                h["Cache-Control"] = "no-store"
            h.add("Vary", "Cookie")
        return response
