"""partial indexes for the dispatcher

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-01 02:40:00

The dispatcher asks every few seconds for pending messages, sends stuck in `sending`,
unfinished emergencies and due check-ins. Without these, PostgreSQL scans the whole
`messages` table each time (180 ms at a million rows); with them the cost follows the rows
in those states. Two full indexes that served the same questions (check-ins by status and
due time, messages by `processed`) grow with the history; their partial forms replace them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = [
    ("ix_checkins_scheduled_due", "checkins", "due_at", "status = 'scheduled'", None),
    ("ix_messages_pending", "messages", "id", "status = 'pending'", None),
    ("ix_messages_sending_updated", "messages", "updated_at", "status = 'sending'", None),
    ("ix_messages_unprocessed", "messages", "id", "processed IS false", "processed IS 0"),
]


def upgrade() -> None:
    """Apply this revision."""
    op.drop_index("ix_checkins_status_due", table_name="checkins")
    op.drop_index("ix_messages_processed", table_name="messages")
    for name, table, column, where, sqlite_where in INDEXES:
        op.create_index(
            name,
            table,
            [column],
            postgresql_where=sa.text(where),
            sqlite_where=sa.text(sqlite_where or where),
        )


def downgrade() -> None:
    """Revert this revision."""
    for name, table, _column, _where, _sqlite in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    op.create_index("ix_messages_processed", "messages", ["processed"])
    op.create_index("ix_checkins_status_due", "checkins", ["status", "due_at"])
