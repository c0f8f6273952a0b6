"""`counterline backup` / `counterline restore` keep the record intact."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from counterline.config import Settings
from tests.cast import Cast
from tests.conftest import BACKEND
from tests.support.clients import Client
from tests.support.live import LiveServer


def counterline(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "counterline", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite online backup")
async def test_restored_backup_serves_the_same_record(
    server: LiveServer, login, cast: Cast, tmp_path: Path
) -> None:
    wang = await login("wangfang")
    room = cast.company_room_id
    for n, body in enumerate(["资源编码 1E0B", "'; DROP TABLE messages; --", "第三条"]):
        assert (await wang.post_message(room, body, f"backup-{n:04d}")).status_code == 201
    before = (await wang.http.get(f"/api/v1/rooms/{room}/messages")).json()["messages"]

    env = {"COUNTERLINE_DATABASE_URL": server.settings.effective_database_url}
    backup_file = tmp_path / "backups" / "today.db"
    made = counterline("backup", str(backup_file), env=env)
    assert made.returncode == 0, made.stderr
    assert backup_file.is_file()
    assert (await wang.post_message(room, "备份之后", "backup-after")).status_code == 201

    restored_dir = tmp_path / "restored"
    done = counterline(
        "--data-dir", str(restored_dir), "restore", str(backup_file), "--yes", env={}
    )
    assert done.returncode == 0, done.stderr
    restored = LiveServer(Settings(data_dir=restored_dir, presence_grace_seconds=0.5)).start()
    try:
        reader = Client(restored.url)
        assert (await reader.log_in("wangfang")).status_code == 200
        after = (await reader.http.get(f"/api/v1/rooms/{room}/messages")).json()["messages"]
        await reader.close()
    finally:
        restored.stop()
    assert after == before


def test_backup_refuses_a_file_that_exists(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert counterline("--data-dir", str(data), "migrate", env={}).returncode == 0
    target = tmp_path / "taken.db"
    target.write_text("not empty")
    refused = counterline("--data-dir", str(data), "backup", str(target), env={})
    assert refused.returncode != 0
    assert "exists already" in refused.stderr


def test_restore_refuses_something_that_is_not_a_counterline_database(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite")
    refused = counterline(
        "--data-dir", str(tmp_path / "data"), "restore", str(junk), "--yes", env={}
    )
    assert refused.returncode != 0
    assert "not a Counterline database" in refused.stderr


def test_backup_on_postgresql_points_to_pg_dump(tmp_path: Path) -> None:
    env = {"COUNTERLINE_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/test"}
    refused = counterline("--data-dir", str(tmp_path), "backup", str(tmp_path / "x.db"), env=env)
    assert refused.returncode != 0
    assert "pg_dump" in refused.stderr


def test_backup_copies_uploaded_files_once_and_restore_brings_them_back(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {"COUNTERLINE_DATA_DIR": str(data)}
    assert counterline("migrate", env=env).returncode == 0
    blob = data / "uploads" / "ab" / ("ab" + "0" * 62)
    blob.parent.mkdir(parents=True)
    blob.write_bytes(b"picture bytes")
    (data / "uploads" / ".incoming-1").write_bytes(b"half an upload")

    backups = tmp_path / "backups"
    first = counterline("backup", str(backups / "monday.db"), env=env)
    second = counterline("backup", str(backups / "tuesday.db"), env=env)

    assert first.returncode == 0, first.stderr
    assert "Uploaded files: 1 new" in first.stdout
    assert "Uploaded files: 0 new" in second.stdout
    assert (backups / "uploads" / "ab" / blob.name).read_bytes() == b"picture bytes"
    assert not (backups / "uploads" / ".incoming-1").exists()

    restored = tmp_path / "restored"
    done = counterline(
        "restore", str(backups / "tuesday.db"), "--yes", env={"COUNTERLINE_DATA_DIR": str(restored)}
    )
    assert done.returncode == 0, done.stderr
    assert (restored / "uploads" / "ab" / blob.name).read_bytes() == b"picture bytes"
