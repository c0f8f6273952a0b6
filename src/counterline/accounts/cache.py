"""Recently verified sessions and API tokens, so most requests skip the lookup.

A hit is still checked for expiry. Every node forgets a user's entries when an
``AccountChanged`` or ``SessionEnded`` event about them arrives (logout, password,
language, branch); anything else (e.g. a change made by a CLI command while no Redis
carries its events) shows within ``ttl_seconds``.
"""

from __future__ import annotations

import time

from counterline.accounts.actions import Identity

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
    """The staff directory every room page embeds, JSON-encoded, for a couple of seconds.

    With a thousand users it costs more than the rest of the page. A page may show
    online flags or last-seen times up to ``ttl_seconds`` old: the stream's ``ready``
    frame corrects who is online a moment after the page loads, and account changes
    (AccountChanged) drop the copy at once.
    """

    def __init__(self, ttl_seconds: float = DIRECTORY_TTL_SECONDS) -> None:
        self._ttl = ttl_seconds
        self._encoded: str | None = None
        self._made_at = 0.0

    def get(self) -> str | None:
        if self._encoded is None or time.monotonic() - self._made_at > self._ttl:
            return None
        return self._encoded

    def put(self, encoded: str) -> None:
        self._encoded, self._made_at = encoded, time.monotonic()

    def forget(self) -> None:
        self._encoded = None
