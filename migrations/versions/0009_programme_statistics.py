"""Outreach in the visit summaries (issue 19, area: stats): per site and day (and month), the new
groups that came after outreach (visit.after_outreach) and the groups met at each outreach place
(visit.outreach_place), so the dashboard's "informed → visited" and its visits by place read a
few hundred summary rows a year instead of every visit. Existing summaries are filled from the
visits; `flask stats-rebuild` recomputes the same.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"

PLACES = (
    "sfi_school",
    "child_health",
    "library",
    "faith_community",
    "housing_area",
    "home_visit",
    "other",
)
COLUMNS = ("after_outreach_groups", *(f"outreach_{place}" for place in PLACES))
TABLES = ("visit_day_summary", "visit_month_summary")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in COLUMNS:
                batch_op.add_column(
                    sa.Column(name, sa.Integer(), nullable=False, server_default="0")
                )
    bind = op.get_bind()
    if not bind.execute(
        sa.text(
            "SELECT 1 FROM visit WHERE after_outreach OR outreach_place IS NOT NULL LIMIT 1"
        )
    ).first():
        return  # nothing recorded as outreach yet: every new count is 0
    same_day = (
        "FROM visit v WHERE v.site_id = visit_day_summary.site_id "
        "AND v.visit_date = visit_day_summary.visit_date"
    )
    counts = [
        f"after_outreach_groups = (SELECT count(*) {same_day} AND v.is_new AND v.after_outreach)"
    ]
    counts += [
        f"outreach_{place} = (SELECT count(*) {same_day} AND v.outreach_place = '{place}')"
        for place in PLACES
    ]
    op.execute(f"UPDATE visit_day_summary SET {', '.join(counts)}")
    if bind.dialect.name == "postgresql":
        month = "CAST(date_trunc('month', d.visit_date) AS DATE)"
    else:
        month = "date(d.visit_date, 'start of month')"
    sums = ", ".join(
        f"{name} = (SELECT coalesce(sum(d.{name}), 0) FROM visit_day_summary d "
        f"WHERE d.site_id = visit_month_summary.site_id AND {month} = visit_month_summary.month)"
        for name in COLUMNS
    )
    op.execute(f"UPDATE visit_month_summary SET {sums}")


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in reversed(COLUMNS):
                batch_op.drop_column(name)
