"""business-systems portal (portal/models.py)

``portal_entries`` holds each business system (a web address or a client program's URL
scheme), its last status check and the room told when it goes down;
``portal_entry_branches`` and ``portal_entry_roles`` who sees an entry not shown to all;
``portal_user_entries`` each user's favourites, their order and use counts. Downgrade drops
the four tables.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import counterline.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "portal_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column(
            "icon_upload_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("visible_to_all", sa.Boolean(), nullable=False),
        sa.Column("down_notice_room_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("status_since", counterline.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("checked_at", counterline.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("response_ms", sa.Integer(), nullable=True),
        sa.Column("status_detail", sa.String(length=200), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", counterline.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("archived_at", counterline.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_portal_entries_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["down_notice_room_id"],
            ["rooms.id"],
            name=op.f("fk_portal_entries_down_notice_room_id_rooms"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["icon_upload_id"],
            ["uploads.id"],
            name=op.f("fk_portal_entries_icon_upload_id_uploads"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_entries")),
    )
    op.create_table(
        "portal_entry_branches",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"],
            ["branches.id"],
            name=op.f("fk_portal_entry_branches_branch_id_branches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["portal_entries.id"],
            name=op.f("fk_portal_entry_branches_entry_id_portal_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", "branch_id", name=op.f("pk_portal_entry_branches")),
    )
    op.create_table(
        "portal_entry_roles",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["portal_entries.id"],
            name=op.f("fk_portal_entry_roles_entry_id_portal_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", "role", name=op.f("pk_portal_entry_roles")),
    )
    op.create_table(
        "portal_user_entries",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("favourite_position", sa.Integer(), nullable=True),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("last_used_at", counterline.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["portal_entries.id"],
            name=op.f("fk_portal_user_entries_entry_id_portal_entries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_portal_user_entries_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "entry_id", name=op.f("pk_portal_user_entries")),
    )


def downgrade() -> None:
    op.drop_table("portal_user_entries")
    op.drop_table("portal_entry_roles")
    op.drop_table("portal_entry_branches")
    op.drop_table("portal_entries")
