"""read positions: per-room message sequence and each member's place in it

``messages.seq`` numbers each room's messages 1, 2, 3… in id order; ``rooms.last_seq`` is the
newest one, and each membership gets ``read_seq`` (the seq of the newest message its user has
read) and ``last_read_id`` (that message's id; 0 for none). A member's unread count is then
``rooms.last_seq - room_members.read_seq``: kept by the post path, never counted by scanning.

Backfill, three statements whatever the size of the database:

- every existing message gets its seq from ``row_number() OVER (PARTITION BY room_id ORDER BY
  id)`` (one ``UPDATE … FROM``: PostgreSQL, and SQLite 3.33+);
- every room's ``last_seq`` is the largest seq of its messages (0 without any);
- every existing membership starts with everything read (``read_seq = last_seq`` and the id of
  the room's newest message, found through ``ix_messages_room_id_id``): nobody has a read
  position before this revision, and a thousand-message badge on every room the morning after
  the upgrade would be noise, not news.

Plain ``ADD COLUMN`` with a server default of 0, not batch mode: on SQLite, batch mode copies a
table, and dropping the old copy would cascade to memberships, revisions and attachments.

Downgrade drops the four columns (SQLite 3.35+ drops an unindexed column in place).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 03:46:40
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("messages", "seq"),
    ("rooms", "last_seq"),
    ("room_members", "read_seq"),
    ("room_members", "last_read_id"),
)


def upgrade() -> None:
    zero = sa.text("0")
    op.add_column("messages", sa.Column("seq", sa.Integer(), server_default=zero, nullable=False))
    op.add_column("rooms", sa.Column("last_seq", sa.Integer(), server_default=zero, nullable=False))
    op.add_column(
        "room_members", sa.Column("read_seq", sa.Integer(), server_default=zero, nullable=False)
    )
    op.add_column(
        "room_members",
        sa.Column(
            "last_read_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            server_default=zero,
            nullable=False,
        ),
    )
    op.execute(
        "UPDATE messages SET seq = numbered.n FROM ("
        " SELECT id, row_number() OVER (PARTITION BY room_id ORDER BY id) AS n FROM messages"
        ") AS numbered WHERE messages.id = numbered.id"
    )
    op.execute(
        "UPDATE rooms SET last_seq = COALESCE("
        "(SELECT max(seq) FROM messages WHERE messages.room_id = rooms.id), 0)"
    )
    op.execute(
        "UPDATE room_members SET"
        " read_seq = (SELECT last_seq FROM rooms WHERE rooms.id = room_members.room_id),"
        " last_read_id = COALESCE("
        "(SELECT max(id) FROM messages WHERE messages.room_id = room_members.room_id), 0)"
    )


def downgrade() -> None:
    for table, column in reversed(COLUMNS):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
