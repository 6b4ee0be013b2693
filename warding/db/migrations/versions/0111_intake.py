"""intake: the outbox of webhook events (issue 13)

Revision ID: 0111
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0111"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=60), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_events_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_webhook_events_next_attempt_at"),
                              ["next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_webhook_events_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_events_status"))
        batch_op.drop_index(batch_op.f("ix_webhook_events_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_webhook_events_case_id"))
    op.drop_table("webhook_events")
