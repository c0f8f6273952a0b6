"""Online backup and restore of the embedded SQLite database and the uploaded files.

PostgreSQL installations back up with pg_dump / pg_restore (docs/deploy.md).
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    """A backup or restore that cannot be done, with the reason for the operator."""


def sqlite_path(database_url: str) -> Path:
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite") or not url.database:
        raise BackupError(
            "`counterline backup` copies the embedded SQLite database. For PostgreSQL use "
            "`pg_dump --format=custom --file=counterline.dump <database>` (see docs/deploy.md)."
        )
    return Path(url.database)


def back_up(database_url: str, destination: Path) -> Path:
    """Copy the live database page by page; writers may go on meanwhile."""
    source = sqlite_path(database_url)
    if not source.is_file():
        raise BackupError(f"There is no database at {source}.")
    if destination.is_dir():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        destination = destination / f"counterline-{stamp}.db"
    if destination.exists():
        raise BackupError(f"{destination} exists already; choose another name.")
    destination.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as live, sqlite3.connect(destination) as copy:
        live.backup(copy)
    copy_connection = sqlite3.connect(destination)
    try:
        copy_connection.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy_connection.close()
    check(destination)
    return destination


def check(path: Path) -> None:
    """A usable Counterline database: intact, and migrated."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            (integrity,) = connection.execute("PRAGMA integrity_check").fetchone()
            (version,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise BackupError(f"{path} is not a Counterline database: {error}") from error
    if integrity != "ok":
        raise BackupError(f"{path} is damaged: {integrity}")
    if not version:
        raise BackupError(f"{path} has no schema version.")


def restore(database_url: str, source: Path) -> Path | None:
    """Put a backup in place of the database. Stop the server first.

    Returns where the previous database was moved to (None if there was none).
    """
    target = sqlite_path(database_url)
    if not source.is_file():
        raise BackupError(f"There is no backup at {source}.")
    check(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    previous = None
    if target.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        previous = target.with_name(f"{target.name}.before-restore-{stamp}")
        target.rename(previous)
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, target)
    return previous


def copy_new_files(source: Path, target: Path) -> int:
    """Copy every file under ``source`` that ``target`` lacks; returns how many.

    Uploaded files are stored under their content's hash and never change, so a file
    already in ``target`` is the same file: backups of them are incremental. Run it after
    the database is copied, so every file the copy refers to is already stored. Files
    whose names start with a dot are uploads still arriving.
    """
    if not source.is_dir():
        return 0
    copied = 0
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if not path.is_file() or any(part.startswith(".") for part in relative.parts):
            continue
        destination = target / relative
        if destination.exists():
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_name(f".{destination.name}.partial")
        shutil.copyfile(path, partial)
        partial.replace(destination)
        copied += 1
    return copied
