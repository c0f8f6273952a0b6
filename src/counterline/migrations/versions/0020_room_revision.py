"""rooms.revision, bumped by the database whenever what a room list shows of a room changes

A room list keeps each room's card (kind, name, visibility, branch; a conversation's members
and their names) between requests (rooms/cards.py) and reads it again only when the room's
revision has moved. Triggers bump it, so every writer is covered: this node, another node,
a command, an operator's SQL. A rename, a member joining or leaving a conversation, and a
member's new username or display name each bump it; posting (rooms.last_seq) does not.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_TRIGGERS = [
    "CREATE TRIGGER rooms_revision_on_change AFTER UPDATE OF "
    "kind, name, visibility, branch_id, conversation_key ON rooms "
    "BEGIN UPDATE rooms SET revision = revision + 1 WHERE id = NEW.id; END",
    "CREATE TRIGGER room_members_revision_on_insert AFTER INSERT ON room_members BEGIN "
    "UPDATE rooms SET revision = revision + 1 "
    "WHERE id = NEW.room_id AND kind = 'conversation'; END",
    "CREATE TRIGGER room_members_revision_on_delete AFTER DELETE ON room_members BEGIN "
    "UPDATE rooms SET revision = revision + 1 "
    "WHERE id = OLD.room_id AND kind = 'conversation'; END",
    "CREATE TRIGGER room_members_revision_on_update AFTER UPDATE OF room_id, user_id "
    "ON room_members BEGIN UPDATE rooms SET revision = revision + 1 "
    "WHERE id IN (OLD.room_id, NEW.room_id) AND kind = 'conversation'; END",
    "CREATE TRIGGER users_revision_on_rename AFTER UPDATE OF username, display_name ON users "
    "BEGIN "
    "UPDATE rooms SET revision = revision + 1 WHERE kind = 'conversation' "
    "AND id IN (SELECT room_id FROM room_members WHERE user_id = NEW.id); END",
]
SQLITE_TRIGGER_NAMES = [
    "rooms_revision_on_change",
    "room_members_revision_on_insert",
    "room_members_revision_on_delete",
    "room_members_revision_on_update",
    "users_revision_on_rename",
]

POSTGRESQL_TRIGGERS = [
    "CREATE FUNCTION rooms_revision_bump() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN NEW.revision := OLD.revision + 1; RETURN NEW; END $$",
    "CREATE TRIGGER rooms_revision_on_change BEFORE UPDATE OF "
    "kind, name, visibility, branch_id, conversation_key ON rooms "
    "FOR EACH ROW EXECUTE FUNCTION rooms_revision_bump()",
    # OLD is NULL on INSERT and NEW on DELETE: the IN list holds the room either way.
    "CREATE FUNCTION conversation_members_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN UPDATE rooms SET revision = revision + 1 WHERE kind = 'conversation' "
    "AND id IN (OLD.room_id, NEW.room_id); RETURN NULL; END $$",
    "CREATE TRIGGER room_members_revision AFTER INSERT OR DELETE OR UPDATE OF room_id, user_id "
    "ON room_members FOR EACH ROW EXECUTE FUNCTION conversation_members_changed()",
    "CREATE FUNCTION member_names_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN UPDATE rooms SET revision = revision + 1 WHERE kind = 'conversation' "
    "AND id IN (SELECT room_id FROM room_members WHERE user_id = NEW.id); RETURN NULL; END $$",
    "CREATE TRIGGER users_revision_on_rename AFTER UPDATE OF username, display_name ON users "
    "FOR EACH ROW EXECUTE FUNCTION member_names_changed()",
]


def upgrade() -> None:
    op.add_column(
        "rooms", sa.Column("revision", sa.Integer(), nullable=False, server_default=sa.text("0"))
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_TRIGGERS if sqlite else POSTGRESQL_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER {name}")
    else:
        op.execute("DROP TRIGGER users_revision_on_rename ON users")
        op.execute("DROP TRIGGER room_members_revision ON room_members")
        op.execute("DROP TRIGGER rooms_revision_on_change ON rooms")
        for function in ("member_names_changed", "conversation_members_changed"):
            op.execute(f"DROP FUNCTION {function}()")
        op.execute("DROP FUNCTION rooms_revision_bump()")
    with op.batch_alter_table("rooms") as batch_op:
        batch_op.drop_column("revision")
