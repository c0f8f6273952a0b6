"""Operations endpoints: /healthz for load balancers, /metrics for Prometheus."""

from __future__ import annotations

import httpx

from tests.cast import Cast
from tests.support.clients import open_stream


async def test_health_reports_database_and_live_updates(server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        answer = await http.get("/healthz")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"
    assert answer.json()["live"] == "ok"
    assert answer.json()["database"] in {"sqlite", "postgresql"}


async def test_metrics_count_connections_events_and_deliveries(server, login, cast: Cast) -> None:
    wang = await login("wangfang")
    li = await login("lina")
    stream = await open_stream(server.ws_url, cookie=li.session_cookie, last_message_id=0)
    await stream.next("ready")
    assert (
        await wang.post_message(cast.company_room_id, "计数", "metrics-0001")
    ).status_code == 201
    await stream.next("message.posted")

    async with httpx.AsyncClient(base_url=server.url) as http:
        text = (await http.get("/metrics")).text
    values = {
        line.split()[0]: float(line.split()[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    assert values["counterline_websocket_connections"] == 1
    assert values["counterline_online_users"] >= 1
    assert values["counterline_live_updates_healthy"] == 1
    assert values["counterline_events_published_total"] >= 1
    assert values["counterline_deliveries_total"] >= 1
    assert values["counterline_fanout_seconds_count"] >= 1
    assert values["counterline_db_write_seconds_count"] >= 1
    await stream.close()
