"""The audit log becomes tamper-evident and harder to erase: every event gets a SHA-256 hash
over its content and the previous event's hash, in one chain per organisation (app.audit),
and the database refuses DELETE of an event still within its retention and TRUNCATE, as it
already refused UPDATE.

Existing events are chained here, in id order, with the app's own hash function; their
triggers are dropped for that UPDATE and created again, the same as for a new table. On a
new database the table already has them (created with it in 0001): dropped and re-created.
"""

import sqlalchemy as sa
from alembic import op

from app import audit

revision = "0006"
down_revision = "0005"

BATCH = 1000  # events read and updated at a time, so a long log never sits in memory


def upgrade():
    bind = op.get_bind()
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    chains = op.create_table(
        "audit_chain",
        sa.Column("chain", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("anchor_hash", sa.String(length=64), nullable=False),
        sa.Column("head_id", sa.Integer(), nullable=True),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_audit_chain")),
    )
    audit.unprotect_audit_table(bind)
    heads = _chain_existing_events(bind)
    if heads:
        op.bulk_insert(
            chains,
            [
                {"chain": c, "anchor_hash": audit.GENESIS, "head_id": i, "head_hash": h}
                for c, (i, h) in sorted(heads.items())
            ],
        )
    audit.protect_audit_table(bind)


def _chain_existing_events(bind) -> dict[int, tuple[int, str]]:
    events = sa.table(
        "audit_event",
        sa.column("id", sa.Integer),
        sa.column("at", sa.DateTime),
        sa.column("organisation_id", sa.Integer),
        sa.column("user_id", sa.Integer),
        sa.column("action", sa.String),
        sa.column("object_type", sa.String),
        sa.column("object_id", sa.Integer),
        sa.column("ip", sa.String),
        sa.column("detail", sa.JSON),
        sa.column("prev_hash", sa.String),
        sa.column("hash", sa.String),
    )
    chain_up = (
        events.update()
        .where(events.c.id == sa.bindparam("event_id"))
        .values(prev_hash=sa.bindparam("prev"), hash=sa.bindparam("digest"))
    )
    heads: dict[int, tuple[int, str]] = {}
    after = 0
    while True:
        rows = bind.execute(
            sa.select(events).where(events.c.id > after).order_by(events.c.id).limit(BATCH)
        ).all()
        if not rows:
            return heads
        changes = []
        for row in rows:
            chain = audit.chain_of(row.organisation_id)
            prev = heads.get(chain, (None, audit.GENESIS))[1]
            digest = audit.event_hash(row._mapping, prev)
            heads[chain] = (row.id, digest)
            changes.append({"event_id": row.id, "prev": prev, "digest": digest})
        bind.execute(chain_up, changes)
        after = rows[-1].id


def downgrade():
    bind = op.get_bind()
    audit.unprotect_audit_table(bind)
    op.drop_table("audit_chain")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
    audit.protect_audit_table(bind)
