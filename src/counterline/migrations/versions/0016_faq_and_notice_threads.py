"""faq and notice threads: questions, their accepted answers as FAQ entries, and the
discussion room of each notice (faq/models.py, notices/models.py)

``questions`` holds the messages marked as questions and, once a trainer accepts one, the
answer; ``faq_entries`` the FAQ made of them (or written directly). ``notices`` gets
``discussion_room_id``: the room of the notice's thread, made when it is first opened.
Downgrade drops both tables and the column; the discussion rooms stay as rooms.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import counterline.db

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(
    table: str, column: str, target: str, ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    at = counterline.db.UtcDateTime(timezone=True)
    op.create_table(
        "questions",
        sa.Column("message_id", MESSAGE_ID, nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("marked_by_id", sa.Integer(), nullable=False),
        sa.Column("marked_at", at, nullable=False),
        sa.Column("answer_id", MESSAGE_ID, nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", at, nullable=True),
        _fk("questions", "message_id", "messages", "CASCADE"),
        _fk("questions", "room_id", "rooms", "CASCADE"),
        _fk("questions", "marked_by_id", "users"),
        _fk("questions", "answer_id", "messages", "SET NULL"),
        _fk("questions", "answered_by_id", "users"),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_questions")),
    )
    op.create_index(
        "ix_questions_room_id_message_id", "questions", ["room_id", "message_id"], unique=False
    )
    op.create_table(
        "faq_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("question", sa.String(length=500), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answer_html", sa.Text(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.Column("question_message_id", MESSAGE_ID, nullable=True),
        sa.Column("answer_message_id", MESSAGE_ID, nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", at, nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", at, nullable=False),
        _fk("faq_entries", "room_id", "rooms", "SET NULL"),
        _fk("faq_entries", "question_message_id", "messages", "SET NULL"),
        _fk("faq_entries", "answer_message_id", "messages", "SET NULL"),
        _fk("faq_entries", "created_by_id", "users"),
        _fk("faq_entries", "updated_by_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_entries")),
        sa.UniqueConstraint("question_message_id", name=op.f("uq_faq_entries_question_message_id")),
    )
    op.create_index(op.f("ix_faq_entries_topic"), "faq_entries", ["topic"], unique=False)
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("discussion_room_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_notices_discussion_room_id_rooms"),
            "rooms",
            ["discussion_room_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_notices_discussion_room_id"), ["discussion_room_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_notices_discussion_room_id"), type_="unique")
        batch_op.drop_constraint(
            batch_op.f("fk_notices_discussion_room_id_rooms"), type_="foreignkey"
        )
        batch_op.drop_column("discussion_room_id")
    op.drop_index(op.f("ix_faq_entries_topic"), table_name="faq_entries")
    op.drop_table("faq_entries")
    op.drop_index("ix_questions_room_id_message_id", table_name="questions")
    op.drop_table("questions")
