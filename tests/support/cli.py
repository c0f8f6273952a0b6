"""The `counterline` command, run for real as a subprocess, as an operator would."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

COUNTERLINE = str(Path(sys.executable).parent / "counterline")


def cli_environment(database_url: str) -> dict[str, str]:
    """The caller's environment without its Counterline settings, plus the database."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("COUNTERLINE_")}
    env["PYTHONUNBUFFERED"] = "1"
    if database_url:
        env["COUNTERLINE_DATABASE_URL"] = database_url
    return env


async def cli(database_url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``counterline --data-dir DATA_DIR ARGS...`` on that database, however it ends.

    Run in a thread so that a live server in this test's event loop keeps serving."""
    return await asyncio.to_thread(
        subprocess.run,
        [COUNTERLINE, "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        env=cli_environment(database_url),
        timeout=120,
    )


async def run_cli(database_url: str, data_dir: Path, *args: str) -> str:
    """Run a command that must succeed; its output."""
    run = await cli(database_url, data_dir, *args)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout
