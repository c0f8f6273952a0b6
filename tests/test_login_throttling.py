"""Login throttling slows guessers down without locking anyone out: per account at one
address, per address for accounts new to it, per account at addresses new to it. Addresses
come from X-Forwarded-For through a trusted proxy; time passes by back-dating failures."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from counterline.accounts.models import LoginAttempt
from counterline.accounts.throttling import delay_after
from counterline.audit.models import AuditEntry
from counterline.db import utcnow
from counterline.services import Services
from tests.cast import PASSWORD, Cast
from tests.support.cli import cli
from tests.support.live import LiveServer

GUESSER = "203.0.113.7"
OFFICE = "198.51.100.20"
BRANCH_NAT = "10.20.0.1"


@pytest.fixture
def proxied(start_server) -> LiveServer:
    """A server behind a trusted proxy, so each request can say which address it is from."""
    return start_server(trusted_proxies=["127.0.0.1/32"])


async def attempt(live: LiveServer, username: str, password: str, ip: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=live.url, timeout=60) as http:
        return await http.post(
            "/api/v1/session",
            json={"username": username, "password": password},
            headers={"X-Forwarded-For": ip, "Accept-Language": "zh-CN"},
        )


async def add_failures(services: Services, failures: list[tuple[str, str]], at: datetime) -> None:
    """Store failed logins (username, address) as if they had happened at ``at``."""
    async with services.transaction() as unit:
        for username, ip in failures:
            unit.session.add(LoginAttempt(username=username, client_ip=ip, at=at))


async def pass_time(services: Services, elapsed: timedelta) -> None:
    """Move every stored failure ``elapsed`` into the past."""
    async with services.transaction() as unit:
        for failure in await unit.session.scalars(select(LoginAttempt)):
            failure.at -= elapsed


async def failures_from(services: Services, username: str, ip: str) -> int:
    async with services.reading() as unit:
        query = select(func.count()).where(
            LoginAttempt.username == username, LoginAttempt.client_ip == ip
        )
        return await unit.session.scalar(query) or 0


async def audited(services: Services, action: str) -> list[AuditEntry]:
    async with services.reading() as unit:
        query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        return list(await unit.session.scalars(query))


def retry_after(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    return int(response.headers["retry-after"])


def test_the_delay_starts_at_one_minute_doubles_with_each_failure_and_stops_at_an_hour() -> None:
    minutes = [delay_after(failures, 5) / timedelta(minutes=1) for failures in range(3, 14)]
    assert minutes == [0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert delay_after(10_000, 5) == timedelta(hours=1)


async def test_parallel_guesses_from_one_address_get_five_tries_then_wait_a_minute(
    proxied,
) -> None:
    guesses = await asyncio.gather(
        *(attempt(proxied, "wangfang", f"guess-{number}", GUESSER) for number in range(8))
    )
    # Sent in parallel, still only five guesses are checked: the rest wait and are refused.
    assert sorted(guess.status_code for guess in guesses) == [401] * 5 + [429] * 3
    refused = await attempt(proxied, "wangfang", PASSWORD, GUESSER)
    seconds = retry_after(refused)
    assert 45 <= seconds <= 60
    assert f"{seconds} 秒" in refused.json()["error"]
    assert "counterline_session" not in refused.headers.get("set-cookie", "")


async def test_the_owner_logs_in_from_another_address_while_a_guesser_is_slowed(proxied) -> None:
    for number in range(5):
        assert (await attempt(proxied, "chengang", f"guess-{number}", GUESSER)).status_code == 401
    assert (await attempt(proxied, "chengang", PASSWORD, GUESSER)).status_code == 429
    assert (await attempt(proxied, "chengang", PASSWORD, OFFICE)).status_code == 200
    # The guesser's address is not slowed for the other accounts either.
    assert (await attempt(proxied, "lina", PASSWORD, GUESSER)).status_code == 200


async def test_the_guessers_delay_doubles_with_each_failure_up_to_an_hour(
    proxied, services
) -> None:
    await add_failures(services, [("wangfang", GUESSER)] * 5, utcnow() - timedelta(seconds=10))
    assert 40 <= retry_after(await attempt(proxied, "wangfang", "guess", GUESSER)) <= 50
    for number, minutes in ((6, 2), (7, 4), (8, 8)):
        await pass_time(services, delay_after(number - 1, 5))
        assert (await attempt(proxied, "wangfang", f"guess-{number}", GUESSER)).status_code == 401
        refused = await attempt(proxied, "wangfang", PASSWORD, GUESSER)
        assert minutes * 60 - 10 <= retry_after(refused) <= minutes * 60
        assert f"{minutes} 分钟" in refused.json()["error"]
    await add_failures(services, [("wangfang", GUESSER)] * 20, utcnow())
    assert 3590 <= retry_after(await attempt(proxied, "wangfang", PASSWORD, GUESSER)) <= 3600


async def test_a_login_clears_the_failures_from_its_own_address_only(proxied, services) -> None:
    now = utcnow()
    await add_failures(services, [("wangfang", OFFICE)] * 4 + [("wangfang", GUESSER)] * 5, now)
    assert (await attempt(proxied, "wangfang", PASSWORD, OFFICE)).status_code == 200
    assert await failures_from(services, "wangfang", OFFICE) == 0
    assert await failures_from(services, "wangfang", GUESSER) == 5
    assert (await attempt(proxied, "wangfang", PASSWORD, GUESSER)).status_code == 429


async def test_a_branch_behind_one_nat_keeps_logging_in_while_someone_there_sprays(
    proxied, services
) -> None:
    assert (await attempt(proxied, "wangfang", PASSWORD, BRANCH_NAT)).status_code == 200
    sprayed = [(f"nobody{number:02}", BRANCH_NAT) for number in range(40)]
    await add_failures(services, sprayed, utcnow() - timedelta(seconds=5))
    # The clerk who has logged in from the branch before is not slowed...
    assert (await attempt(proxied, "wangfang", PASSWORD, BRANCH_NAT)).status_code == 200
    # ...accounts new to that address are, whether or not they exist...
    new_here = await attempt(proxied, "lina", PASSWORD, BRANCH_NAT)
    no_such = await attempt(proxied, "nobody99", PASSWORD, BRANCH_NAT)
    assert abs(retry_after(new_here) - retry_after(no_such)) <= 2
    assert set(new_here.json()) == set(no_such.json()) == {"error"}
    # ...and only at that address.
    assert (await attempt(proxied, "lina", PASSWORD, OFFICE)).status_code == 200


async def test_guessing_one_account_from_sixty_addresses_spares_the_owners_known_address(
    proxied, services
) -> None:
    assert (await attempt(proxied, "wangfang", PASSWORD, OFFICE)).status_code == 200
    spread = [("wangfang", f"192.0.2.{number}") for number in range(1, 61)]
    await add_failures(services, spread, utcnow() - timedelta(seconds=5))
    assert (await attempt(proxied, "wangfang", PASSWORD, "203.0.113.200")).status_code == 429
    assert (await attempt(proxied, "wangfang", "guess", "192.0.2.61")).status_code == 429
    assert (await attempt(proxied, "wangfang", PASSWORD, OFFICE)).status_code == 200


async def test_each_crossing_into_a_delay_is_audited_once_with_its_rule_and_end(
    proxied, services
) -> None:
    for number in range(7):
        await attempt(proxied, "wangfang", f"guess-{number}", GUESSER)
    now = utcnow()
    await add_failures(services, [(f"nobody{n:02}", BRANCH_NAT) for n in range(29)], now)
    assert (await attempt(proxied, "nobody29", "guess", BRANCH_NAT)).status_code == 401
    await add_failures(services, [("lina", f"192.0.2.{n}") for n in range(1, 50)], now)
    assert (await attempt(proxied, "lina", "guess", "192.0.2.50")).status_code == 401

    entries = await audited(services, "login.throttled")
    crossings = [(e.details["rule"], e.details["username"], e.client_ip) for e in entries]
    assert crossings == [
        ("account_at_address", "wangfang", GUESSER),
        ("address", "nobody29", BRANCH_NAT),
        ("account", "lina", "192.0.2.50"),
    ]
    for entry in entries:
        until = datetime.fromisoformat(str(entry.details["until"]))
        assert until - entry.at == pytest.approx(timedelta(minutes=1), abs=timedelta(seconds=5))


async def test_an_admin_unlocks_an_account_from_the_command_line_on_the_record(
    proxied, services, database_url: str, tmp_path: Path, cast: Cast
) -> None:
    spread = [("wangfang", GUESSER)] * 20 + [("wangfang", f"192.0.2.{n}") for n in range(1, 60)]
    await add_failures(services, spread, utcnow())
    assert (await attempt(proxied, "wangfang", PASSWORD, GUESSER)).status_code == 429
    assert (await attempt(proxied, "wangfang", PASSWORD, OFFICE)).status_code == 429

    unlock = ("user", "unlock", "wangfang")
    unlocked = await cli(database_url, tmp_path, *unlock)
    assert unlocked.returncode == 0, unlocked.stderr
    assert "Unlocked wangfang (79 failed logins forgotten)." in unlocked.stdout
    assert (await attempt(proxied, "wangfang", PASSWORD, GUESSER)).status_code == 200
    assert (await attempt(proxied, "wangfang", PASSWORD, OFFICE)).status_code == 200
    [entry] = await audited(services, "user.unlocked")
    assert entry.target == f"user:{cast['wangfang'].id}"
    assert entry.details == {"failures": 79}

    unknown = await cli(database_url, tmp_path, "user", "unlock", "nobody")
    assert unknown.returncode != 0
    assert "nobody" in unknown.stderr
