"""notices, audiences, acknowledgements and quizzes (notices/models.py)

``notices`` holds each notice with its current text; ``notice_revisions`` every revision
(what changed, whether it asks for acknowledgement again); ``notice_questions`` each
revision's quiz; ``notice_recipients`` the audience as it was at publication (branch and
role as they were), with each person's state, indexed for per-branch counts;
``notice_acknowledgements`` and ``notice_attempts`` the full record. Downgrade drops them.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import counterline.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _notice_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["notice_id"],
        ["notices.id"],
        name=op.f(f"fk_{table}_notice_id_notices"),
        ondelete="CASCADE",
    )


def _user_fk(table: str, column: str = "user_id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ["users.id"], name=op.f(f"fk_{table}_{column}_users"))


def upgrade() -> None:
    at = counterline.db.UtcDateTime(timezone=True)
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("created_at", at, nullable=False),
        sa.Column("effective_at", at, nullable=False),
        sa.Column("due_at", at, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("ack_revision", sa.Integer(), nullable=False),
        sa.Column("pass_mark", sa.Integer(), nullable=True),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("archived", sa.Boolean(), server_default=sa.false(), nullable=False),
        _user_fk("notices", "author_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
    )
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notices_author_id"), ["author_id"], unique=False)
    op.create_table(
        "notice_revisions",
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("changes", sa.String(length=1000), nullable=False),
        sa.Column("requires_ack", sa.Boolean(), nullable=False),
        sa.Column("pass_mark", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("created_at", at, nullable=False),
        _user_fk("notice_revisions", "author_id"),
        _notice_fk("notice_revisions"),
        sa.PrimaryKeyConstraint("notice_id", "number", name=op.f("pk_notice_revisions")),
    )
    op.create_table(
        "notice_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("prompt", sa.String(length=1000), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("correct", sa.Integer(), nullable=False),
        sa.Column("explanation", sa.String(length=2000), nullable=False),
        _notice_fk("notice_questions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_questions")),
    )
    with op.batch_alter_table("notice_questions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notice_questions_notice_id_revision", ["notice_id", "revision"], unique=False
        )
    op.create_table(
        "notice_recipients",
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("added_at", at, nullable=False),
        sa.Column("acknowledged_at", at, nullable=True),
        sa.Column("completed_at", at, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_score", sa.Integer(), nullable=True),
        sa.Column("reminded_at", at, nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_notice_recipients_branch_id_branches")
        ),
        _notice_fk("notice_recipients"),
        _user_fk("notice_recipients"),
        sa.PrimaryKeyConstraint("notice_id", "user_id", name=op.f("pk_notice_recipients")),
    )
    with op.batch_alter_table("notice_recipients", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notice_recipients_notice_id_branch_id", ["notice_id", "branch_id"], unique=False
        )
        batch_op.create_index(
            "ix_notice_recipients_user_id_notice_id", ["user_id", "notice_id"], unique=False
        )
    op.create_table(
        "notice_acknowledgements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("at", at, nullable=False),
        sa.Column("client_ip", sa.String(length=45), nullable=False),
        _notice_fk("notice_acknowledgements"),
        _user_fk("notice_acknowledgements"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_acknowledgements")),
    )
    with op.batch_alter_table("notice_acknowledgements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notice_acknowledgements_notice_id_user_id", ["notice_id", "user_id"], unique=False
        )
    op.create_table(
        "notice_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("at", at, nullable=False),
        sa.Column("client_ip", sa.String(length=45), nullable=False),
        _notice_fk("notice_attempts"),
        _user_fk("notice_attempts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_attempts")),
    )
    with op.batch_alter_table("notice_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notice_attempts_notice_id_user_id", ["notice_id", "user_id"], unique=False
        )


def downgrade() -> None:
    for table, indexes in (
        ("notice_attempts", ["ix_notice_attempts_notice_id_user_id"]),
        ("notice_acknowledgements", ["ix_notice_acknowledgements_notice_id_user_id"]),
        (
            "notice_recipients",
            ["ix_notice_recipients_user_id_notice_id", "ix_notice_recipients_notice_id_branch_id"],
        ),
        ("notice_questions", ["ix_notice_questions_notice_id_revision"]),
        ("notice_revisions", []),
    ):
        if indexes:
            with op.batch_alter_table(table, schema=None) as batch_op:
                for index in indexes:
                    batch_op.drop_index(index)
        op.drop_table(table)
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notices_author_id"))
    op.drop_table("notices")
