"""one plan of the day: a run packs for one route plan; hot and cold box loads; 留样 records

A production run now names the route plan it packs for and keeps the home-delivery bookings
it froze (a re-plan re-flows them); route runs and stops carry cold boxes beside hot ones,
and the van's cold capacity; kitchen staff record each retained sample.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("production_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("route_plan_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("home_booking_ids", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.create_foreign_key(
            op.f("fk_production_runs_route_plan_id_route_plans"),
            "route_plans",
            ["route_plan_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("route_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("load_cold_boxes", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("cold_capacity_boxes", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("route_stops", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cold_boxes", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "sample_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("slot", sa.String(length=10), nullable=False),
        sa.Column("batch_id", sa.String(length=20), nullable=False),
        sa.Column("dish_name", sa.String(length=80), nullable=False),
        sa.Column(
            "sampled_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.Column("grams", sa.Integer(), nullable=False),
        sa.Column("fridge_celsius", sa.Float(), nullable=False),
        sa.Column("staff_name", sa.String(length=80), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column(
            "recorded_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_sample_records_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sample_records")),
        sa.UniqueConstraint(
            "service_date", "slot", "batch_id", name=op.f("uq_sample_records_service_date")
        ),
    )


def downgrade() -> None:
    op.drop_table("sample_records")
    with op.batch_alter_table("route_stops", schema=None) as batch_op:
        batch_op.drop_column("cold_boxes")
    with op.batch_alter_table("route_runs", schema=None) as batch_op:
        batch_op.drop_column("cold_capacity_boxes")
        batch_op.drop_column("load_cold_boxes")
    with op.batch_alter_table("production_runs", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("fk_production_runs_route_plan_id_route_plans"), type_="foreignkey"
        )
        batch_op.drop_column("home_booking_ids")
        batch_op.drop_column("route_plan_id")
