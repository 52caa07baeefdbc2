"""accountability: findings, rectifications, accountability actions

Revision ID: 0007_accountability
Revises: 0006_review
Create Date: 2026-11-26 08:17:57.749168

"""
from alembic import op
import sqlalchemy as sa

import govrisk.core.types


# revision identifiers, used by Alembic.
revision = '0007_accountability'
down_revision = '0006_review'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=60), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('power_id', sa.Integer(), nullable=True),
    sa.Column('risk_point_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('found_on', sa.Date(), nullable=False),
    sa.Column('state', sa.Enum('open', 'rectifying', 'closed', 'dismissed', name='findingstate', native_enum=False, length=32), nullable=False),
    sa.Column('origin_type', sa.String(length=30), nullable=False),
    sa.Column('origin_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', govrisk.core.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', govrisk.core.types.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_findings_created_by_id_users')),
    sa.ForeignKeyConstraint(['cycle_id'], ['review_cycles.id'], name=op.f('fk_findings_cycle_id_review_cycles')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_findings_department_id_departments')),
    sa.ForeignKeyConstraint(['power_id'], ['powers.id'], name=op.f('fk_findings_power_id_powers')),
    sa.ForeignKeyConstraint(['risk_point_id'], ['risk_points.id'], name=op.f('fk_findings_risk_point_id_risk_points')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_findings')),
    sa.UniqueConstraint('code', name=op.f('uq_findings_code'))
    )
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_findings_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index('ix_findings_department_state', ['department_id', 'state'], unique=False)
        batch_op.create_index('ix_findings_origin', ['origin_type', 'origin_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_findings_power_id'), ['power_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_findings_risk_point_id'), ['risk_point_id'], unique=False)
        batch_op.create_index('ix_findings_year_source', ['year', 'source'], unique=False)

    op.create_table('accountability_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('finding_id', sa.Integer(), nullable=True),
    sa.Column('action_type', sa.String(length=60), nullable=False),
    sa.Column('category', sa.Enum('admonishing', 'rectification', 'organisational', 'party', 'government', name='actioncategory', native_enum=False, length=32), nullable=False),
    sa.Column('facts', sa.Text(), nullable=False),
    sa.Column('basis', sa.Text(), nullable=False),
    sa.Column('decision_no', sa.String(length=120), nullable=False),
    sa.Column('decided_by', sa.String(length=200), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('recorded_on', sa.Date(), nullable=False),
    sa.Column('start_on', sa.Date(), nullable=True),
    sa.Column('end_on', sa.Date(), nullable=True),
    sa.Column('state', sa.Enum('proposed', 'decided', 'completed', 'revoked', name='actionstate', native_enum=False, length=32), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', govrisk.core.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', govrisk.core.types.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_accountability_actions_created_by_id_users')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_accountability_actions_department_id_departments')),
    sa.ForeignKeyConstraint(['finding_id'], ['findings.id'], name=op.f('fk_accountability_actions_finding_id_findings')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_accountability_actions_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accountability_actions')),
    sa.UniqueConstraint('code', name=op.f('uq_accountability_actions_code'))
    )
    with op.batch_alter_table('accountability_actions', schema=None) as batch_op:
        batch_op.create_index('ix_accountability_actions_department_state', ['department_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_accountability_actions_finding_id'), ['finding_id'], unique=False)
        batch_op.create_index('ix_accountability_actions_person', ['person_id', 'decided_on'], unique=False)

    op.create_table('finding_people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('finding_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('responsible', 'leader', 'related', name='personrole', native_enum=False, length=32), nullable=False),
    sa.ForeignKeyConstraint(['finding_id'], ['findings.id'], name=op.f('fk_finding_people_finding_id_findings')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_finding_people_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finding_people')),
    sa.UniqueConstraint('finding_id', 'person_id', name=op.f('uq_finding_people_finding_id_person_id'))
    )
    with op.batch_alter_table('finding_people', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finding_people_person_id'), ['person_id'], unique=False)

    op.create_table('rectifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('finding_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('requirement', sa.Text(), nullable=False),
    sa.Column('responsible_id', sa.Integer(), nullable=True),
    sa.Column('plan', sa.Text(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('ordered', 'planned', 'reported', 'verified', name='rectificationstate', native_enum=False, length=32), nullable=False),
    sa.Column('ordered_on', sa.Date(), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.Column('verified_at', govrisk.core.types.UTCDateTime(), nullable=True),
    sa.Column('created_at', govrisk.core.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', govrisk.core.types.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('is_overdue', sa.Boolean(), nullable=False),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_rectifications_department_id_departments')),
    sa.ForeignKeyConstraint(['finding_id'], ['findings.id'], name=op.f('fk_rectifications_finding_id_findings')),
    sa.ForeignKeyConstraint(['responsible_id'], ['people.id'], name=op.f('fk_rectifications_responsible_id_people')),
    sa.ForeignKeyConstraint(['verified_by_id'], ['users.id'], name=op.f('fk_rectifications_verified_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectifications')),
    sa.UniqueConstraint('code', name=op.f('uq_rectifications_code'))
    )
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.create_index('ix_rectifications_department_state', ['department_id', 'state'], unique=False)
        batch_op.create_index('ix_rectifications_due', ['due_on', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_rectifications_finding_id'), ['finding_id'], unique=False)
        batch_op.create_index('ix_rectifications_overdue', ['is_overdue', 'state', 'department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rectifications_responsible_id'), ['responsible_id'], unique=False)


def downgrade():
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rectifications_responsible_id'))
        batch_op.drop_index('ix_rectifications_overdue')
        batch_op.drop_index(batch_op.f('ix_rectifications_finding_id'))
        batch_op.drop_index('ix_rectifications_due')
        batch_op.drop_index('ix_rectifications_department_state')

    op.drop_table('rectifications')
    with op.batch_alter_table('finding_people', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finding_people_person_id'))

    op.drop_table('finding_people')
    with op.batch_alter_table('accountability_actions', schema=None) as batch_op:
        batch_op.drop_index('ix_accountability_actions_person')
        batch_op.drop_index(batch_op.f('ix_accountability_actions_finding_id'))
        batch_op.drop_index('ix_accountability_actions_department_state')

    op.drop_table('accountability_actions')
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_index('ix_findings_year_source')
        batch_op.drop_index(batch_op.f('ix_findings_risk_point_id'))
        batch_op.drop_index(batch_op.f('ix_findings_power_id'))
        batch_op.drop_index('ix_findings_origin')
        batch_op.drop_index('ix_findings_department_state')
        batch_op.drop_index(batch_op.f('ix_findings_cycle_id'))

    op.drop_table('findings')
