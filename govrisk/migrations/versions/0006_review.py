"""review: annual cycles, snapshots, self-checks, assessment

Revision ID: 0006_review
Revises: 0004_risks
Create Date: 2026-11-26 08:17:57.749168

"""
from alembic import op
import sqlalchemy as sa

import govrisk.core.types


# revision identifiers, used by Alembic.
revision = '0006_review'
down_revision = '0004_risks'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('review_cycles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('state', sa.Enum('planning', 'self_check', 'inspection', 'assessment', 'published', 'closed', name='cyclestate', native_enum=False, length=32), nullable=False),
    sa.Column('self_check_due_on', sa.Date(), nullable=True),
    sa.Column('inspection_due_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('thresholds_json', sa.Text(), nullable=False),
    sa.Column('snapshot_at', govrisk.core.types.UTCDateTime(), nullable=True),
    sa.Column('scored_at', govrisk.core.types.UTCDateTime(), nullable=True),
    sa.Column('published_at', govrisk.core.types.UTCDateTime(), nullable=True),
    sa.Column('closed_at', govrisk.core.types.UTCDateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', govrisk.core.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', govrisk.core.types.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_review_cycles_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_cycles')),
    sa.UniqueConstraint('year', name=op.f('uq_review_cycles_year'))
    )
    op.create_table('review_checklist_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('section', sa.String(length=120), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('is_retired', sa.Boolean(), nullable=False),
    sa.Column('created_at', govrisk.core.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', govrisk.core.types.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['review_cycles.id'], name=op.f('fk_review_checklist_items_cycle_id_review_cycles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_checklist_items'))
    )
    with op.batch_alter_table('review_checklist_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_checklist_items_cycle_id'), ['cycle_id'], unique=False)

    op.create_table('review_departments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('appraisal_score', sa.Float(), nullable=True),
    sa.Column('appraisal_respondents', sa.Integer(), nullable=True),
    sa.Column('appraisal_note', sa.Text(), nullable=False),
    sa.Column('total', sa.Float(), nullable=True),
    sa.Column('grade', sa.Enum('good', 'fairly_good', 'average', 'poor', name='grade', native_enum=False, length=32), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('is_commended', sa.Boolean(), nullable=False),
    sa.Column('commendation_note', sa.Text(), nullable=False),
    sa.Column('created_at', govrisk.core.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', govrisk.core.types.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['review_cycles.id'], name=op.f('fk_review_departments_cycle_id_review_cycles')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_review_departments_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_departments')),
    sa.UniqueConstraint('cycle_id', 'department_id', name=op.f('uq_review_departments_cycle_id_department_id'))
    )
    with op.batch_alter_table('review_departments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_departments_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_departments_department_id'), ['department_id'], unique=False)

    op.create_table('review_indicators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('method', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('params_json', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', govrisk.core.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', govrisk.core.types.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['review_cycles.id'], name=op.f('fk_review_indicators_cycle_id_review_cycles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_indicators')),
    sa.UniqueConstraint('cycle_id', 'key', name=op.f('uq_review_indicators_cycle_id_key'))
    )
    with op.batch_alter_table('review_indicators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_indicators_cycle_id'), ['cycle_id'], unique=False)

    op.create_table('review_snapshot_parts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('item_count', sa.Integer(), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('frozen_at', govrisk.core.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['review_cycles.id'], name=op.f('fk_review_snapshot_parts_cycle_id_review_cycles')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_review_snapshot_parts_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_snapshot_parts')),
    sa.UniqueConstraint('cycle_id', 'department_id', 'kind', 'seq', name=op.f('uq_review_snapshot_parts_cycle_id_department_id_kind_seq'))
    )
    op.create_table('review_inspection_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_department_id', sa.Integer(), nullable=False),
    sa.Column('inspected_on', sa.Date(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author_name', sa.String(length=120), nullable=False),
    sa.Column('created_at', govrisk.core.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', govrisk.core.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_review_inspection_notes_author_id_users')),
    sa.ForeignKeyConstraint(['cycle_department_id'], ['review_departments.id'], name=op.f('fk_review_inspection_notes_cycle_department_id_review_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_inspection_notes'))
    )
    with op.batch_alter_table('review_inspection_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_inspection_notes_cycle_department_id'), ['cycle_department_id'], unique=False)

    op.create_table('review_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_department_id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('computed', sa.Float(), nullable=True),
    sa.Column('figures_json', sa.Text(), nullable=False),
    sa.Column('adjusted', sa.Float(), nullable=True),
    sa.Column('adjust_reason', sa.Text(), nullable=False),
    sa.Column('effective_weight', sa.Float(), nullable=False),
    sa.Column('created_at', govrisk.core.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', govrisk.core.types.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cycle_department_id'], ['review_departments.id'], name=op.f('fk_review_scores_cycle_department_id_review_departments')),
    sa.ForeignKeyConstraint(['indicator_id'], ['review_indicators.id'], name=op.f('fk_review_scores_indicator_id_review_indicators')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_scores')),
    sa.UniqueConstraint('cycle_department_id', 'indicator_id', name=op.f('uq_review_scores_cycle_department_id_indicator_id'))
    )
    op.create_table('review_self_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_department_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('draft', 'submitted', 'signed', name='selfcheckstate', native_enum=False, length=32), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('signed_by_id', sa.Integer(), nullable=True),
    sa.Column('signed_at', govrisk.core.types.UTCDateTime(), nullable=True),
    sa.Column('created_at', govrisk.core.types.UTCDateTime(), nullable=False),
    sa.Column('updated_at', govrisk.core.types.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cycle_department_id'], ['review_departments.id'], name=op.f('fk_review_self_checks_cycle_department_id_review_departments')),
    sa.ForeignKeyConstraint(['signed_by_id'], ['users.id'], name=op.f('fk_review_self_checks_signed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_self_checks')),
    sa.UniqueConstraint('cycle_department_id', name=op.f('uq_review_self_checks_cycle_department_id'))
    )
    op.create_table('review_score_adjustments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('score_id', sa.Integer(), nullable=False),
    sa.Column('before', sa.Float(), nullable=True),
    sa.Column('after', sa.Float(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=120), nullable=False),
    sa.Column('at', govrisk.core.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_review_score_adjustments_actor_id_users')),
    sa.ForeignKeyConstraint(['score_id'], ['review_scores.id'], name=op.f('fk_review_score_adjustments_score_id_review_scores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_score_adjustments'))
    )
    with op.batch_alter_table('review_score_adjustments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_score_adjustments_score_id'), ['score_id'], unique=False)

    op.create_table('review_self_check_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('self_check_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('result', sa.Enum('done', 'partial', 'not_done', 'na', name='checkresult', native_enum=False, length=32), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['review_checklist_items.id'], name=op.f('fk_review_self_check_answers_item_id_review_checklist_items')),
    sa.ForeignKeyConstraint(['self_check_id'], ['review_self_checks.id'], name=op.f('fk_review_self_check_answers_self_check_id_review_self_checks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_self_check_answers')),
    sa.UniqueConstraint('self_check_id', 'item_id', name=op.f('uq_review_self_check_answers_self_check_id_item_id'))
    )


def downgrade():
    op.drop_table('review_self_check_answers')
    with op.batch_alter_table('review_score_adjustments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_score_adjustments_score_id'))

    op.drop_table('review_score_adjustments')
    op.drop_table('review_self_checks')
    op.drop_table('review_scores')
    with op.batch_alter_table('review_inspection_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_inspection_notes_cycle_department_id'))

    op.drop_table('review_inspection_notes')
    op.drop_table('review_snapshot_parts')
    with op.batch_alter_table('review_indicators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_indicators_cycle_id'))

    op.drop_table('review_indicators')
    with op.batch_alter_table('review_departments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_departments_department_id'))
        batch_op.drop_index(batch_op.f('ix_review_departments_cycle_id'))

    op.drop_table('review_departments')
    with op.batch_alter_table('review_checklist_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_checklist_items_cycle_id'))

    op.drop_table('review_checklist_items')
    op.drop_table('review_cycles')
