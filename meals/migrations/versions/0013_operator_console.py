"""operator console: seniors can be deactivated, versioned subsidy policy, family-binding
requests with recorded consent

Seniors, sites, vans and dishes gain `active`; the kitchen's departure waves become data; subsidy tiers belong to a policy version with an effective date (a
booking is priced by the version in force on the day it is made; existing tiers become the
first version, in force from their earliest start); a family member's request to be bound to
a senior is kept with who consented (the senior, or staff with the senior present) and when,
and who ended it.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)


def upgrade() -> None:
    # Plain ADD COLUMN on the tables with `active`: a batch copy of `seniors` on SQLite would lose the trigger
    # that raises its profile version (migration 0007).
    op.add_column(
        "seniors", sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
    )
    op.add_column(
        "sites", sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
    )
    op.add_column(
        "dishes", sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
    )
    op.add_column(
        "vans", sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
    )
    op.create_table(
        "departure_waves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "slot",
            sa.Enum(
                "lunch", "dinner", name="slot", native_enum=False, create_constraint=True, length=6
            ),
            nullable=False,
        ),
        sa.Column("departs_at", sa.Time(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departure_waves")),
        sa.UniqueConstraint("slot", "departs_at", name=op.f("uq_departure_waves_slot")),
    )
    op.create_table(
        "subsidy_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False, server_default=""),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_policies")),
        sa.UniqueConstraint("effective_from", name=op.f("uq_subsidy_policies_effective_from")),
    )
    # subsidy_tiers has no trigger: SQLite adds the foreign key by copying the table.
    with op.batch_alter_table("subsidy_tiers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "policy_id",
                sa.Integer(),
                sa.ForeignKey(
                    "subsidy_policies.id",
                    name=op.f("fk_subsidy_tiers_policy_id_subsidy_policies"),
                    ondelete="CASCADE",
                ),
                nullable=True,
            )
        )
        batch_op.create_index(batch_op.f("ix_subsidy_tiers_policy_id"), ["policy_id"])
    bind = op.get_bind()
    first = bind.execute(sa.text("SELECT MIN(valid_from) FROM subsidy_tiers")).scalar()
    if first is not None:
        bind.execute(
            sa.text(
                "INSERT INTO subsidy_policies (name, effective_from, note, created_at, created_by)"
                " VALUES (:name, :day, '', CURRENT_TIMESTAMP, 'migration')"
            ),
            {"name": "Policy in force before the console", "day": first},
        )
        bind.execute(
            sa.text("UPDATE subsidy_tiers SET policy_id = (SELECT MIN(id) FROM subsidy_policies)")
        )
    op.create_table(
        "family_binding_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_account_id", sa.Integer(), nullable=False),
        sa.Column("senior_id", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("requested_at", WHEN, nullable=False),
        sa.Column("decided_at", WHEN, nullable=True),
        sa.Column("consent_by", sa.String(length=20), nullable=True),
        sa.Column("decided_by_account_id", sa.Integer(), nullable=True),
        sa.Column("ended_at", WHEN, nullable=True),
        sa.Column("ended_by_account_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["family_account_id"],
            ["accounts.id"],
            name=op.f("fk_family_binding_requests_family_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["senior_id"],
            ["seniors.id"],
            name=op.f("fk_family_binding_requests_senior_id_seniors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_binding_requests")),
    )
    for column in ("family_account_id", "senior_id"):
        op.create_index(
            op.f(f"ix_family_binding_requests_{column}"), "family_binding_requests", [column]
        )


def downgrade() -> None:
    for column in ("senior_id", "family_account_id"):
        op.drop_index(
            op.f(f"ix_family_binding_requests_{column}"), table_name="family_binding_requests"
        )
    op.drop_table("family_binding_requests")
    with op.batch_alter_table("subsidy_tiers", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_subsidy_tiers_policy_id_subsidy_policies"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_subsidy_tiers_policy_id"))
        batch_op.drop_column("policy_id")
    op.drop_table("subsidy_policies")
    op.drop_table("departure_waves")
    op.drop_column("vans", "active")
    op.drop_column("dishes", "active")
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy of `seniors` would lose the trigger that
    # raises its profile version (migration 0007).
    op.drop_column("sites", "active")
    op.drop_column("seniors", "active")
