"""The ceiling: a bare Flask app whose one endpoint returns a page of a given size.

Served by gunicorn exactly like the real app, it shows how many requests per second this
machine, this server and this client can do at all; the app's rate divided by it is the
`http.ratio` in bench/results/latest.json. The size comes from BENCH_CEILING_BYTES.
"""

import os

from flask import Flask, Response

CHUNK = b"<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>\n"


def create_app() -> Flask:
    size = int(os.environ.get("BENCH_CEILING_BYTES", "10000"))
    body = (CHUNK * (size // len(CHUNK) + 1))[:size]
    app = Flask(__name__)

    @app.get("/")
    def page():
        return Response(body, mimetype="text/html")

    @app.get("/login")  # the readiness probe of bench.serve.Gunicorn
    def probe():
        return Response(body, mimetype="text/html")

    return app
