"""A stable UUID per service (issue 22): the service's id in the HSDS 3.0 export and API.

Existing services each get their own random UUID (uuid4, drawn here in Python, one per row).
The column is added NOT NULL with an empty server default, which SQLite needs to add it in
place (no table rebuild), filled, and then made unique; PostgreSQL drops the default again.
"""
from uuid import uuid4

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'


def upgrade():
    with op.batch_alter_table('service', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('uuid', sa.String(length=36), server_default='', nullable=False))

    service = sa.table('service', sa.column('id', sa.Integer), sa.column('uuid', sa.String))
    connection = op.get_bind()
    for (service_id,) in connection.execute(sa.select(service.c.id)).all():
        connection.execute(
            service.update().where(service.c.id == service_id).values(uuid=str(uuid4()))
        )

    with op.batch_alter_table('service', schema=None, recreate='never') as batch_op:
        batch_op.create_index('ix_service_uuid', ['uuid'], unique=True)
    if connection.dialect.name != 'sqlite':
        op.alter_column('service', 'uuid', server_default=None)


def downgrade():
    with op.batch_alter_table('service', schema=None, recreate='never') as batch_op:
        batch_op.drop_index('ix_service_uuid')
    # SQLite (3.35 and later) drops a column in place; an index on it must go first.
    with op.batch_alter_table('service', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('uuid')
