"""incoming hooks: secret URLs that post into a room as a bot (hooks/models.py)

``incoming_hooks`` holds each hook (its secret only as a SHA-256 hash), its room and the
inactive bot account it posts as; ``incoming_hook_authors`` the further bots of a hook that
lets a post choose its ``username``. Downgrade drops both tables; the bot accounts and their
messages stay.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import counterline.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incoming_hooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("bot_user_id", sa.Integer(), nullable=False),
        sa.Column("allow_username_override", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", counterline.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", counterline.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["bot_user_id"], ["users.id"], name=op.f("fk_incoming_hooks_bot_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_incoming_hooks_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
            name=op.f("fk_incoming_hooks_room_id_rooms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incoming_hooks")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_incoming_hooks_token_hash")),
    )
    with op.batch_alter_table("incoming_hooks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incoming_hooks_room_id"), ["room_id"], unique=False)
    op.create_table(
        "incoming_hook_authors",
        sa.Column("hook_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hook_id"],
            ["incoming_hooks.id"],
            name=op.f("fk_incoming_hook_authors_hook_id_incoming_hooks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_incoming_hook_authors_user_id_users")
        ),
        sa.PrimaryKeyConstraint("hook_id", "name", name=op.f("pk_incoming_hook_authors")),
    )


def downgrade() -> None:
    op.drop_table("incoming_hook_authors")
    with op.batch_alter_table("incoming_hooks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incoming_hooks_room_id"))
    op.drop_table("incoming_hooks")
