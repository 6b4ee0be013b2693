"""semantic matching: bank text embeddings

Revision ID: 0104
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = '0104'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('semantic_bank_texts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('bank_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('model', sa.String(length=120), nullable=False),
    sa.Column('dim', sa.Integer(), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bank_id'], ['banks.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['bank_entries.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('entry_id', name='uq_semantic_bank_text_entry')
    )
    with op.batch_alter_table('semantic_bank_texts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_semantic_bank_texts_bank_id'), ['bank_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('semantic_bank_texts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_semantic_bank_texts_bank_id'))
    op.drop_table('semantic_bank_texts')
