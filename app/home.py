"""The start page after sign-in: each role lands where its work is."""

from flask import Blueprint, redirect, url_for
from flask_login import current_user

from .access import signed_in
from .choices import Role

bp = Blueprint("home", __name__)

LANDING = {
    Role.STAFF: "visits.today",
    Role.COORDINATOR: "queue.index",
    Role.ADMIN: "admin.index",
}


@bp.get("/")
@signed_in
def index():
    return redirect(url_for(LANDING[current_user.role]))
