"""server-side sessions

Login sessions move from the encrypted cookie into `web_sessions` (the cookie keeps only a
random id), so logout, deactivation and role, site or PIN changes end them at once; accounts
get a `security_stamp` raised by each such change. Login attempts are looked up by client
address too (back-off per address). Seniors get `card_issue`, signed into the meal-card QR:
re-issuing a card revokes the QR codes printed before.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import advanced_alchemy
import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("security_stamp", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
    # Plain ALTER TABLE, not a batch: rebuilding `seniors` on SQLite would lose the trigger of
    # migration 0007.
    op.add_column(
        "seniors",
        sa.Column("card_issue", sa.Integer(), server_default=sa.text("1"), nullable=False),
    )
    when = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("last_seen_at", when, nullable=False),
        sa.Column("expires_at", when, nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_web_sessions_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_web_sessions")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_account_id"), ["account_id"])
        batch_op.create_index(batch_op.f("ix_web_sessions_expires_at"), ["expires_at"])
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_attempts_client_ip"), ["client_ip"])


def downgrade() -> None:
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_attempts_client_ip"))
    op.drop_table("web_sessions")
    op.drop_column("seniors", "card_issue")  # SQLite 3.35+ drops a column in place
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("security_stamp")
