"""Administration (area: admin): the organisation's users, sites, services and their texts,
consent texts, partner organisations, settings and the audit log, one module per screen
(`users`, `sites`, `services`, `consent_texts`, `partners`, `settings`, `audit`), with `forms`,
`accounts` (a new user, for every screen that makes one), `consent_versions` (version
numbers and the first consent texts an organisation starts with), `demo` and `commands`
(`flask create-organisation`, `create-user`, `seed-demo`). `views` holds the index, which
links to each section an admin can open, and imports the section modules.
"""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

# (endpoint, label, short description) for the index; each section module adds its line here.
SECTIONS: list[tuple[str, object, object]] = []
