"""jobs remember a keyed fingerprint of their request, so an idempotency key reused for a different request is refused

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision. Existing jobs keep a NULL fingerprint: their keys match any request, as before."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_fingerprint", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Revert this revision. Batch mode, because SQLite can only drop a column by copying the table."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("request_fingerprint")
