"""Organisation.stats_version: bumped with every change the statistics can see (a new or
deleted referral or anonymous interest, or a change to a referral column they count), so the
statistics can cache their referral figures and know exactly when they are stale.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade():
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stats_version", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_column("stats_version")
