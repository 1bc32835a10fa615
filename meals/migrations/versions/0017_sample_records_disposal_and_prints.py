"""留样 disposal and the kitchen's last print

A sample kept its 48 h is thrown away and marked so (who and when), so the 留样 page lists only
the samples still waiting. A production run remembers when one of its sheets was first printed
or downloaded, so the kitchen page can list the labels that moved since the paper in the kitchen.

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sample_records", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "disposed_at",
                advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("disposed_by_account_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_sample_records_disposed_by_account_id_accounts"),
            "accounts",
            ["disposed_by_account_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("production_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "printed_at",
                advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("production_runs", schema=None) as batch_op:
        batch_op.drop_column("printed_at")
    with op.batch_alter_table("sample_records", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_sample_records_disposed_by_account_id_accounts"), type_="foreignkey"
        )
        batch_op.drop_column("disposed_by_account_id")
        batch_op.drop_column("disposed_at")
