"""audit log and nutrition per dish portion

The audit log keeps every change an operator or staff member makes (who, when, what, before
and after); dishes gain their nutrition per portion (energy, protein, fat, carbohydrate,
sodium), shown to seniors beside each set meal.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NUTRITION = (
    ("energy_kcal", sa.Integer()),
    ("protein_g", sa.Float()),
    ("fat_g", sa.Float()),
    ("carbohydrate_g", sa.Float()),
    ("sodium_mg", sa.Integer()),
)


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("account_name", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=40), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    for column in ("at", "account_id", "entity", "site_id"):
        op.create_index(op.f(f"ix_audit_log_{column}"), "audit_log", [column], unique=False)
    with op.batch_alter_table("dishes", schema=None) as batch_op:
        for name, kind in NUTRITION:
            batch_op.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dishes", schema=None) as batch_op:
        for name, _kind in reversed(NUTRITION):
            batch_op.drop_column(name)
    for column in ("site_id", "entity", "account_id", "at"):
        op.drop_index(op.f(f"ix_audit_log_{column}"), table_name="audit_log")
    op.drop_table("audit_log")
