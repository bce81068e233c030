"""Index the visits counted as attending a session with the counts the programme's figures
read (area: stats, issue 19): the year's dashboard read some 62,000 visits one table row at a
time through ix_visit_session_id; with their adults, children and newness in the index the
counts come from it alone. It starts with session_id, so it also serves what
ix_visit_session_id served (a session's visits; the foreign key's ON DELETE SET NULL), which is
dropped: one index less to write on every visit.
"""

from alembic import op

revision = "0011"
down_revision = "0010"

COLUMNS = [
    "session_id",
    "women",
    "men",
    "other_adults",
    "children_0_1",
    "children_1_3",
    "children_3_6",
    "is_new",
]


def upgrade():
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.create_index("ix_visit_session_counts", COLUMNS, unique=False)
        batch_op.drop_index("ix_visit_session_id")


def downgrade():
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.create_index("ix_visit_session_id", ["session_id"], unique=False)
        batch_op.drop_index("ix_visit_session_counts")
