"""mentions, the inbox and notification settings

``messages.mentions`` holds what a message's ``@tokens`` resolved to when it was posted (JSON,
null when none). ``message_addressees`` is the inbox: one row per person and message
addressed to them (a direct message, a mention of them, their branch, their role or
everyone), keyed (user_id, message_id) so a page of someone's inbox, newest first, is a
range of the primary key. Users gain ``notify_level`` (all / mentions / none, default
mentions) and ``notify_sound`` (default off); memberships gain ``muted`` (default off).

Plain ``ADD COLUMN`` with server defaults, not batch mode: on SQLite, batch mode copies a
table, and dropping the old copy would cascade to memberships, revisions and attachments.
Messages posted before this revision have no mentions and are in nobody's inbox.

Downgrade drops the table and the four columns (SQLite 3.35+ drops an unindexed column in
place).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 04:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("messages", "mentions"),
    ("users", "notify_level"),
    ("users", "notify_sound"),
    ("room_members", "muted"),
)


def upgrade() -> None:
    op.create_table(
        "message_addressees",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_message_addressees_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
            name=op.f("fk_message_addressees_room_id_rooms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_message_addressees_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "message_id", name=op.f("pk_message_addressees")),
    )
    op.add_column("messages", sa.Column("mentions", sa.JSON(none_as_null=True), nullable=True))
    op.add_column(
        "users",
        sa.Column("notify_level", sa.String(length=8), server_default="mentions", nullable=False),
    )
    op.add_column(
        "users", sa.Column("notify_sound", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.add_column(
        "room_members",
        sa.Column("muted", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    for table, column in reversed(COLUMNS):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.drop_table("message_addressees")
