"""Passwords (argon2) and random tokens (stored only as SHA-256 hashes)."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from concurrent.futures import Executor
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY34679"


async def hash_password(password: str, executor: Executor | None = None) -> str:
    """Argon2 is deliberately slow (~0.1 s): run it off the event loop, so sockets keep going
    (in ``executor`` if given, e.g. a low-priority thread for bulk imports)."""
    if executor is not None:
        return await asyncio.get_running_loop().run_in_executor(executor, _hasher.hash, password)
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    return await asyncio.to_thread(_verify, password_hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    """Verifying against this keeps unknown usernames as slow as wrong passwords. Made on
    first use, not at import: a hash takes ~0.17 s, and every command-line call imports this."""
    return _hasher.hash("counterline-dummy-password")


def generate_password() -> str:
    """A one-time password without look-alike characters (no 1/l/I, 0/O, B/8, E)."""
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(14))


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
