"""one open emergency escalation per patient

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 07:10:00

Two emergencies of one patient written at the same moment could each open an escalation
(each read saw none open), so the chain was paged twice. A partial unique index now lets
only one emergency escalation per patient be open or unacknowledged; the write that loses
joins the winner.

Duplicates already stored are resolved first, never dropped: per patient the oldest open
emergency is kept (it goes on paging); each other one gives its inbound messages (what the
patient wrote) to the kept one, is marked `acknowledged` by "merged into escalation:<id>"
via "merge" (so it stops paging and shows in the dashboard's recently acknowledged list,
naming where its messages went), and an `escalation.merge` audit event records it. Its
pages stay with it: they are what was sent for it.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "uq_escalations_open_emergency"
WHERE = "reason = 'emergency' AND status IN ('open', 'unacknowledged')"


def upgrade() -> None:
    """Apply this revision."""
    merge_duplicates(op.get_bind())
    op.create_index(
        INDEX,
        "escalations",
        ["patient_id"],
        unique=True,
        postgresql_where=sa.text(WHERE),
        sqlite_where=sa.text(WHERE),
    )


def merge_duplicates(connection: sa.Connection) -> None:
    """Keep each patient's oldest open emergency; fold the others into it (see above)."""
    rows = connection.execute(
        sa.text(
            "SELECT id, patient_id, clinic_id FROM escalations"
            f" WHERE {WHERE} ORDER BY patient_id, id"
        )
    ).all()
    now = datetime.now(UTC)
    audit = sa.table(
        "audit_events",
        sa.column("clinic_id", sa.Integer),
        sa.column("actor", sa.String),
        sa.column("action", sa.String),
        sa.column("subject", sa.String),
        sa.column("detail", sa.JSON),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    kept: dict[int, int] = {}
    for escalation_id, patient_id, clinic_id in rows:
        keep = kept.setdefault(patient_id, escalation_id)
        if keep == escalation_id:
            continue
        params: dict[str, object] = {"keep": keep, "other": escalation_id, "now": now}
        connection.execute(
            sa.text(
                "UPDATE messages SET escalation_id = :keep"
                " WHERE escalation_id = :other AND direction = 'inbound'"
            ),
            params,
        )
        connection.execute(
            sa.text(
                "UPDATE escalations SET status = 'acknowledged', acknowledged_at = :now,"
                " acknowledged_by = :by, acknowledged_via = 'merge', next_page_at = NULL"
                " WHERE id = :other"
            ).bindparams(sa.bindparam("now", type_=sa.DateTime(timezone=True))),
            params | {"by": f"merged into escalation:{keep}"},
        )
        connection.execute(
            audit.insert().values(
                clinic_id=clinic_id,
                actor="migration:0008",
                action="escalation.merge",
                subject=f"escalation:{escalation_id}",
                detail={"into": keep},
                created_at=now,
            )
        )


def downgrade() -> None:
    """Revert this revision (merged escalations stay merged)."""
    op.drop_index(INDEX, table_name="escalations")
