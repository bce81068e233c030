"""Contact details encrypted: each field an AES-GCM ciphertext under a key kept outside the
database (app/crypto.py), the phone also as a keyed hash for lookups, and the plain-text
columns gone.

Existing rows are encrypted here with the app's own functions (app.privacy.sealed_columns,
under the current key of the key file, which is created if there is none yet). The table is
then rebuilt (batch mode with recreate="always", on PostgreSQL too): on PostgreSQL a dropped
column stays in every row of the table's file until the table is rewritten, and a rebuilt
table leaves the old file behind to be deleted. Old plain text may still sit in WAL segments
not yet recycled and in the file system's free blocks; docs/security.md says how to deal with
an upgraded installation.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"

PLAIN = ("first_name", "phone_e164", "email", "best_time")
SEALED = ("first_name_enc", "phone_enc", "email_enc", "best_time_enc")


def _table(*columns):
    return sa.table("contact_details", sa.column("consent_id", sa.Integer()), *columns)


def upgrade():
    with op.batch_alter_table("contact_details", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))
        for name in SEALED:
            batch_op.add_column(sa.Column(name, sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("phone_hmac", sa.LargeBinary(length=32), nullable=True))

    bind = op.get_bind()
    plain = _table(*(sa.column(name, sa.String()) for name in PLAIN))
    rows = bind.execute(sa.select(plain).order_by(plain.c.consent_id)).all()
    if rows:
        from app import crypto, privacy

        key = crypto.keyring().current
        sealed = _table(
            sa.column("key_id", sa.String()),
            *(sa.column(name, sa.LargeBinary()) for name in SEALED),
            sa.column("phone_hmac", sa.LargeBinary()),
        )
        for row in rows:
            contact = privacy.ContactInput(
                first_name=row.first_name,
                phone_e164=row.phone_e164,
                email=row.email,
                best_time=row.best_time,
            )
            values = privacy.sealed_columns(row.consent_id, contact, key)
            del values["consent_id"]
            bind.execute(
                sealed.update().where(sealed.c.consent_id == row.consent_id).values(**values)
            )

    with op.batch_alter_table("contact_details", schema=None, recreate="always") as batch_op:
        for name in PLAIN:
            batch_op.drop_column(name)
        batch_op.alter_column("key_id", existing_type=sa.String(length=16), nullable=False)
        batch_op.alter_column("first_name_enc", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.create_index(
            batch_op.f("ix_contact_details_phone_hmac"), ["phone_hmac"], unique=False
        )


def downgrade():
    """Back to plain text (needs the keys): only for a rollback of this very release."""
    with op.batch_alter_table("contact_details", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_name", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("phone_e164", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("best_time", sa.String(length=40), nullable=True))

    bind = op.get_bind()
    sealed = _table(sa.column("key_id", sa.String()), *(sa.column(n, sa.LargeBinary()) for n in SEALED))
    rows = bind.execute(sa.select(sealed).order_by(sealed.c.consent_id)).all()
    if rows:
        from app import crypto, privacy

        ring = crypto.keyring()
        plain = _table(*(sa.column(name, sa.String()) for name in PLAIN))
        for row in rows:
            values = {name: getattr(row, name) for name in SEALED}
            contact = privacy.opened_columns(row.consent_id, ring.get(row.key_id), values)
            bind.execute(
                plain.update()
                .where(plain.c.consent_id == row.consent_id)
                .values(**contact.__dict__)
            )

    with op.batch_alter_table("contact_details", schema=None, recreate="always") as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_details_phone_hmac"))
        for name in ("key_id", *SEALED, "phone_hmac"):
            batch_op.drop_column(name)
        batch_op.alter_column("first_name", existing_type=sa.String(length=80), nullable=False)
