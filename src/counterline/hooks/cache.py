"""Live hooks and their bots, remembered for a few seconds, so a tool posting hundreds of
times a second costs no lookups but the post itself.

Revoking a hook writes an access change for its bot (``access_feed``): every node forgets
the hook within ``access_poll_seconds`` (the revoking node at once), and ``ttl_seconds``
bounds anything else (a room renamed, an author's bot changed by hand).
"""

from __future__ import annotations

import time
from typing import TypeVar

from counterline.accounts.models import User
from counterline.hooks.actions import Poster

POSTER_TTL_SECONDS = 5.0
MAX_ENTRIES = 10_000
K = TypeVar("K")
V = TypeVar("V")


class PosterCache:
    def __init__(self, ttl_seconds: float = POSTER_TTL_SECONDS) -> None:
        self._ttl = ttl_seconds
        self._posters: dict[str, tuple[float, Poster]] = {}
        self._authors: dict[tuple[int, str], tuple[float, User]] = {}

    def poster(self, token_hash: str) -> Poster | None:
        return self._fresh(self._posters, token_hash)

    def put_poster(self, token_hash: str, poster: Poster) -> None:
        self._put(self._posters, token_hash, poster)

    def author(self, hook_id: int, name: str) -> User | None:
        return self._fresh(self._authors, (hook_id, name))

    def put_author(self, hook_id: int, name: str, user: User) -> None:
        self._put(self._authors, (hook_id, name), user)

    def forget_user(self, user_id: int) -> None:
        """Forget the hooks posting as ``user_id`` (their own bot), and that author."""
        for key, (_, poster) in list(self._posters.items()):
            if poster.bot.id == user_id:
                del self._posters[key]
        for author_key, (_, user) in list(self._authors.items()):
            if user.id == user_id:
                del self._authors[author_key]

    def _fresh(self, entries: dict[K, tuple[float, V]], key: K) -> V | None:
        entry = entries.get(key)
        if entry is None:
            return None
        if time.monotonic() - entry[0] > self._ttl:
            del entries[key]
            return None
        return entry[1]

    def _put(self, entries: dict[K, tuple[float, V]], key: K, value: V) -> None:
        if len(entries) >= MAX_ENTRIES:
            entries.clear()  # many hooks or names at once: start over rather than grow
        entries[key] = (time.monotonic(), value)
