"""lighter booking insert

The idempotency index only holds bookings that carry a key, and the copied site and menu
of a booking lose their own foreign keys (the set meal's key already protects both, and
the booking statement takes them from the set meal's menu row).

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WITH_KEY = sa.text("idempotency_key IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_constraint("fk_bookings_site_id_sites", type_="foreignkey")
        batch_op.drop_constraint("fk_bookings_menu_id_menus", type_="foreignkey")
        batch_op.drop_constraint("uq_bookings_account_id", type_="unique")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index(
            "uq_bookings_account_id",
            ["account_id", "idempotency_key"],
            unique=True,
            sqlite_where=WITH_KEY,
            postgresql_where=WITH_KEY,
        )


def downgrade() -> None:
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index("uq_bookings_account_id")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            "uq_bookings_account_id", ["account_id", "idempotency_key"]
        )
        batch_op.create_foreign_key("fk_bookings_menu_id_menus", "menus", ["menu_id"], ["id"])
        batch_op.create_foreign_key("fk_bookings_site_id_sites", "sites", ["site_id"], ["id"])
