"""The floor: the real app with two views that do no work, for the bench's "floor mix".

The ceiling (bench/ceiling.py) is a bare Flask app. This is the real app, with every extension
and request hook a page goes through (session cookie, the signed-in user loaded from the
database, idle timeout, two-factor check, security headers), plus two views that answer at
once with a body of the ceiling's size: one for signed-in users, one for visitors.

`bench.run` drives the same mix of users as the app run, with every read answered by one of
these views (a GET page, or a POST that only reads: the statistics' CSV export, whose 0.35 s
of counting made the floor slower than the app's own mix) and every write (POST) by the real
app. No work on the pages can make the app
faster than that run, so its ratio to the ceiling is the highest `http.ratio` page
optimisation can reach with this stack and these writes.
"""

import os

from flask import Flask, Response

from app import create_app as create_real_app
from app.access import public, signed_in

SIGNED_IN_PATH = "/bench-floor/signed-in"
VISITOR_PATH = "/bench-floor/visitor"


def create_app() -> Flask:
    """For gunicorn: the app as `app:create_app()` makes it, with the floor's views."""
    return add_floor_views(create_real_app())


def add_floor_views(app: Flask) -> Flask:
    body = b"x" * int(os.environ.get("BENCH_CEILING_BYTES", "10000"))

    @app.get(SIGNED_IN_PATH)
    @signed_in
    def floor_signed_in():
        return Response(body, mimetype="text/html")

    @app.get(VISITOR_PATH)
    @public
    def floor_visitor():
        return Response(body, mimetype="text/html")

    return app
