"""Index the queue's language filter: a service's languages come from the index alone.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.create_index("ix_referral_service_language", ["service_id", "language"])


def downgrade():
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_index("ix_referral_service_language")
