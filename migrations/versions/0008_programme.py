"""The open preschool's programme (issue 19, area: programme): activities and their kinds,
their schedules (iCalendar RRULEs) and the sessions written out from them, attendance as
counts, outreach contacts, and on a visit the session it
attended, the outreach place and whether it came after outreach.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade():
    op.create_table('activity_kind',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('names', sa.JSON(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_activity_kind_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_kind')),
    sa.UniqueConstraint('organisation_id', 'code', name=op.f('uq_activity_kind_organisation_id'))
    )
    with op.batch_alter_table('activity_kind', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_kind_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('partner_name', sa.String(length=120), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('room', sa.String(length=60), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('needs_registration', sa.Boolean(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_activity_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_activity_service_id_service'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_activity_site_id_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity'))
    )
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activity_site_id'), ['site_id'], unique=False)

    op.create_table('activity_schedule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=200), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.Column('skip_holidays', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], name=op.f('fk_activity_schedule_activity_id_activity'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_schedule'))
    )
    with op.batch_alter_table('activity_schedule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_schedule_activity_id'), ['activity_id'], unique=False)

    op.create_table('activity_translation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], name=op.f('fk_activity_translation_activity_id_activity'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_translation')),
    sa.UniqueConstraint('activity_id', 'locale', name=op.f('uq_activity_translation_activity_id'))
    )
    op.create_table('information_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=20), nullable=False),
    sa.Column('people', sa.Integer(), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_information_contact_recorded_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_information_contact_site_id_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_information_contact'))
    )
    with op.batch_alter_table('information_contact', schema=None) as batch_op:
        batch_op.create_index('ix_information_contact_site_date', ['site_id', 'on_date'], unique=False)

    op.create_table('activity_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=True),
    sa.Column('on_date', sa.Date(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.Column('room', sa.String(length=60), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('change_reason', sa.String(length=30), nullable=True),
    sa.Column('moved_from', sa.Date(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], name=op.f('fk_activity_session_activity_id_activity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_activity_session_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['schedule_id'], ['activity_schedule.id'], name=op.f('fk_activity_session_schedule_id_activity_schedule'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_activity_session_site_id_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_session'))
    )
    with op.batch_alter_table('activity_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_session_activity_id'), ['activity_id'], unique=False)
        batch_op.create_index('ix_activity_session_org_date', ['organisation_id', 'on_date', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_activity_session_schedule_id'), ['schedule_id'], unique=False)
        batch_op.create_index('ix_activity_session_site_date', ['site_id', 'on_date'], unique=False)

    op.create_table('session_attendance',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('women', sa.Integer(), nullable=False),
    sa.Column('men', sa.Integer(), nullable=False),
    sa.Column('other_adults', sa.Integer(), nullable=False),
    sa.Column('children_0_1', sa.Integer(), nullable=False),
    sa.Column('children_1_3', sa.Integer(), nullable=False),
    sa.Column('children_3_6', sa.Integer(), nullable=False),
    sa.Column('new_people', sa.Integer(), nullable=False),
    sa.Column('conversations', sa.Integer(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_session_attendance_recorded_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['activity_session.id'], name=op.f('fk_session_attendance_session_id_activity_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', name=op.f('pk_session_attendance'))
    )
    op.create_table('attendance_language',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['session_attendance.session_id'], name=op.f('fk_attendance_language_session_id_session_attendance'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', 'code', name=op.f('pk_attendance_language'))
    )
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('outreach_place', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('after_outreach', sa.Boolean(), server_default='0', nullable=False))
        batch_op.create_index(batch_op.f('ix_visit_session_id'), ['session_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_visit_session_id_activity_session'), 'activity_session', ['session_id'], ['id'], ondelete='SET NULL')



def downgrade():
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_visit_session_id_activity_session'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_visit_session_id'))
        batch_op.drop_column('after_outreach')
        batch_op.drop_column('outreach_place')
        batch_op.drop_column('session_id')

    op.drop_table('attendance_language')
    op.drop_table('session_attendance')
    with op.batch_alter_table('activity_session', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_session_site_date')
        batch_op.drop_index(batch_op.f('ix_activity_session_schedule_id'))
        batch_op.drop_index('ix_activity_session_org_date')
        batch_op.drop_index(batch_op.f('ix_activity_session_activity_id'))

    op.drop_table('activity_session')
    with op.batch_alter_table('information_contact', schema=None) as batch_op:
        batch_op.drop_index('ix_information_contact_site_date')

    op.drop_table('information_contact')
    op.drop_table('activity_translation')
    with op.batch_alter_table('activity_schedule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_schedule_activity_id'))

    op.drop_table('activity_schedule')
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_site_id'))
        batch_op.drop_index(batch_op.f('ix_activity_organisation_id'))

    op.drop_table('activity')
    with op.batch_alter_table('activity_kind', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_kind_organisation_id'))

    op.drop_table('activity_kind')
