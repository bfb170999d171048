"""staff accounts, sessions and one-time links

Revision ID: 0004
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import service.db.models

revision: str = "0004"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = service.db.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("disabled_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_staff_users_clinic_id_clinics")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_users_email")),
    )
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_users_clinic_id"), ["clinic_id"], unique=False)
    for table in ("staff_sessions", "staff_tokens"):
        extra: list[sa.Column[object]] = (
            [
                sa.Column("last_seen_at", WHEN, nullable=False),
                sa.Column("revoked_at", WHEN, nullable=True),
            ]
            if table == "staff_sessions"
            else [
                sa.Column("expires_at", WHEN, nullable=False),
                sa.Column("used_at", WHEN, nullable=True),
            ]
        )
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("token_hash", sa.String(length=64), nullable=False),
            sa.Column("staff_id", sa.Integer(), nullable=False),
            sa.Column("created_at", WHEN, nullable=False),
            *extra,
            sa.ForeignKeyConstraint(
                ["staff_id"], ["staff_users.id"], name=op.f(f"fk_{table}_staff_id_staff_users")
            ),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
            sa.UniqueConstraint("token_hash", name=op.f(f"uq_{table}_token_hash")),
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_staff_id"), ["staff_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("staff_tokens")
    op.drop_table("staff_sessions")
    op.drop_table("staff_users")
