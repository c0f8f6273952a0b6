"""The audit log's hash chain: what an entry's hash covers, written once.

Each entry's ``entry_hash`` is the SHA-256 of its own fields and the hash of the entry
before it (``prev_hash``; the first entry follows ``GENESIS``), so changing, removing or
slipping in a row breaks a link that ``counterline audit verify`` finds. The format is frozen:
every stored hash depends on it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime

GENESIS = "0" * 64


def canonical_json(value: object) -> str:
    """One spelling of a JSON value: sorted keys, no spaces, ASCII only."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def as_stored(details: Mapping[str, object]) -> dict[str, object]:
    """The details as the database gives them back (tuples become lists, keys strings), so
    the hash written and the hash checked later are of the same value."""
    stored: dict[str, object] = json.loads(json.dumps(dict(details)))
    return stored


def entry_hash(
    *,
    prev_hash: str,
    id: int,
    at: datetime,
    actor_id: int | None,
    action: str,
    target: str,
    client_ip: str,
    details: Mapping[str, object],
) -> str:
    """The hex SHA-256 chaining one entry to ``prev_hash``."""
    fields = [
        prev_hash,
        id,
        at.astimezone(UTC).isoformat(timespec="microseconds"),
        actor_id,
        action,
        target,
        client_ip,
        details,
    ]
    return hashlib.sha256(canonical_json(fields).encode("ascii")).hexdigest()
