"""review console and action pipeline: wellness settings, case views, breaks,
action schedules and delivery log, statements of reasons

Revision ID: 0105
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0105"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reviewer_settings",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("blur", sa.Boolean(), nullable=False),
        sa.Column("greyscale", sa.Boolean(), nullable=False),
        sa.Column("autoplay", sa.Boolean(), nullable=False),
        sa.Column("mute_audio", sa.Boolean(), nullable=False),
        sa.Column("break_after_items", sa.Integer(), nullable=False),
        sa.Column("break_after_minutes", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "case_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("viewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_views", schema=None) as batch_op:
        batch_op.create_index("ix_case_views_user_time", ["user_id", "viewed_at"], unique=False)

    op.create_table(
        "wellness_breaks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("wellness_breaks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wellness_breaks_user_id"), ["user_id"], unique=False)

    op.create_table(
        "action_schedules",
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("dead_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["action_id"], ["actions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("action_id"),
    )
    with op.batch_alter_table("action_schedules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_schedules_next_attempt_at"),
                              ["next_attempt_at"], unique=False)

    # Actions recorded before this migration: due now if they were still waiting.
    op.execute(
        "INSERT INTO action_schedules (action_id, next_attempt_at, max_attempts) "
        "SELECT id, CASE WHEN status IN ('pending', 'failed') THEN CURRENT_TIMESTAMP END, 8 "
        "FROM actions"
    )

    op.create_table(
        "action_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["action_id"], ["actions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("action_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_attempts_action_id"), ["action_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_action_attempts_started_at"), ["started_at"],
                              unique=False)

    op.create_table(
        "statements_of_reasons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("account", sa.String(length=512), nullable=True),
        sa.Column("restriction", sa.String(length=40), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["decision_id"], ["decisions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("statements_of_reasons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_statements_of_reasons_case_id"), ["case_id"],
                              unique=False)


def downgrade() -> None:
    op.drop_table("statements_of_reasons")
    op.drop_table("action_attempts")
    op.drop_table("action_schedules")
    op.drop_table("wellness_breaks")
    op.drop_table("case_views")
    op.drop_table("reviewer_settings")
