"""menu cycles, job runs and the reason a booking was cancelled

Menu cycles (a rotation of set meals per group of sites) from which menus are published ahead
by a scheduled job; one row per run of a scheduled job, whose unique (task, run_key) makes a tick
run once however many workers pick it up; bookings keep why they were cancelled when a set meal
was taken off a published menu, and that set meal is kept as withdrawn while bookings name it.

Revision ID: 0015
Revises: 0013
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)


def upgrade() -> None:
    op.create_table(
        "menu_cycles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("weeks", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_menu_cycles")),
        sa.UniqueConstraint("name", name=op.f("uq_menu_cycles_name")),
    )
    op.create_table(
        "menu_cycle_sites",
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["menu_cycles.id"],
            name=op.f("fk_menu_cycle_sites_cycle_id_menu_cycles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_menu_cycle_sites_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("cycle_id", "site_id", name=op.f("pk_menu_cycle_sites")),
        sa.UniqueConstraint("site_id", name=op.f("uq_menu_cycle_sites_site_id")),
    )
    op.create_table(
        "menu_cycle_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("day_index", sa.Integer(), nullable=False),
        sa.Column(
            "slot",
            sa.Enum("lunch", "dinner", name="slot", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("name_en", sa.String(length=120), nullable=False),
        sa.Column("list_price_fen", sa.Integer(), nullable=False),
        sa.Column("portions", sa.Integer(), nullable=True),
        sa.Column("dish_ids", sa.JSON(), nullable=False),
        sa.CheckConstraint("list_price_fen >= 0", name=op.f("ck_menu_cycle_items_cycle_price")),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["menu_cycles.id"],
            name=op.f("fk_menu_cycle_items_cycle_id_menu_cycles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_menu_cycle_items")),
        sa.UniqueConstraint(
            "cycle_id", "day_index", "slot", "code", name=op.f("uq_menu_cycle_items_cycle_id")
        ),
    )
    op.create_index(
        op.f("ix_menu_cycle_items_cycle_id"), "menu_cycle_items", ["cycle_id"], unique=False
    )
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task", sa.String(length=60), nullable=False),
        sa.Column("run_key", sa.String(length=80), nullable=False),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("finished_at", UTC, nullable=True),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
        sa.UniqueConstraint("task", "run_key", name=op.f("uq_job_runs_task")),
    )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancel_reason", sa.String(length=300), nullable=True))
    with op.batch_alter_table("menu_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_at", UTC, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("menu_items", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_at")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_column("cancel_reason")
    op.drop_table("job_runs")
    op.drop_index(op.f("ix_menu_cycle_items_cycle_id"), table_name="menu_cycle_items")
    op.drop_table("menu_cycle_items")
    op.drop_table("menu_cycle_sites")
    op.drop_table("menu_cycles")
