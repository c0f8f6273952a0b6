"""user imports: CSV imports of users with their progress (admin/user_models.py)

``user_imports`` holds each import: its state and counts, the rows still to create, the
rows refused with their errors, and the generated one-time passwords until the admin who
ran it downloads them once. Downgrade drops the table; the users it created stay.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 09:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import counterline.db

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("pending", sa.JSON(), nullable=False),
        sa.Column("one_time_passwords", sa.JSON(), nullable=False),
        sa.Column("passwords_taken_at", counterline.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", counterline.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", counterline.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", counterline.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_user_imports_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_imports")),
    )
    with op.batch_alter_table("user_imports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_user_imports_created_by_id"), ["created_by_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("user_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_imports_created_by_id"))
    op.drop_table("user_imports")
