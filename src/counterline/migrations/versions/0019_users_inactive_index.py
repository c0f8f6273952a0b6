"""an index of deactivated accounts (accounts/models.py User, ix_users_inactive)

A partial index over the few deactivated accounts: a room's active members are counted as
its memberships less those accounts' (rooms.queries.count_members), on every room page,
without reading every member's row.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_users_inactive",
        "users",
        ["id"],
        sqlite_where=sa.text("active = 0"),
        postgresql_where=sa.text("active = false"),
    )


def downgrade() -> None:
    op.drop_index("ix_users_inactive", table_name="users")
