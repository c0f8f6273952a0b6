"""notice attachments (notices/models.py NoticeAttachment)

``notice_attachments`` lists, for each revision of a notice, the uploads shown with it in
order: each revision carries its own list, so an earlier revision's stays on the record.
``ix_notice_attachments_upload_id`` finds the notice of an upload being downloaded.
Downgrade drops the table (the uploads stay).

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notice_attachments",
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "upload_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notices.id"],
            name=op.f("fk_notice_attachments_notice_id_notices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["upload_id"], ["uploads.id"], name=op.f("fk_notice_attachments_upload_id_uploads")
        ),
        sa.PrimaryKeyConstraint(
            "notice_id", "revision", "position", name=op.f("pk_notice_attachments")
        ),
    )
    with op.batch_alter_table("notice_attachments", schema=None) as batch_op:
        batch_op.create_index("ix_notice_attachments_upload_id", ["upload_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notice_attachments", schema=None) as batch_op:
        batch_op.drop_index("ix_notice_attachments_upload_id")
    op.drop_table("notice_attachments")
