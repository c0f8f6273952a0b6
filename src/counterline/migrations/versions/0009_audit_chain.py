"""audit log: hash chain and append-only triggers

``audit_log`` gains ``prev_hash`` and ``entry_hash`` (hex SHA-256, audit/chain.py): each
entry's hash covers its fields and the hash of the entry before it. Existing entries are
chained here in id order. Indexes on ``actor_id``, ``action`` and ``target`` serve the
admins' viewer filters.

Triggers then refuse ``UPDATE`` and ``DELETE`` (and ``TRUNCATE`` on PostgreSQL) on the
table: the application never changes an entry, and someone with the rights to drop a
trigger leaves a broken chain that ``counterline audit verify`` reports.

Downgrade drops the triggers, the indexes and the two columns.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import counterline.db
from counterline.audit.chain import GENESIS, entry_hash

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXED = ("actor_id", "action", "target")
BATCH = 1000

audit_log = sa.table(
    "audit_log",
    sa.column("id", sa.Integer()),
    sa.column("at", counterline.db.UtcDateTime()),
    sa.column("actor_id", sa.Integer()),
    sa.column("action", sa.String()),
    sa.column("target", sa.String()),
    sa.column("client_ip", sa.String()),
    sa.column("details", sa.JSON()),
    sa.column("prev_hash", sa.String()),
    sa.column("entry_hash", sa.String()),
)

SQLITE_TRIGGERS = [
    f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
    for verb in ("UPDATE", "DELETE")
]
POSTGRESQL_TRIGGERS = [
    "CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
    "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()",
]


def upgrade() -> None:
    for column in ("prev_hash", "entry_hash"):
        op.add_column("audit_log", sa.Column(column, sa.String(length=64), nullable=True))
    _chain_existing_entries()
    with op.batch_alter_table("audit_log") as batch_op:
        for column in ("prev_hash", "entry_hash"):
            batch_op.alter_column(column, existing_type=sa.String(length=64), nullable=False)
        for column in INDEXED:
            batch_op.create_index(batch_op.f(f"ix_audit_log_{column}"), [column], unique=False)
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_TRIGGERS if sqlite else POSTGRESQL_TRIGGERS:
        op.execute(statement)


def _chain_existing_entries() -> None:
    connection = op.get_bind()
    prev_hash, after = GENESIS, None
    while True:
        query = sa.select(audit_log).order_by(audit_log.c.id).limit(BATCH)
        if after is not None:
            query = query.where(audit_log.c.id > after)
        rows = connection.execute(query).mappings().all()
        if not rows:
            return
        hashes = []
        for row in rows:
            fields = {name: row[name] for name in row if name != "entry_hash"}
            fields["prev_hash"] = prev_hash
            fields["details"] = row["details"] or {}
            hashed = entry_hash(**fields)
            hashes.append({"row_id": row["id"], "prev": prev_hash, "hash": hashed})
            prev_hash = hashed
        connection.execute(
            audit_log.update()
            .where(audit_log.c.id == sa.bindparam("row_id"))
            .values(prev_hash=sa.bindparam("prev"), entry_hash=sa.bindparam("hash")),
            hashes,
        )
        after = rows[-1]["id"]


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER audit_log_no_{verb}")
    else:
        op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER audit_log_no_change ON audit_log")
        op.execute("DROP FUNCTION audit_log_refuse_change()")
    with op.batch_alter_table("audit_log") as batch_op:
        for column in reversed(INDEXED):
            batch_op.drop_index(batch_op.f(f"ix_audit_log_{column}"))
        batch_op.drop_column("entry_hash")
        batch_op.drop_column("prev_hash")
