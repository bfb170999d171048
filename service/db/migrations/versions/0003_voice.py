"""voice: the patient's channel and landline mark, call tries, a call's outcome

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(length=8), server_default="sms", nullable=False)
        )
        batch_op.add_column(
            sa.Column("landline", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempt", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("retry_of", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_checkins_retry_of"), ["retry_of"])
        batch_op.create_foreign_key(
            batch_op.f("fk_checkins_retry_of_messages"), "messages", ["retry_of"], ["id"]
        )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("outcome")
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_checkins_retry_of_messages"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_checkins_retry_of"), type_="unique")
        batch_op.drop_column("retry_of")
        batch_op.drop_column("attempt")
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_column("landline")
        batch_op.drop_column("channel")
