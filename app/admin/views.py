"""The admin index, and the section modules whose views it links to: importing them attaches
their routes to the area's blueprint and their lines to `SECTIONS`, in this order."""

from flask import render_template

from ..access import roles
from ..choices import Role
from . import (  # noqa: F401 (the sections)
    SECTIONS,
    audit,
    bp,
    consent_texts,
    partners,
    services,
    settings,
    sites,
    sso,
    users,
)


@bp.get("/")
@roles(Role.ADMIN)
def index():
    return render_template("admin/index.html", sections=SECTIONS)
