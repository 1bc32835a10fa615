"""family notices, push subscriptions, their sends, and one-time login codes

A senior's bound family is told (failed delivery, welfare alert, cancelled meal, a booking made
for their senior by someone else): each notice is a banner until read, and is sent after its
transaction commits through Web Push and the family webhook, one row per send with its tries.
Seniors who forgot their PIN may log in once with a code sent by SMS (only its hash is kept).

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "family_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("senior_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        _when("created_at"),
        _when("read_at", nullable=True),
        sa.Column("dispatched", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_family_notices_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["senior_id"],
            ["seniors.id"],
            name=op.f("fk_family_notices_senior_id_seniors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_notices")),
    )
    for column in ("account_id", "dispatched"):
        op.create_index(
            op.f(f"ix_family_notices_{column}"), "family_notices", [column], unique=False
        )
    op.create_table(
        "push_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("endpoint", sa.String(length=1000), nullable=False),
        sa.Column("p256dh", sa.String(length=200), nullable=False),
        sa.Column("auth", sa.String(length=100), nullable=False),
        _when("created_at"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_push_subscriptions_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_subscriptions")),
        sa.UniqueConstraint("endpoint", name=op.f("uq_push_subscriptions_endpoint")),
    )
    op.create_index(
        op.f("ix_push_subscriptions_account_id"), "push_subscriptions", ["account_id"], unique=False
    )
    op.create_table(
        "notice_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _when("next_attempt_at", nullable=True),
        _when("sent_at", nullable=True),
        sa.Column("last_error", sa.String(length=255), nullable=True),
        sa.Column("gave_up", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["family_notices.id"],
            name=op.f("fk_notice_sends_notice_id_family_notices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["push_subscriptions.id"],
            name=op.f("fk_notice_sends_subscription_id_push_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_sends")),
    )
    op.create_index(op.f("ix_notice_sends_notice_id"), "notice_sends", ["notice_id"], unique=False)
    op.create_index(
        op.f("ix_notice_sends_next_attempt_at"), "notice_sends", ["next_attempt_at"], unique=False
    )
    op.create_table(
        "login_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        _when("created_at"),
        _when("expires_at"),
        _when("used_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_login_codes_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_codes")),
    )
    op.create_index(op.f("ix_login_codes_account_id"), "login_codes", ["account_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_login_codes_account_id"), table_name="login_codes")
    op.drop_table("login_codes")
    op.drop_index(op.f("ix_notice_sends_next_attempt_at"), table_name="notice_sends")
    op.drop_index(op.f("ix_notice_sends_notice_id"), table_name="notice_sends")
    op.drop_table("notice_sends")
    op.drop_index(op.f("ix_push_subscriptions_account_id"), table_name="push_subscriptions")
    op.drop_table("push_subscriptions")
    for column in ("dispatched", "account_id"):
        op.drop_index(op.f(f"ix_family_notices_{column}"), table_name="family_notices")
    op.drop_table("family_notices")
