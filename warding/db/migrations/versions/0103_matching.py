"""match engine: change feed and state

Revision ID: 0103
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = '0103'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('match_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('bank_id', sa.Integer(), nullable=True),
    sa.Column('first_entry', sa.BigInteger(), nullable=True),
    sa.Column('last_entry', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('match_state',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )


def downgrade() -> None:
    op.drop_table('match_state')
    op.drop_table('match_changes')
