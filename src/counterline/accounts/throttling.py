"""Login throttling that slows guessers down without locking anyone out.

Three rules, each a growing delay after the last counted failure (docs/security.md has the
arithmetic):

- per account at one address: the first failures are free, then each costs a longer wait;
- per address across accounts (password spraying): applies only to accounts that have not
  logged in from that address lately, so the clerks behind a branch's NAT are spared;
- per account across addresses (distributed guessing): applies only at addresses the account
  has not logged in from lately, so the owner at a known address is never slowed by others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from counterline.accounts import queries
from counterline.errors import TooManyRequests
from counterline.i18n import N_

FIRST_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(minutes=60)
# An address an account logged in from within this long counts as the account's own.
KNOWN_ADDRESS_FOR = timedelta(days=90)


@dataclass(frozen=True)
class Rule:
    """Failures counted within ``window`` (for one key); from the ``free``-th on, a delay."""

    name: str
    free: int
    window: timedelta
    spares_known_addresses: bool


ACCOUNT_AT_ADDRESS = Rule("account_at_address", 5, timedelta(hours=24), False)
ADDRESS = Rule("address", 30, timedelta(hours=1), True)
ACCOUNT = Rule("account", 50, timedelta(hours=24), True)
RULES = (ACCOUNT_AT_ADDRESS, ADDRESS, ACCOUNT)


@dataclass(frozen=True)
class Tally:
    """What one rule counted before this attempt: how many failures, and the latest."""

    rule: Rule
    failures: int
    last: datetime | None


def delay_after(failures: int, free: int) -> timedelta:
    """The wait after the last of ``failures``: none before the ``free``-th failure, then
    one minute, doubling with each further failure, at most an hour."""
    if failures < free:
        return timedelta(0)
    doublings = min(failures - free, 6)  # 2**6 minutes is past the cap already
    return min(FIRST_DELAY * 2**doublings, MAX_DELAY)


def applies(tally: Tally, known_address: bool) -> bool:
    return not (known_address and tally.rule.spares_known_addresses)


def wait(tallies: list[Tally], known_address: bool, now: datetime) -> timedelta:
    """How long this attempt must still wait (zero when it may go ahead)."""
    longest = timedelta(0)
    for tally in tallies:
        if tally.last is None or not applies(tally, known_address):
            continue
        retry_at = tally.last + delay_after(tally.failures, tally.rule.free)
        longest = max(longest, retry_at - now)
    return longest


def crossed(tallies: list[Tally]) -> list[Rule]:
    """The rules whose delay the failure about to be counted starts."""
    return [tally.rule for tally in tallies if tally.failures + 1 == tally.rule.free]


def refusal(remaining: timedelta) -> TooManyRequests:
    seconds = max(1, math.ceil(remaining.total_seconds()))
    if seconds <= 60:  # so the minutes message always says 2 or more
        return TooManyRequests(
            N_("Too many failed logins. Try again in %(seconds)s seconds."),
            retry_after=seconds,
            seconds=seconds,
        )
    return TooManyRequests(
        N_("Too many failed logins. Try again in %(minutes)s minutes."),
        retry_after=seconds,
        minutes=math.ceil(seconds / 60),
    )


async def tally(db: AsyncSession, username: str, client_ip: str, now: datetime) -> list[Tally]:
    """Count each rule's failures before this attempt."""
    keys: dict[str, dict[str, str]] = {
        ACCOUNT_AT_ADDRESS.name: {"username": username, "client_ip": client_ip},
        ADDRESS.name: {"client_ip": client_ip},
        ACCOUNT.name: {"username": username},
    }
    tallies = []
    for rule in RULES:
        count, last = await queries.failures_since(db, now - rule.window, **keys[rule.name])
        tallies.append(Tally(rule, count, last))
    return tallies


async def is_known_address(db: AsyncSession, username: str, client_ip: str, now: datetime) -> bool:
    return await queries.logged_in_from(db, username, client_ip, since=now - KNOWN_ADDRESS_FOR)
