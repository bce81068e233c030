"""What happened afterwards (issue 20): follow-up tasks and their coded results (area:
followup), the follow-up consent (a consent text's purpose, the version a consent agreed to)
and the organisation's follow-up settings, target-group facts on a referral, projects with
their sites, services, activities and targets (area: projects), a site's lifetime, and the women
and men of new groups in the visit summaries (filled here from the visits; `flask
stats-rebuild` recomputes the same).
"""
import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'


def upgrade():
    # The organisation's columns are added and dropped in place (ALTER TABLE … ADD/DROP
    # COLUMN): on SQLite a batch copy renames a new table to "organisation", which the audit
    # retention trigger refuses.
    op.create_table('project',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('funder', sa.String(length=30), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_project_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_project_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project')),
    sa.UniqueConstraint('organisation_id', 'name', name=op.f('uq_project_organisation_id'))
    )
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('project_activity',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], name=op.f('fk_project_activity_activity_id_activity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_activity_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'activity_id', name=op.f('pk_project_activity'))
    )
    op.create_table('project_service',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_service_project_id_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_project_service_service_id_service'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'service_id', name=op.f('pk_project_service'))
    )
    op.create_table('project_site',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_site_project_id_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_project_site_site_id_site'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'site_id', name=op.f('pk_project_site'))
    )
    op.create_table('project_target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('indicator', sa.String(length=30), nullable=False),
    sa.Column('gender', sa.String(length=10), nullable=True),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('target', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_target_project_id_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_project_target_service_id_service'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_target'))
    )
    with op.batch_alter_table('project_target', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_target_project_id'), ['project_id'], unique=False)

    op.create_table('follow_up',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('months', sa.Integer(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('result', sa.String(length=20), nullable=True),
    sa.Column('sfi_level', sa.String(length=2), nullable=True),
    sa.Column('reason_code', sa.String(length=20), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('new_referral_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['new_referral_id'], ['referral.id'], name=op.f('fk_follow_up_new_referral_id_referral'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_follow_up_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_follow_up_recorded_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name=op.f('fk_follow_up_referral_id_referral'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_follow_up_service_id_service')),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], name=op.f('fk_follow_up_site_id_site')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up')),
    sa.UniqueConstraint('referral_id', 'months', name=op.f('uq_follow_up_referral_id'))
    )
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.create_index('ix_follow_up_org_due', ['organisation_id', 'due_date'], unique=False)
        batch_op.create_index('ix_follow_up_queue', ['service_id', 'status', 'due_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_referral_id'), ['referral_id'], unique=False)

    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('follow_up_text_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_consent_follow_up_text_id_consent_text'), 'consent_text', ['follow_up_text_id'], ['id'])

    with op.batch_alter_table('consent_text', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=20), server_default='referral', nullable=False))
    # Versions count per purpose too: the follow-up text's first version is 1 beside the
    # referral text's (the constraint keeps its name, now over four columns).
    with op.batch_alter_table('consent_text', schema=None) as batch_op:
        batch_op.drop_constraint('uq_consent_text_organisation_id', type_='unique')
        batch_op.create_unique_constraint(
            'uq_consent_text_organisation_id', ['organisation_id', 'purpose', 'locale', 'version']
        )

    with op.batch_alter_table('organisation', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('follow_up_months', sa.String(length=40), server_default='3,6,12', nullable=False))
        batch_op.add_column(sa.Column('follow_up_max_days', sa.Integer(), server_default='400', nullable=False))

    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gender', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('has_child_0_6', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('parental_leave', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('sfi_interrupted_before', sa.Boolean(), nullable=True))

    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opened_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('closed_on', sa.Date(), nullable=True))

    with op.batch_alter_table('visit_day_summary', schema=None) as batch_op:
        batch_op.add_column(sa.Column('new_women', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('new_men', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('visit_month_summary', schema=None) as batch_op:
        batch_op.add_column(sa.Column('new_women', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('new_men', sa.Integer(), server_default='0', nullable=False))

    # ### end Alembic commands ###
    bind = op.get_bind()
    if not bind.execute(sa.text("SELECT 1 FROM visit WHERE is_new LIMIT 1")).first():
        return  # no new groups yet: every new count is 0
    same_day = (
        "FROM visit v WHERE v.site_id = visit_day_summary.site_id "
        "AND v.visit_date = visit_day_summary.visit_date AND v.is_new"
    )
    op.execute(
        "UPDATE visit_day_summary SET "
        f"new_women = (SELECT coalesce(sum(v.women), 0) {same_day}), "
        f"new_men = (SELECT coalesce(sum(v.men), 0) {same_day})"
    )
    if bind.dialect.name == "postgresql":
        month = "CAST(date_trunc('month', d.visit_date) AS DATE)"
    else:
        month = "date(d.visit_date, 'start of month')"
    sums = ", ".join(
        f"{name} = (SELECT coalesce(sum(d.{name}), 0) FROM visit_day_summary d "
        f"WHERE d.site_id = visit_month_summary.site_id AND {month} = visit_month_summary.month)"
        for name in ("new_women", "new_men")
    )
    op.execute(f"UPDATE visit_month_summary SET {sums}")


def downgrade():
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('visit_month_summary', schema=None) as batch_op:
        batch_op.drop_column('new_men')
        batch_op.drop_column('new_women')

    with op.batch_alter_table('visit_day_summary', schema=None) as batch_op:
        batch_op.drop_column('new_men')
        batch_op.drop_column('new_women')

    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.drop_column('closed_on')
        batch_op.drop_column('opened_on')

    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_column('sfi_interrupted_before')
        batch_op.drop_column('parental_leave')
        batch_op.drop_column('has_child_0_6')
        batch_op.drop_column('gender')

    with op.batch_alter_table('organisation', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('follow_up_max_days')
        batch_op.drop_column('follow_up_months')

    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_consent_follow_up_text_id_consent_text'), type_='foreignkey')
        batch_op.drop_column('follow_up_text_id')

    with op.batch_alter_table('consent_text', schema=None) as batch_op:
        batch_op.drop_constraint('uq_consent_text_organisation_id', type_='unique')
    op.execute("DELETE FROM consent_text WHERE purpose <> 'referral' AND id NOT IN (SELECT consent_text_id FROM consent)")
    with op.batch_alter_table('consent_text', schema=None) as batch_op:
        batch_op.drop_column('purpose')
        batch_op.create_unique_constraint(
            'uq_consent_text_organisation_id', ['organisation_id', 'version', 'locale']
        )

    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_up_referral_id'))
        batch_op.drop_index('ix_follow_up_queue')
        batch_op.drop_index('ix_follow_up_org_due')

    op.drop_table('follow_up')
    with op.batch_alter_table('project_target', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_target_project_id'))

    op.drop_table('project_target')
    op.drop_table('project_site')
    op.drop_table('project_service')
    op.drop_table('project_activity')
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_organisation_id'))

    op.drop_table('project')
    # ### end Alembic commands ###
