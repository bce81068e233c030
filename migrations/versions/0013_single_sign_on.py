"""Single sign-on (issue 22): a user's linked identity-provider account (issuer and `sub`,
unique together), and the organisation's sign-on settings (create unknown users or refuse
them, trust the provider's MFA claim, the `acr` values that count, the group map).
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'


def upgrade():
    # In place, as in 0010 and 0012: the audit retention trigger refuses a batch copy.
    with op.batch_alter_table('organisation', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('sso_create_users', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('sso_trust_mfa', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('sso_mfa_acr', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('sso_groups', sa.Text(), server_default='[]', nullable=False))

    with op.batch_alter_table('user', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('oidc_issuer', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('oidc_sub', sa.String(length=255), nullable=True))
        batch_op.create_index('ix_user_oidc', ['oidc_issuer', 'oidc_sub'], unique=True)


def downgrade():
    with op.batch_alter_table('user', schema=None, recreate='never') as batch_op:
        batch_op.drop_index('ix_user_oidc')
        batch_op.drop_column('oidc_sub')
        batch_op.drop_column('oidc_issuer')

    with op.batch_alter_table('organisation', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('sso_groups')
        batch_op.drop_column('sso_mfa_acr')
        batch_op.drop_column('sso_trust_mfa')
        batch_op.drop_column('sso_create_users')
