"""Partners and the outbox (issue 21): partner organisations, the services they receive and
their users; the receiving side of a referral (acknowledgement due and done, last step, a
booked time and place); the visitor's chosen message channel; the outbox of messages to
visitors; the organisation's partner settings.
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'


def upgrade():
    op.create_table('partner',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('phone', sa.String(length=40), server_default='', nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_partner_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner')),
    sa.UniqueConstraint('organisation_id', 'name', name=op.f('uq_partner_organisation_id'))
    )
    with op.batch_alter_table('partner', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('partner_service',
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], name=op.f('fk_partner_service_partner_id_partner'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_partner_service_service_id_service'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('partner_id', 'service_id', name=op.f('pk_partner_service'))
    )
    with op.batch_alter_table('partner_service', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_service_service_id'), ['service_id'], unique=False)

    op.create_table('outbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('consent_id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('locale', sa.String(length=12), nullable=False),
    sa.Column('idempotency_key', sa.String(length=80), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=True),
    sa.Column('recipient_enc', sa.LargeBinary(), nullable=True),
    sa.Column('body_enc', sa.LargeBinary(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('last_error', sa.String(length=120), nullable=True),
    sa.Column('provider_ref', sa.String(length=80), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['consent_id'], ['consent.id'], name=op.f('fk_outbox_message_consent_id_consent')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_outbox_message_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name=op.f('fk_outbox_message_referral_id_referral'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_outbox_message_idempotency_key'))
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_message_consent_id'), ['consent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_message_referral_id'), ['referral_id'], unique=False)

    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_channel', sa.String(length=10), nullable=True))

    # In place, as in 0010: the audit retention trigger refuses a batch copy of the table.
    with op.batch_alter_table('organisation', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('partner_ack_working_days', sa.Integer(), server_default='3', nullable=False))
        batch_op.add_column(sa.Column('partner_require_2fa', sa.Boolean(), server_default=sa.true(), nullable=False))

    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ack_due_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('received_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('partner_step', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('appointment_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('appointment_place', sa.String(length=200), nullable=True))

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('partner_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_user_partner_id'), ['partner_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_user_partner_id_partner'), 'partner', ['partner_id'], ['id'])



def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_user_partner_id_partner'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_user_partner_id'))
        batch_op.drop_column('partner_id')

    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_column('appointment_place')
        batch_op.drop_column('appointment_at')
        batch_op.drop_column('partner_step')
        batch_op.drop_column('received_at')
        batch_op.drop_column('ack_due_date')

    # In place, as in 0010: the audit retention trigger refuses a batch copy of the table.
    with op.batch_alter_table('organisation', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('partner_require_2fa')
        batch_op.drop_column('partner_ack_working_days')

    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.drop_column('message_channel')

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_message_referral_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_message_consent_id'))
        batch_op.drop_index('ix_outbox_due')

    op.drop_table('outbox_message')
    with op.batch_alter_table('partner_service', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_service_service_id'))

    op.drop_table('partner_service')
    with op.batch_alter_table('partner', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_organisation_id'))

    op.drop_table('partner')
