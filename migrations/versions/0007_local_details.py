"""Local details a visitor needs (issue 18): where each open preschool is, when it is open and
its phone (site), the services each site offers (site_service), a service's opening hours per
weekday and its link to apply or book in this municipality (service), and a recorded reading
of a consent text version (consent_text.audio_filename), as services have.

Opening hours are a JSON list of [weekday (1 = Monday), "HH:MM", "HH:MM"]; None is "not
given", which the pages leave out rather than calling the place closed.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade():
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("address", sa.String(length=300), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("phone", sa.String(length=40), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("longitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("weekly_hours", sa.JSON(), nullable=True))
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("apply_url", sa.String(length=300), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("weekly_hours", sa.JSON(), nullable=True))
    with op.batch_alter_table("consent_text", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audio_filename", sa.String(length=120), nullable=True))
    op.create_table(
        "site_service",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_site_service_service_id_service"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["site.id"], name=op.f("fk_site_service_site_id_site"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("site_id", "service_id", name=op.f("pk_site_service")),
    )
    with op.batch_alter_table("site_service", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_site_service_service_id"), ["service_id"])


def downgrade():
    with op.batch_alter_table("site_service", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_service_service_id"))
    op.drop_table("site_service")
    with op.batch_alter_table("consent_text", schema=None) as batch_op:
        batch_op.drop_column("audio_filename")
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.drop_column("weekly_hours")
        batch_op.drop_column("apply_url")
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_column("weekly_hours")
        batch_op.drop_column("longitude")
        batch_op.drop_column("latitude")
        batch_op.drop_column("phone")
        batch_op.drop_column("address")
