"""HMA compatibility (issue 13): a bank's matching ratio, an entry's disable-until time and
its HMA metadata

Revision ID: 0120
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0120"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("banks") as batch:
        batch.add_column(sa.Column("match_ratio", sa.Float(), nullable=False,
                                   server_default="1.0"))
    with op.batch_alter_table("bank_entries") as batch:
        batch.add_column(sa.Column("disabled_until", sa.Float(), nullable=True))
        batch.add_column(sa.Column("hma_metadata", sa.JSON(), nullable=True))
        batch.create_index("ix_bank_entries_disabled_until", ["disabled_until"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bank_entries") as batch:
        batch.drop_index("ix_bank_entries_disabled_until")
        batch.drop_column("hma_metadata")
        batch.drop_column("disabled_until")
    with op.batch_alter_table("banks") as batch:
        batch.drop_column("match_ratio")
