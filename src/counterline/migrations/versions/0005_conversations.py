"""conversations and room name keys

Rooms gain ``conversation_key`` (``dm:<low id>:<high id>`` for a 1:1 conversation, unique,
so the same two people get the same room) and ``name_key`` (the name folded by
``rooms.naming.name_key``: NFKC, case-folded, spaces collapsed; unique, so two rooms can't
share a name that differs only in case, width or spacing). The kind ``conversation`` needs
no schema change (the kind column is a plain string).

Existing rooms get their key here. A database may already hold rooms whose names fold to
the same key: the oldest room (lowest id) keeps the key, and each later one gets the key
with ``#<its id>`` appended, so the upgrade never fails on them; they keep their names as
they are (an administrator may rename them later). Keys are cut to the column's 200
characters (a 100-character name folds to more only in contrived cases).

Unique indexes rather than unique constraints, and no table copy either way: on SQLite,
batch mode copies the rooms table, and dropping the old copy would cascade to every
membership (``PRAGMA foreign_keys`` is on and can't be turned off inside the migration's
transaction).

Downgrade drops both columns; conversation rooms stay, and an older release can't read
them, so remove them first if you must go back.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 03:12:37
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MAX_NAME_KEY_LENGTH = 200


def name_key(name: str) -> str:
    """A frozen copy of counterline.rooms.naming.name_key as of this revision."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return " ".join(folded.split())


def _fill_name_keys() -> None:
    connection = op.get_bind()
    rooms = sa.table(
        "rooms", sa.column("id", sa.Integer), sa.column("name", sa.String), sa.column("name_key")
    )
    taken: set[str] = set()
    rows = connection.execute(sa.select(rooms.c.id, rooms.c.name).order_by(rooms.c.id)).all()
    for room_id, name in rows:
        folded = name_key(name)
        key, tries = folded[:MAX_NAME_KEY_LENGTH], 0
        while key in taken:
            tries += 1
            suffix = f"#{room_id}" if tries == 1 else f"#{room_id}-{tries}"
            key = folded[: MAX_NAME_KEY_LENGTH - len(suffix)] + suffix
        taken.add(key)
        connection.execute(sa.update(rooms).where(rooms.c.id == room_id).values(name_key=key))


def upgrade() -> None:
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("conversation_key", sa.String(length=64), nullable=True))

    _fill_name_keys()

    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rooms_conversation_key"), ["conversation_key"], unique=True
        )
        batch_op.create_index(batch_op.f("ix_rooms_name_key"), ["name_key"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_rooms_name_key"), table_name="rooms")
    op.drop_index(op.f("ix_rooms_conversation_key"), table_name="rooms")
    # Not batch mode: on SQLite it copies the table, and dropping the old copy would cascade
    # to every membership. SQLite 3.35+ drops an unindexed column in place.
    for column in ("conversation_key", "name_key"):
        op.execute(f"ALTER TABLE rooms DROP COLUMN {column}")
