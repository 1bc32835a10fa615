"""One planning job in the making per date and slot

Two requests to plan the same meal could both pass the service's check on PostgreSQL and queue
two jobs. A partial unique index on the open jobs refuses the second one; open duplicates left
by that race are failed first (the newest is kept).

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status IN ('queued', 'running')"


def upgrade() -> None:
    op.execute(
        sa.text(
            "UPDATE planning_jobs SET status = 'failed', error_code = 'duplicate', "
            "error = 'Another plan of this meal was being made at the same time.' "
            f"WHERE {OPEN} AND id NOT IN ("
            f"SELECT max(id) FROM planning_jobs WHERE {OPEN} GROUP BY service_date, slot)"
        )
    )
    op.create_index(
        "uq_planning_jobs_open_day",
        "planning_jobs",
        ["service_date", "slot"],
        unique=True,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )


def downgrade() -> None:
    op.drop_index("uq_planning_jobs_open_day", table_name="planning_jobs")
