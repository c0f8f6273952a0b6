"""Recently verified sessions and API tokens, so most requests skip the lookup.

A hit is still checked for expiry. Every node forgets a user's entries when an
``AccountChanged`` or ``SessionEnded`` event about them arrives (logout, password,
language, branch); anything else (e.g. a change made by a CLI command while no Redis
carries its events) shows within ``ttl_seconds``.
"""

from __future__ import annotations

import time

from counterline.accounts.actions import Identity
from counterline.conditional import etag_of

IDENTITY_TTL_SECONDS = 5.0
MAX_ENTRIES = 50_000
SWEEP_EVERY_PUTS = 1_000


class IdentityCache:
    def __init__(self, ttl_seconds: float = IDENTITY_TTL_SECONDS) -> None:
        self._ttl = ttl_seconds
        self._entries: dict[str, tuple[float, Identity]] = {}
        self._puts = 0

    def get(self, key: str) -> Identity | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, identity = entry
        if time.monotonic() - stored_at > self._ttl:
            del self._entries[key]
            return None
        return identity

    def put(self, key: str, identity: Identity) -> None:
        self._puts += 1
        # Entries nobody asks for again (a tab that connected once) are swept now and then.
        if self._puts % SWEEP_EVERY_PUTS == 0 or len(self._entries) >= MAX_ENTRIES:
            self._drop_stale()
        if len(self._entries) < MAX_ENTRIES:
            self._entries[key] = (time.monotonic(), identity)

    def forget_user(self, user_id: int) -> None:
        for key, (_, identity) in list(self._entries.items()):
            if identity.user.id == user_id:
                del self._entries[key]

    def _drop_stale(self) -> None:
        oldest = time.monotonic() - self._ttl
        for key, (stored_at, _) in list(self._entries.items()):
            if stored_at < oldest:
                del self._entries[key]


DIRECTORY_TTL_SECONDS = 2.0


class DirectoryCache:
    """The staff directory (GET /api/v1/users), JSON-encoded with its validator.

    With a thousand users it costs more than a room page, and every room page asks for it.
    Account changes (AccountChanged) and presence changes (PresenceSeen) drop the copy at
    once, so online flags and last-seen times are exact; anything else (a new user, a
    renamed branch) shows within ``ttl_seconds``.
    """

    def __init__(self, ttl_seconds: float = DIRECTORY_TTL_SECONDS) -> None:
        self._ttl = ttl_seconds
        self._entry: tuple[bytes, str] | None = None
        self._made_at = 0.0
        self.generation = 0

    def get(self) -> tuple[bytes, str] | None:
        """The encoded directory and its ETag, if a fresh copy is held."""
        if self._entry is None or time.monotonic() - self._made_at > self._ttl:
            return None
        return self._entry

    def put(self, encoded: bytes, generation: int) -> tuple[bytes, str]:
        """Hold ``encoded``, read while ``generation`` was current, with its ETag (a digest
        of 200 KB costs a millisecond: made once here). A copy read across a ``forget`` may
        miss that change, so it is answered but not held."""
        entry = (encoded, etag_of(encoded))
        if generation == self.generation:
            self._entry, self._made_at = entry, time.monotonic()
        return entry

    def forget(self) -> None:
        self._entry = None
        self.generation += 1
