"""The few seconds of verified sessions each process keeps."""

from __future__ import annotations

import time

from counterline.accounts.actions import Identity
from counterline.accounts.cache import IdentityCache
from counterline.accounts.models import User


def clerk(user_id: int) -> Identity:
    return Identity(user=User(id=user_id, username=f"clerk{user_id}", display_name="柜员"))


def test_a_cached_identity_lapses_after_its_time() -> None:
    cache = IdentityCache(ttl_seconds=0.05)
    cache.put("session:a", clerk(1))
    assert cache.get("session:a") is not None
    time.sleep(0.06)
    assert cache.get("session:a") is None


def test_a_changed_account_is_forgotten_in_every_session() -> None:
    cache = IdentityCache()
    cache.put("session:a", clerk(1))
    cache.put("token:b", clerk(1))
    cache.put("session:c", clerk(2))
    cache.forget_user(1)
    assert cache.get("session:a") is None
    assert cache.get("token:b") is None
    assert cache.get("session:c") is not None
