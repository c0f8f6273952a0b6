"""Operations endpoints: /healthz for load balancers, /metrics for Prometheus."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from counterline.db import ping
from counterline.deps import ServicesDep
from counterline.ops.metrics import render

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
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


@router.get("/metrics")
async def metrics(services: ServicesDep) -> PlainTextResponse:
    body = render(
        services.metrics,
        fanout=services.hub.fanout,
        connections=services.hub.connection_count,
        deliveries=services.hub.delivered,
        online_users=len(services.presence.online_user_ids()),
        live_healthy=services.broker.healthy,
    )
    return PlainTextResponse(body, media_type="text/plain; version=0.0.4")
