"""legal: the queue of statements for the DSA Transparency Database (issue 14)

Revision ID: 0131
Revises: 0001 (depends on 0105)
"""
import sqlalchemy as sa
from alembic import op

revision = "0131"
down_revision = "0001"
branch_labels = None
depends_on = "0105"  # statements_of_reasons (review) must exist first


def upgrade() -> None:
    op.create_table(
        "tdb_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("puid", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_token", sa.String(length=40), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["statement_id"], ["statements_of_reasons.id"],
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("puid"),
        sa.UniqueConstraint("statement_id"),
    )
    with op.batch_alter_table("tdb_submissions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tdb_submissions_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tdb_submissions_next_attempt_at"),
                              ["next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_tdb_submissions_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tdb_submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tdb_submissions_status"))
        batch_op.drop_index(batch_op.f("ix_tdb_submissions_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_tdb_submissions_case_id"))
    op.drop_table("tdb_submissions")
