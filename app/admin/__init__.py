"""Administration: one blueprint, one module per screen (services, consent texts, users,
settings, audit log). The index links to each section an admin can open."""

from flask import Blueprint, render_template

from ..access import roles
from ..choices import Role

bp = Blueprint("admin", __name__, url_prefix="/admin")

# (endpoint, label, short description) for the index; each section module adds its line here.
SECTIONS: list[tuple[str, object, object]] = []


@bp.get("/")
@roles(Role.ADMIN)
def index():
    return render_template("admin/index.html", sections=SECTIONS)


# Section modules register their views on `bp` when imported.
from . import sections  # noqa: E402, F401
