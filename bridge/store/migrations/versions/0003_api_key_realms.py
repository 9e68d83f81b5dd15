"""API keys scoped to realms: api_keys.realms (NULL: every realm, as every existing key stays).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable with no default: the keys already there read as NULL, i.e. every realm, as before.
    op.add_column("api_keys", sa.Column("realms", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    # Without the column a realm key would work on every realm: revoke those keys rather than widen them.
    api_keys = sa.table(
        "api_keys", sa.column("realms", sa.JSON(none_as_null=True)), sa.column("revoked_at", sa.DateTime)
    )
    op.execute(
        api_keys.update()
        .where(api_keys.c.realms.is_not(None), api_keys.c.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("realms")
