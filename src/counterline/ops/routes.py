"""Operations endpoints: /healthz for load balancers, /metrics for Prometheus."""

from __future__ import annotations

import gc

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from counterline.accounts.guards import PUBLIC
from counterline.db import ping
from counterline.deps import ServicesDep
from counterline.ops.collector import PAUSES
from counterline.ops.metrics import render, render_collector, render_jobs

router = APIRouter(include_in_schema=False)


@router.get("/healthz", dependencies=[PUBLIC])
async def health(services: ServicesDep) -> JSONResponse:
    """200 when the database answers; `live` tells whether live fan-out is healthy."""
    try:
        async with services.reading() as unit:
            await ping(unit.session)
    except Exception:
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
    return JSONResponse(
        {
            "status": "ok",
            "database": services.database.dialect,
            "live": "ok" if services.broker.healthy else "degraded",
            "connections": services.hub.connection_count,
        }
    )


# Public as before: keep /metrics off the public network at the proxy.
@router.get("/metrics", dependencies=[PUBLIC])
async def metrics(services: ServicesDep) -> PlainTextResponse:
    body = render(
        services.metrics,
        fanout=services.hub.fanout,
        connections=services.hub.connection_count,
        deliveries=services.hub.delivered,
        online_users=len(services.presence.online_user_ids()),
        live_healthy=services.broker.healthy,
    )
    body += render_jobs(services.jobs.stats, await services.jobs.counts())
    body += render_collector(PAUSES, gc.get_freeze_count())
    return PlainTextResponse(body, media_type="text/plain; version=0.0.4")
