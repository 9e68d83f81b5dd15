"""Count verifications in flight apart from settled failures, so a user's own codes never lock them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # batch mode: SQLite cannot add a NOT NULL column without a default otherwise; existing rows
    # have nothing in flight.
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("in_flight", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("in_flight_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("in_flight_batch", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("in_flight_batch")
        batch.drop_column("in_flight_until")
        batch.drop_column("in_flight")
