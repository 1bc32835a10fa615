"""Planning jobs on the job queue carry a heartbeat

The worker solving a dispatcher's re-plan writes a heartbeat while it runs; a job running whose
heartbeat is older than the lease (its worker died) is failed, so it is never "running" forever.

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("planning_jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "heartbeat_at",
                advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("planning_jobs", schema=None) as batch_op:
        batch_op.drop_column("heartbeat_at")
