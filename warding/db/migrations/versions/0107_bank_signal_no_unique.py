"""bank_signals: drop the (entry_id, signal_type, value) unique constraint

Every writer already de-duplicates an entry's signals, and the constraint's index held the
value a third time: it made bulk imports about a fifth slower and the table a third larger.

Revision ID: 0107
Revises: 0103
"""
from alembic import op

revision = '0107'
down_revision = '0103'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bank_signals') as batch:
        batch.drop_constraint('uq_bank_signal', type_='unique')


def downgrade() -> None:
    with op.batch_alter_table('bank_signals') as batch:
        batch.create_unique_constraint('uq_bank_signal', ['entry_id', 'signal_type', 'value'])
