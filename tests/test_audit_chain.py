"""The audit log is append-only and tamper-evident: the database refuses changes, and
`counterline audit verify` (run as a subprocess) names the first entry that was changed,
deleted or inserted with real SQL by someone who first dropped the guard, as a DBA could."""

from __future__ import annotations

import asyncio
import json
from itertools import pairwise
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from counterline.audit.actions import record
from counterline.audit.chain import GENESIS, entry_hash
from counterline.audit.models import AuditEntry
from counterline.audit.verify import verify_chain
from counterline.db import utcnow
from counterline.migrate import alembic_config, upgrade
from counterline.services import Services
from tests.support.cli import cli


async def record_entries(services: Services, count: int, action: str = "test.recorded") -> None:
    async with services.transaction() as unit:
        for number in range(count):
            record(unit, action, target=f"thing:{number}", client_ip="198.51.100.9", n=number)


async def entries(services: Services) -> list[AuditEntry]:
    async with services.reading() as unit:
        return list(await unit.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


async def tamper(services: Services, sql: str, **params: object) -> None:
    """Run ``sql`` as a DBA would: after turning off the triggers that refuse changes."""
    if services.database.dialect == "sqlite":
        guard_off = [
            "DROP TRIGGER IF EXISTS audit_log_no_update",
            "DROP TRIGGER IF EXISTS audit_log_no_delete",
        ]
    else:
        guard_off = ["ALTER TABLE audit_log DISABLE TRIGGER USER"]
    async with services.database.engine.execution_options(writer=True).begin() as connection:
        for statement in guard_off:
            await connection.execute(text(statement))
        await connection.execute(text(sql), params)


async def verify(services: Services, tmp_path: Path, *args: str) -> tuple[int, str]:
    run = await cli(services.settings.effective_database_url, tmp_path, "audit", "verify", *args)
    return run.returncode, run.stdout + run.stderr


async def test_verify_passes_on_a_normal_log_and_prints_its_size_and_head(
    services: Services, tmp_path: Path
) -> None:
    await record_entries(services, 3)
    await record_entries(services, 2)
    log = await entries(services)

    code, output = await verify(services, tmp_path)

    assert code == 0, output
    assert f"{len(log)} entries" in output
    assert f"#{log[-1].id}, hash {log[-1].entry_hash}" in output
    assert log[0].prev_hash == GENESIS
    assert all(after.prev_hash == before.entry_hash for before, after in pairwise(log))


async def test_the_database_refuses_to_change_or_delete_an_entry(services: Services) -> None:
    await record_entries(services, 1)
    [*_, newest] = await entries(services)
    engine = services.database.engine.execution_options(writer=True)
    for sql in ("UPDATE audit_log SET target = 'x' WHERE id = :id", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as connection:
                await connection.execute(text(sql), {"id": newest.id})
    assert (await entries(services))[-1].target == newest.target


async def test_verify_names_an_entry_changed_in_the_database(
    services: Services, tmp_path: Path
) -> None:
    await record_entries(services, 5)
    changed = (await entries(services))[-3]
    await tamper(
        services, "UPDATE audit_log SET client_ip = '10.0.0.1' WHERE id = :id", id=changed.id
    )

    code, output = await verify(services, tmp_path)

    assert code == 1
    assert f"broken at entry #{changed.id} (changed)" in output


async def test_verify_names_the_gap_left_by_a_deleted_entry(
    services: Services, tmp_path: Path
) -> None:
    await record_entries(services, 5)
    *_, before, deleted, after, _last = await entries(services)
    await tamper(services, "DELETE FROM audit_log WHERE id = :id", id=deleted.id)

    code, output = await verify(services, tmp_path)

    assert code == 1
    assert f"broken at entry #{after.id} (missing)" in output
    assert f"does not follow entry #{before.id}" in output
    assert f"between them (#{deleted.id}) were deleted" in output


async def test_verify_names_the_first_entry_when_the_oldest_were_deleted(
    services: Services, tmp_path: Path
) -> None:
    await record_entries(services, 3)
    first_kept = (await entries(services))[2]
    await tamper(services, "DELETE FROM audit_log WHERE id < :id", id=first_kept.id)

    code, output = await verify(services, tmp_path)

    assert code == 1
    assert f"broken at entry #{first_kept.id} (missing)" in output


async def test_a_noted_head_catches_the_newest_entries_deleted(
    services: Services, tmp_path: Path
) -> None:
    await record_entries(services, 4)
    log = await entries(services)
    noted = log[-1].entry_hash
    code, output = await verify(services, tmp_path, "--head", noted)
    assert code == 0, output

    await tamper(services, "DELETE FROM audit_log WHERE id >= :id", id=log[-2].id)

    assert (await verify(services, tmp_path))[0] == 0  # what is left is still a chain
    code, output = await verify(services, tmp_path, "--head", noted)
    assert code == 1
    assert f"hash {noted} is no longer in the log" in output


async def test_verify_names_an_entry_inserted_in_the_database(
    services: Services, tmp_path: Path
) -> None:
    """A forged entry appended with SQL, linked to the head it copied, and the application
    chaining its own entries on after it: the forged one does not match its hash."""
    await record_entries(services, 2)
    head = (await entries(services))[-1]
    forged_id = head.id + 1
    await tamper(
        services,
        "INSERT INTO audit_log (id, at, actor_id, action, target, client_ip, details, "
        "prev_hash, entry_hash) VALUES (:id, :at, NULL, 'login.succeeded', 'user:1', "
        "'10.0.0.1', :details, :prev, :hash)",
        id=forged_id,
        at=utcnow().replace(tzinfo=None),
        details=json.dumps({}),
        prev=head.entry_hash,
        hash=head.entry_hash[::-1],
    )
    if services.database.dialect == "postgresql":
        await tamper(services, "SELECT setval('audit_log_id_seq', :id)", id=forged_id)
    await record_entries(services, 2)

    code, output = await verify(services, tmp_path)

    assert code == 1
    assert f"broken at entry #{forged_id} (changed)" in output
    assert "written outside Counterline" in output


class FailsAfterAudit:
    """A later step of a commit that fails after the audit entries were written."""

    async def __call__(self, session: object) -> None:
        raise RuntimeError("the commit fails late")


async def test_verify_names_an_entry_slipped_into_a_gap_between_ids(
    services: Services, tmp_path: Path
) -> None:
    """On PostgreSQL a transaction rolled back after taking its ids leaves a gap; a forged
    entry with a correctly computed hash placed there breaks the next entry's link."""
    if services.database.dialect != "postgresql":
        pytest.skip("SQLite entries take the ids after the head: the ids have no gaps")
    await record_entries(services, 2)
    with pytest.raises(RuntimeError):
        async with services.transaction() as unit:
            record(unit, "test.rolled_back")
            unit.before_commit(FailsAfterAudit)
    await record_entries(services, 1)
    *_, before, after = await entries(services)
    assert after.id == before.id + 2
    forged = AuditEntry(
        id=before.id + 1, at=utcnow(), actor_id=None, action="user.role_changed",
        target="user:1", client_ip="", details={}, prev_hash=before.entry_hash,
    )  # fmt: skip
    forged.entry_hash = entry_hash(
        prev_hash=forged.prev_hash, id=forged.id, at=forged.at, actor_id=None,
        action=forged.action, target=forged.target, client_ip="", details={},
    )  # fmt: skip
    async with services.transaction() as unit:
        unit.session.add(forged)

    code, output = await verify(services, tmp_path)

    assert code == 1
    assert f"broken at entry #{forged.id} (inserted)" in output
    assert f"entry #{after.id} follows entry #{before.id} directly" in output


async def test_the_chain_holds_with_many_writers_at_once(services: Services) -> None:
    """Concurrent transactions (on PostgreSQL, truly in parallel on several connections)
    each append entries; the chain is whole and in id order afterwards."""

    async def writer(number: int) -> None:
        for _ in range(5):
            await record_entries(services, 2, action=f"test.writer{number}")

    before = len(await entries(services))
    await asyncio.gather(*(writer(number) for number in range(8)))

    async with services.reading() as unit:
        report = await verify_chain(unit.session, batch=7)
    assert report.broken is None, report.broken
    assert report.entries == before + 8 * 5 * 2


async def test_the_migration_chains_the_entries_written_before_it(services: Services) -> None:
    await record_entries(services, 3)
    old = await entries(services)
    engine = services.database.engine.execution_options(writer=True)
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0008"))

    await upgrade(services.database)

    rechained = await entries(services)
    assert [entry.entry_hash for entry in rechained] == [entry.entry_hash for entry in old]
    async with services.reading() as unit:
        assert (await verify_chain(unit.session)).broken is None


async def test_the_quick_check_reads_only_the_newest_entries(services: Services) -> None:
    """The admin page's check: the newest N entries, linked to the one before them."""
    await record_entries(services, 6)
    *_, old, _, _, recent, newest = await entries(services)
    await tamper(services, "UPDATE audit_log SET target = 'x' WHERE id = :id", id=old.id)

    async with services.reading() as unit:
        quick = await verify_chain(unit.session, newest=3)
        whole = await verify_chain(unit.session)
    assert quick.broken is None
    assert (quick.entries, quick.first_id, quick.head_id) == (3, recent.id - 1, newest.id)
    assert not quick.from_start
    assert whole.broken is not None and whole.broken.entry_id == old.id

    await tamper(services, "UPDATE audit_log SET target = 'x' WHERE id = :id", id=recent.id)
    async with services.reading() as unit:
        quick = await verify_chain(unit.session, newest=3)
    assert quick.broken is not None and quick.broken.entry_id == recent.id
