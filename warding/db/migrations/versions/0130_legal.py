"""legal (issue 14): removal orders, preservations, complaints, notices, threat alerts,
decision contexts; statements of reasons can be withheld (TCO Art. 11(3))

Revision ID: 0130
Revises: 0105

"""
import sqlalchemy as sa
from alembic import op

revision = "0130"
down_revision = "0105"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('legal_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('locations', sa.JSON(), nullable=False),
    sa.Column('notifier_name', sa.String(length=200), nullable=True),
    sa.Column('notifier_email', sa.String(length=320), nullable=True),
    sa.Column('bona_fide', sa.Boolean(), nullable=False),
    sa.Column('trusted_flagger', sa.Boolean(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=30), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('response', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('legal_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_notices_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_legal_notices_status'), ['status'], unique=False)

    op.create_table('removal_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=False),
    sa.Column('authority', sa.JSON(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('locations', sa.JSON(), nullable=False),
    sa.Column('grounds', sa.JSON(), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.Column('nondisclosure_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cross_border', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('measure', sa.String(length=20), nullable=True),
    sa.Column('complied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('within_deadline', sa.Boolean(), nullable=True),
    sa.Column('inability', sa.JSON(), nullable=True),
    sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('clarified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('scrutiny', sa.JSON(), nullable=True),
    sa.Column('alerts', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reference')
    )
    with op.batch_alter_table('removal_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_removal_orders_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_removal_orders_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_removal_orders_status'), ['status'], unique=False)

    op.create_table('legal_notice_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('location', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['content_items.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['notice_id'], ['legal_notices.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('notice_id', 'item_id', name='uq_notice_item')
    )
    with op.batch_alter_table('legal_notice_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_notice_items_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_legal_notice_items_notice_id'), ['notice_id'], unique=False)

    op.create_table('threat_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('flagged_by', sa.String(length=120), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('flagged_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('threat_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_threat_alerts_case_id'), ['case_id'], unique=False)

    op.create_table('decision_contexts',
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('context', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('decision_id')
    )
    op.create_table('legal_complaints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('location', sa.Text(), nullable=True),
    sa.Column('complainant', sa.JSON(), nullable=False),
    sa.Column('grounds', sa.Text(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=120), nullable=True),
    sa.Column('decision_id', sa.Integer(), nullable=True),
    sa.Column('response', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], ),
    sa.ForeignKeyConstraint(['item_id'], ['content_items.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['removal_orders.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('legal_complaints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_legal_complaints_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_legal_complaints_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_legal_complaints_status'), ['status'], unique=False)

    op.create_table('preservations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('preserve_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('extensions', sa.JSON(), nullable=False),
    sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], ),
    sa.ForeignKeyConstraint(['item_id'], ['content_items.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['removal_orders.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('decision_id')
    )
    with op.batch_alter_table('preservations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_preservations_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_preservations_preserve_until'), ['preserve_until'], unique=False)
        batch_op.create_index(batch_op.f('ix_preservations_removed_at'), ['removed_at'], unique=False)

    op.create_table('removal_order_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('location', sa.JSON(), nullable=False),
    sa.Column('resolved', sa.Boolean(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=True),
    sa.Column('reinstate_decision_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], ),
    sa.ForeignKeyConstraint(['item_id'], ['content_items.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['removal_orders.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reinstate_decision_id'], ['decisions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id', 'item_id', name='uq_order_item')
    )
    with op.batch_alter_table('removal_order_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_removal_order_items_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_removal_order_items_order_id'), ['order_id'], unique=False)

    with op.batch_alter_table('statements_of_reasons', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withheld_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('released_at', sa.DateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('statements_of_reasons', schema=None) as batch_op:
        batch_op.drop_column('released_at')
        batch_op.drop_column('withheld_until')

    with op.batch_alter_table('removal_order_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_removal_order_items_order_id'))
        batch_op.drop_index(batch_op.f('ix_removal_order_items_item_id'))

    op.drop_table('removal_order_items')
    with op.batch_alter_table('preservations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_preservations_removed_at'))
        batch_op.drop_index(batch_op.f('ix_preservations_preserve_until'))
        batch_op.drop_index(batch_op.f('ix_preservations_item_id'))

    op.drop_table('preservations')
    with op.batch_alter_table('legal_complaints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_complaints_status'))
        batch_op.drop_index(batch_op.f('ix_legal_complaints_received_at'))
        batch_op.drop_index(batch_op.f('ix_legal_complaints_item_id'))

    op.drop_table('legal_complaints')
    op.drop_table('decision_contexts')
    with op.batch_alter_table('threat_alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_threat_alerts_case_id'))

    op.drop_table('threat_alerts')
    with op.batch_alter_table('legal_notice_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_notice_items_notice_id'))
        batch_op.drop_index(batch_op.f('ix_legal_notice_items_case_id'))

    op.drop_table('legal_notice_items')
    with op.batch_alter_table('removal_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_removal_orders_status'))
        batch_op.drop_index(batch_op.f('ix_removal_orders_received_at'))
        batch_op.drop_index(batch_op.f('ix_removal_orders_due_at'))

    op.drop_table('removal_orders')
    with op.batch_alter_table('legal_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_legal_notices_status'))
        batch_op.drop_index(batch_op.f('ix_legal_notices_received_at'))

    op.drop_table('legal_notices')
