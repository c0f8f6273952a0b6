"""scoped API tokens, bot accounts and outgoing webhooks (bots/models.py)

``api_tokens`` gains ``scopes`` (space-separated: read, post, admin) and ``expires_at``;
tokens made before keep every right of their user: ``read post``, and ``admin`` too for
administrators' tokens. ``bots`` marks the user rows administrators made for programs;
``outgoing_hooks`` and ``outgoing_hook_authors`` hold outgoing webhooks and the bots their
answers are posted as. Downgrade drops the three tables and the two columns; the bot
accounts and their messages stay.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import counterline.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scopes", sa.String(length=64), server_default="read post", nullable=False)
        )
        batch_op.add_column(
            sa.Column("expires_at", counterline.db.UtcDateTime(timezone=True), nullable=True)
        )
    op.execute(
        "UPDATE api_tokens SET scopes = 'read post admin' "
        "WHERE user_id IN (SELECT id FROM users WHERE role = 'admin')"
    )
    op.create_table(
        "bots",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", counterline.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_bots_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_bots_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_bots")),
    )
    op.create_table(
        "outgoing_hooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("trigger_words", sa.String(length=1100), nullable=False),
        sa.Column("callback_url", sa.String(length=2000), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("bot_user_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", counterline.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", counterline.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["bot_user_id"], ["users.id"], name=op.f("fk_outgoing_hooks_bot_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_outgoing_hooks_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
            name=op.f("fk_outgoing_hooks_room_id_rooms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outgoing_hooks")),
    )
    with op.batch_alter_table("outgoing_hooks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outgoing_hooks_room_id"), ["room_id"], unique=False)
    op.create_table(
        "outgoing_hook_authors",
        sa.Column("hook_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hook_id"],
            ["outgoing_hooks.id"],
            name=op.f("fk_outgoing_hook_authors_hook_id_outgoing_hooks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_outgoing_hook_authors_user_id_users")
        ),
        sa.PrimaryKeyConstraint("hook_id", "name", name=op.f("pk_outgoing_hook_authors")),
    )


def downgrade() -> None:
    op.drop_table("outgoing_hook_authors")
    with op.batch_alter_table("outgoing_hooks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outgoing_hooks_room_id"))
    op.drop_table("outgoing_hooks")
    op.drop_table("bots")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
        batch_op.drop_column("scopes")
