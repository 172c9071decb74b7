"""budget reservations kept in two time-window slots, so a reservation its process never settled expires

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 17:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLOT_COLUMNS = ("reserved_0_micros", "reserved_0_window", "reserved_1_micros", "reserved_1_window")


def upgrade() -> None:
    """Apply this revision. Migrations run with no call in flight, so what `reserved_micros` still holds was left by
    processes that died mid-call: it is dropped, which is what the slots now do on their own."""
    with op.batch_alter_table("budget_counters", schema=None) as batch_op:
        batch_op.drop_column("reserved_micros")
        for name in SLOT_COLUMNS:
            default = "-1" if name.endswith("window") else "0"
            batch_op.add_column(sa.Column(name, sa.BigInteger(), nullable=False, server_default=default))


def downgrade() -> None:
    """Revert this revision; reservations in progress are dropped (run it with no call in flight)."""
    with op.batch_alter_table("budget_counters", schema=None) as batch_op:
        for name in SLOT_COLUMNS:
            batch_op.drop_column(name)
        batch_op.add_column(sa.Column("reserved_micros", sa.BigInteger(), nullable=False, server_default="0"))
