"""Index the queue's language filter: a service's languages come from the index alone.
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade():
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.create_index("ix_referral_service_language", ["service_id", "language"])


def downgrade():
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_index("ix_referral_service_language")
