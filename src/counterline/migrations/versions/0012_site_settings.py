"""site settings edited in the admin console (site/models.py); archived branches and rooms

``site_settings`` holds one row per setting an administrator changed (key, JSON value); a
setting without a row takes the config file's value. ``branches.archived_at`` and
``rooms.archived_at`` mark what an administrator archived (kept, read-only). Downgrade drops
the table and both columns: stored settings are lost, archived rooms open again.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import counterline.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "site_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", counterline.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_site_settings_updated_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_site_settings")),
    )
    with op.batch_alter_table("branches", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("archived_at", counterline.db.UtcDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("archived_at", counterline.db.UtcDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    # Not batch mode: SQLite (3.35+) drops a plain column in place, where a batch would copy
    # the table and drop the old one, which the rows referring to it refuse.
    op.drop_column("rooms", "archived_at")
    op.drop_column("branches", "archived_at")
    op.drop_table("site_settings")
