"""exchanges (issue 13): HMA's signal exchanges and their API credentials

Revision ID: 0121
Revises: 0120
"""
import sqlalchemy as sa
from alembic import op

revision = "0121"
down_revision = "0120"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchanges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("api", sa.String(length=80), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("checkpoint", sa.JSON(), nullable=True),
        sa.Column("checkpoint_ts", sa.Float(), nullable=True),
        sa.Column("running_fetch_start_ts", sa.Float(), nullable=True),
        sa.Column("last_fetch_complete_ts", sa.Float(), nullable=True),
        sa.Column("last_fetch_succeeded", sa.Boolean(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("fetched_items", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "exchange_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("api", sa.String(length=80), nullable=False),
        sa.Column("credentials", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("api"),
    )


def downgrade() -> None:
    op.drop_table("exchange_credentials")
    op.drop_table("exchanges")
