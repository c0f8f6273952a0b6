"""`counterline demo` gives a new installation something real to look at."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from counterline.config import Settings
from tests.support.clients import Client
from tests.support.live import LiveServer


def load_demo(data_dir: Path, password: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "counterline",
            "--data-dir",
            str(data_dir),
            "demo",
            "--password-stdin",
        ],
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_demo_clerk_logs_in_and_reads_the_demo_conversation(tmp_path: Path) -> None:
    loaded = load_demo(tmp_path, "demo-pass-123")
    assert loaded.returncode == 0, loaded.stderr
    assert "demo_li" in loaded.stdout
    server = LiveServer(Settings(data_dir=tmp_path)).start()
    try:
        clerk = Client(server.url)
        assert (await clerk.log_in("demo_li", "demo-pass-123")).status_code == 200
        rooms = (await clerk.http.get("/api/v1/rooms")).json()
        company = next(room for room in rooms["rooms"] if room["kind"] == "company")
        page = (await clerk.http.get(f"/api/v1/rooms/{company['id']}/messages")).json()
        await clerk.close()
    finally:
        server.stop()
    branches = {message["branch"]["name"] for message in page["messages"]}
    assert len(page["messages"]) == 5
    assert {"城北营业厅", "花桥营业厅", "城南营业厅"} <= branches
    assert [t["name"] for t in rooms["joinable"]] == ["新业务培训"]


def test_loading_the_demo_twice_is_refused(tmp_path: Path) -> None:
    assert load_demo(tmp_path, "demo-pass-123").returncode == 0
    again = load_demo(tmp_path, "demo-pass-123")
    assert again.returncode != 0
    assert "演示数据已加载。" in again.stderr
