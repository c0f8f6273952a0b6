"""Every PostgreSQL advisory-lock key Counterline takes, named once.

PostgreSQL has two separate key spaces: one ``bigint`` (``pg_advisory_lock(key)``) and
pairs of ``int`` (``pg_advisory_lock(namespace, key)``, here ``(namespace, hashtext(text))``
for locks per account or per address). A value means one thing within its space; the two
spaces never collide, which is why 7411002 appears in both. Add a key here, never as a
literal where it is taken (tests/test_architecture.py checks both).
"""

from __future__ import annotations

from enum import IntEnum, unique


@unique
class Key(IntEnum):
    """Single keys: ``pg_advisory_[xact_]lock(key)``."""

    # messages: ids commit in increasing order (transaction-scoped)
    MESSAGE_COMMIT_ORDER = 7411001
    # messages: one group of posts at a time until its events are published (session-scoped)
    MESSAGE_POSTING_ORDER = 7411002
    # audit: entries take their ids and chain hashes in commit order (transaction-scoped)
    AUDIT_CHAIN = 7411003


@unique
class Namespace(IntEnum):
    """First halves of two-part keys: ``pg_advisory_xact_lock(namespace, hashtext(text))``."""

    # accounts: login attempts for one username, then for one client address, queue up
    LOGIN_ATTEMPTS_BY_USERNAME = 7411002
    LOGIN_ATTEMPTS_BY_ADDRESS = 7411003
