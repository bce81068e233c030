"""The partners' inbound queue (being built: issue 21)."""

from ..access import PARTNER_ROLES, roles
from ..web import render
from . import bp


@bp.get("/")
@roles(*PARTNER_ROLES)
def inbound():
    return render("partners/inbound.html")
