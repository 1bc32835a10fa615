"""settlement: corrections, closed months, satisfaction callbacks, the viewer role

Corrections record who changed a meal's outcome and why, and the month it counts in; a
closed month keeps its frozen figures and the outcome of every booking behind them;
callbacks are the monthly satisfaction calls; accounts may have the read-only viewer role
(civil affairs).

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = ("senior", "family", "site_staff", "kitchen", "driver", "admin")
NEW_ROLES = (*OLD_ROLES, "viewer")
STATUSES = ("booked", "cancelled", "served", "delivered", "no_show")


def _roles_check(roles: Sequence[str]) -> str:
    return "role IN (" + ", ".join(f"'{role}'" for role in roles) + ")"


def _set_roles(roles: Sequence[str]) -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_constraint("role", type_="check")
        batch_op.create_check_constraint("role", _roles_check(roles))


def _status(name: str) -> sa.Column:
    return sa.Column(
        name,
        sa.Enum(*STATUSES, name=name, native_enum=False, create_constraint=True),
        nullable=False,
    )


def upgrade() -> None:
    _set_roles(NEW_ROLES)
    op.create_table(
        "booking_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        _status("from_status"),
        _status("to_status"),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("account_name", sa.String(length=80), nullable=False),
        sa.Column(
            "corrected_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.Column("settle_month", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_booking_corrections_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_booking_corrections_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_corrections")),
    )
    with op.batch_alter_table("booking_corrections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_booking_corrections_booking_id"), ["booking_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_booking_corrections_settle_month"), ["settle_month"], unique=False
        )
    op.create_table(
        "settlement_months",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month_start", sa.Date(), nullable=False),
        sa.Column(
            "closed_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.Column("closed_by_account_id", sa.Integer(), nullable=True),
        sa.Column("closed_by_name", sa.String(length=80), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["closed_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_settlement_months_closed_by_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_months")),
        sa.UniqueConstraint("month_start", name=op.f("uq_settlement_months_month_start")),
    )
    op.create_table(
        "settlement_items",
        sa.Column("month_id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["month_id"],
            ["settlement_months.id"],
            name=op.f("fk_settlement_items_month_id_settlement_months"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("month_id", "booking_id", name=op.f("pk_settlement_items")),
    )
    op.create_table(
        "satisfaction_callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month_start", sa.Date(), nullable=False),
        sa.Column("senior_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("stratum", sa.String(length=32), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column(
            "drawn_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.Column("reached", sa.Boolean(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("remarks", sa.String(length=500), nullable=True),
        sa.Column(
            "called_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True
        ),
        sa.Column("called_by_account_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "score IS NULL OR (score >= 1 AND score <= 5)",
            name=op.f("ck_satisfaction_callbacks_score"),
        ),
        sa.ForeignKeyConstraint(
            ["called_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_satisfaction_callbacks_called_by_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["senior_id"],
            ["seniors.id"],
            name=op.f("fk_satisfaction_callbacks_senior_id_seniors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_satisfaction_callbacks_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_satisfaction_callbacks")),
        sa.UniqueConstraint(
            "month_start", "senior_id", name=op.f("uq_satisfaction_callbacks_month_start")
        ),
    )


def downgrade() -> None:
    op.drop_table("satisfaction_callbacks")
    op.drop_table("settlement_items")
    op.drop_table("settlement_months")
    with op.batch_alter_table("booking_corrections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_booking_corrections_settle_month"))
        batch_op.drop_index(batch_op.f("ix_booking_corrections_booking_id"))
    op.drop_table("booking_corrections")
    op.execute("DELETE FROM accounts WHERE role = 'viewer'")
    _set_roles(OLD_ROLES)
