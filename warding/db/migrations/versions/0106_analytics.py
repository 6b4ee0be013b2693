"""analytics: event annotations and liveness observations (issue 6)

Revision ID: 0106
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0106"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_annotations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("event_annotations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_annotations_day"), ["day"], unique=False)

    op.create_table(
        "liveness_observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=20), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("account", sa.String(length=512), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["content_items.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("liveness_observations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_liveness_observations_checked_at"), ["checked_at"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_liveness_observations_item_id"), ["item_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_liveness_observations_status"), ["status"],
                              unique=False)
        batch_op.create_index("ix_liveness_source_account", ["source", "account"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("liveness_observations", schema=None) as batch_op:
        batch_op.drop_index("ix_liveness_source_account")
        batch_op.drop_index(batch_op.f("ix_liveness_observations_status"))
        batch_op.drop_index(batch_op.f("ix_liveness_observations_item_id"))
        batch_op.drop_index(batch_op.f("ix_liveness_observations_checked_at"))
    op.drop_table("liveness_observations")
    with op.batch_alter_table("event_annotations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_annotations_day"))
    op.drop_table("event_annotations")
