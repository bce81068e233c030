"""Monthly visit summaries beside the daily ones: a year's statistics read 240 rows per table
instead of 7,300 (and 3,400 language rows instead of 100,000), filled from the daily ones.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"

COUNTS = (
    "groups", "women", "men", "other_adults", "children_0_1", "children_1_3", "children_3_6",
    "new_groups", "topic_work", "topic_sfi", "topic_society", "topic_preschool", "topic_health",
    "topic_parenting", "topic_housing", "topic_economy", "topic_other",
)


def upgrade():
    op.create_table(
        "visit_month_summary",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS],
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_visit_month_summary_site_id_site")
        ),
        sa.PrimaryKeyConstraint("site_id", "month", name=op.f("pk_visit_month_summary")),
    )
    op.create_table(
        "visit_month_language",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("groups", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_visit_month_language_site_id_site")
        ),
        sa.PrimaryKeyConstraint("site_id", "month", "code", name=op.f("pk_visit_month_language")),
    )
    if op.get_bind().dialect.name == "postgresql":
        month = "CAST(date_trunc('month', visit_date) AS DATE)"
    else:
        month = "date(visit_date, 'start of month')"
    columns = ", ".join(COUNTS)
    sums = ", ".join(f"sum({name})" for name in COUNTS)
    op.execute(
        f"INSERT INTO visit_month_summary (site_id, month, {columns}) "
        f"SELECT site_id, {month}, {sums} FROM visit_day_summary GROUP BY site_id, {month}"
    )
    op.execute(
        "INSERT INTO visit_month_language (site_id, month, code, groups) "
        f"SELECT site_id, {month}, code, sum(groups) FROM visit_day_language "
        f"GROUP BY site_id, {month}, code"
    )


def downgrade():
    op.drop_table("visit_month_language")
    op.drop_table("visit_month_summary")
