"""image_texts (issue 21): text read from items' images, with its language, script,
confidence and classifier score

Revision ID: 0150
Revises: 0001

"""
import sqlalchemy as sa
from alembic import op

revision = "0150"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('image_texts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('part', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('lang', sa.String(length=16), nullable=True),
    sa.Column('script', sa.String(length=16), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('model', sa.String(length=40), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('label', sa.String(length=40), nullable=True),
    sa.Column('violating', sa.Boolean(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['content_items.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('item_id', 'position', 'part', name='uq_image_texts_position')
    )
    op.create_index(op.f('ix_image_texts_item_id'), 'image_texts', ['item_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_image_texts_item_id'), table_name='image_texts')
    op.drop_table('image_texts')
