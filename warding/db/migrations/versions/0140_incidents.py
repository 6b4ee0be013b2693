"""incidents (issue 20): retroactive matching (cursor, runs, matches found, item vectors)
and incidents

Revision ID: 0140
Revises: 0001

"""
import sqlalchemy as sa
from alembic import op

revision = "0140"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('retro_cursors',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('watermark', sa.BigInteger(), nullable=False),
    sa.Column('gaps', sa.JSON(), nullable=False),
    sa.Column('banks', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('retro_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bank_id', sa.Integer(), nullable=False),
    sa.Column('trigger', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('first_entry', sa.BigInteger(), nullable=True),
    sa.Column('last_entry', sa.BigInteger(), nullable=True),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.Column('items_checked', sa.BigInteger(), nullable=False),
    sa.Column('signals_checked', sa.BigInteger(), nullable=False),
    sa.Column('matches', sa.Integer(), nullable=False),
    sa.Column('cases_opened', sa.Integer(), nullable=False),
    sa.Column('cases_updated', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('live_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('seconds', sa.Float(), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['bank_id'], ['banks.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('retro_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retro_runs_bank_id'), ['bank_id'], unique=False)

    op.create_table('retro_matches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('match_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.BigInteger(), nullable=False),
    sa.Column('found_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['content_items.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['match_id'], ['matches.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['retro_runs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('match_id')
    )
    with op.batch_alter_table('retro_matches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retro_matches_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_retro_matches_run_id'), ['run_id'], unique=False)

    op.create_table('retro_item_vectors',
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('model', sa.String(length=120), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['content_items.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('item_id')
    )
    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('banks', sa.JSON(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('notify_step', sa.Integer(), nullable=True),
    sa.Column('notified_count', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('incidents')
    op.drop_table('retro_item_vectors')
    with op.batch_alter_table('retro_matches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retro_matches_run_id'))
        batch_op.drop_index(batch_op.f('ix_retro_matches_item_id'))
    op.drop_table('retro_matches')
    with op.batch_alter_table('retro_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retro_runs_bank_id'))
    op.drop_table('retro_runs')
    op.drop_table('retro_cursors')
