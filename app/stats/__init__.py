"""Statistics (area: stats): the dashboard of visits, referrals and anonymous interest for one
organisation, with small counts protected, as accessible SVG charts with tables beside them, and
as CSV and XLSX exports. It reads only anonymous, aggregated facts; it never touches contact
details.

Scope: coordinators and admins see every site of their own organisation (statistics are
reported per municipality, and a coordinator follows referrals from all sites); closed sites
and inactive services still count for the periods they were open. Another organisation's or an
unknown site or service id is answered with 404.
"""

from flask import Blueprint

bp = Blueprint("stats", __name__, url_prefix="/stats")
