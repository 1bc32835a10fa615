"""senior profile version

Every change to a senior's row raises `profile_version` (a trigger, so direct edits count
too; a later migration that rebuilds the SQLite table must create the trigger again).
Bookings may then take a senior's profile from memory and still never price or check
on an old one: the booking statement goes through only while the version is unchanged.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGER = "seniors_profile_version"


def upgrade() -> None:
    with op.batch_alter_table("seniors", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("profile_version", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )
    if _postgresql():
        op.execute(
            f"""
            CREATE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                NEW.profile_version := OLD.profile_version + 1;
                RETURN NEW;
            END
            $$
            """
        )
        op.execute(
            f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE ON seniors "
            f"FOR EACH ROW EXECUTE FUNCTION {TRIGGER}()"
        )
    else:
        # Fires once per change: its own update leaves the versions different.
        op.execute(
            f"""
            CREATE TRIGGER {TRIGGER} AFTER UPDATE ON seniors
            FOR EACH ROW WHEN NEW.profile_version = OLD.profile_version
            BEGIN
                UPDATE seniors SET profile_version = OLD.profile_version + 1 WHERE id = NEW.id;
            END
            """
        )


def downgrade() -> None:
    op.execute(f"DROP TRIGGER {TRIGGER}" + (" ON seniors" if _postgresql() else ""))
    if _postgresql():
        op.execute(f"DROP FUNCTION {TRIGGER}()")
    with op.batch_alter_table("seniors", schema=None) as batch_op:
        batch_op.drop_column("profile_version")


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"
