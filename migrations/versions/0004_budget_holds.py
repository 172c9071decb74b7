"""budget holds: one row per call in progress, so a killed process's reservations expire instead of lasting the month

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 17:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "budget_holds",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("micros", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_holds")),
    )
    with op.batch_alter_table("budget_holds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_budget_holds_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("budget_holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_budget_holds_expires_at"))
    op.drop_table("budget_holds")
