"""Checking whether business systems answer: one HEAD request per address (GET when the
system refuses HEAD with 405), a deadline per check and a bound on how many run at once,
so a system that hangs holds one slot for at most the deadline and never the others.

Only the configured addresses are asked; redirects are not followed (a redirect is an
answer: the system is up). This module knows nothing of the database (bench/portal_checks.py
measures it alone)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

UP, SLOW, DOWN, UNKNOWN = "up", "slow", "down", "unknown"
STATUSES = (UP, SLOW, DOWN, UNKNOWN)
DEFAULT_CONCURRENCY = 10
_USER_AGENT = "Counterline-portal-check/1"


@dataclass(frozen=True, slots=True)
class Target:
    entry_id: int
    url: str


@dataclass(frozen=True, slots=True)
class CheckResult:
    entry_id: int
    status: str
    response_ms: int | None
    detail: str


async def check_all(
    targets: Sequence[Target],
    *,
    timeout: float,
    slow_ms: int,
    concurrency: int = DEFAULT_CONCURRENCY,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[CheckResult]:
    """Check every target, at most ``concurrency`` at a time; results in the same order."""
    slots = asyncio.Semaphore(max(1, concurrency))
    limits = httpx.Limits(max_connections=max(1, concurrency), max_keepalive_connections=0)
    async with httpx.AsyncClient(
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=False,  # only the configured address: no proxy from the environment
        verify=False,  # intranet systems often have their own certificates; we read no body
        limits=limits,
        headers={"User-Agent": _USER_AGENT},
        transport=transport,
    ) as client:

        async def one(target: Target) -> CheckResult:
            async with slots:
                return await check_one(client, target, timeout=timeout, slow_ms=slow_ms)

        return list(await asyncio.gather(*(one(target) for target in targets)))


async def check_one(
    client: httpx.AsyncClient, target: Target, *, timeout: float, slow_ms: int
) -> CheckResult:
    """One system's status: up or slow by how long it took to answer at all (any HTTP
    status below 500: a login page's 401 is an answer), down on a 5xx, an error, or no
    complete answer within ``timeout`` seconds (the whole check, HEAD and GET together)."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            status_code = await _ask(client, "HEAD", target.url)
            if status_code in (405, 501):
                status_code = await _ask(client, "GET", target.url)
    except TimeoutError:
        return CheckResult(target.entry_id, DOWN, None, f"no answer within {timeout:g} s")
    except httpx.HTTPError as error:
        return CheckResult(target.entry_id, DOWN, None, _error_text(error))
    elapsed = round((time.perf_counter() - started) * 1000)
    if status_code >= 500:
        return CheckResult(target.entry_id, DOWN, elapsed, f"HTTP {status_code}")
    return CheckResult(
        target.entry_id, SLOW if elapsed > slow_ms else UP, elapsed, f"HTTP {status_code}"
    )


async def _ask(client: httpx.AsyncClient, method: str, url: str) -> int:
    """The status of the answer; the body is never read."""
    async with client.stream(method, url) as response:
        return response.status_code


def _error_text(error: httpx.HTTPError) -> str:
    if isinstance(error, httpx.TimeoutException):
        return "timed out"
    if isinstance(error, httpx.ConnectError):
        return "cannot connect"
    if isinstance(error, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return "invalid address"
    return type(error).__name__[:100]
