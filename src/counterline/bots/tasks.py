"""Outgoing webhooks' durable job (``bots.outgoing_webhook``) and what queues it.

A post that starts with a trigger word of a hook on its room queues a job in the post's own
transaction (``enqueue_for``, an in-transaction subscriber to ``MessagePosted``: messages
knows nothing of this package). So a post that rolls back calls nobody, and a process that
dies after the commit still calls. The job is an outside job (``JobSet.outside_job``): the
callback is called outside any transaction, a short ``CALL_TIMEOUT_SECONDS`` at most, and
its answer's ``text`` posted through the post writer as the hook's bot, with the job's id
as the client id (a retry after a stored answer posts it once). A failed call (no answer,
not 2xx) is retried by the job runner; a successful one is made once per job.

The post path reads the live hooks' trigger words from a copy refreshed every
``TRIGGERS_TTL_SECONDS`` (at once on this node when a hook is made or revoked), so a post
costs no query.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import httpx

from counterline.accounts.models import User
from counterline.bots import actions, queries
from counterline.db import Unit
from counterline.jobs.queue import enqueue
from counterline.jobs.registry import JobSet, RunningJob
from counterline.messages.events import MessagePosted
from counterline.messages.schemas import MAX_BODY_LENGTH

log = logging.getLogger(__name__)
JOB_KIND = "bots.outgoing_webhook"
CALL_TIMEOUT_SECONDS = 5.0
MAX_ANSWER_BYTES = 200_000
TRIGGERS_TTL_SECONDS = 5.0
ANSWER_ADDRESS = "127.0.0.1"  # the client address an answer is recorded with

UnitOf = Callable[[], AbstractAsyncContextManager[Unit]]
Post = Callable[[User, int, str, str, str], Awaitable[Any]]


class CallFailed(Exception):
    """The callback did not answer 2xx: the job is tried again later."""


@dataclass(frozen=True, slots=True)
class _Triggers:
    by_room: dict[int, list[tuple[int, list[str]]]]
    authors: frozenset[int]
    read_at: float


class OutgoingCalls:
    def __init__(self, reading: UnitOf, writing: UnitOf, post: Post) -> None:
        self._reading = reading
        self._writing = writing
        self._post = post
        self._triggers: _Triggers | None = None
        self.jobs = JobSet()
        self.jobs.outside_job(JOB_KIND)(self.call)

    def forget(self) -> None:
        """Read the hooks again at the next post (one was made or revoked here)."""
        self._triggers = None

    async def _current(self, unit: Unit) -> _Triggers:
        triggers = self._triggers
        if triggers is not None and time.monotonic() - triggers.read_at < TRIGGERS_TTL_SECONDS:
            return triggers
        by_room: dict[int, list[tuple[int, list[str]]]] = {}
        for hook_id, room_id, words in await queries.live_triggers(unit.session):
            by_room.setdefault(room_id, []).append((hook_id, words.split("\n")))
        authors = await queries.outgoing_authors(unit.session) if by_room else set()
        self._triggers = _Triggers(by_room, frozenset(authors), time.monotonic())
        return self._triggers

    async def enqueue_for(self, unit: Unit, event: MessagePosted) -> None:
        """In the post's transaction: a job per hook of the room whose trigger it starts
        with (never for an answer of an outgoing hook)."""
        triggers = await self._current(unit)
        hooks = triggers.by_room.get(event.room_id)
        if not hooks:
            return
        message = event.message
        if message["author"]["id"] in triggers.authors:
            return
        post = None
        for hook_id, words in hooks:
            word = actions.trigger_of(words, message["body"])
            if word is not None:
                post = post or actions.post_of(message)
                enqueue(unit, JOB_KIND, {"hook_id": hook_id, "trigger_word": word, "post": post})

    async def call(self, job: RunningJob) -> None:
        """Send the post to the hook's URL; post its answer's ``text``, if any."""
        async with self._reading() as unit:
            found = await queries.find_live_outgoing(unit.session, job.payload["hook_id"])
        if found is None:
            return  # revoked since: nothing to send
        hook, bot, room_name = found
        payload = actions.mattermost_payload(
            hook, room_name, job.payload["post"], job.payload["trigger_word"]
        )
        answer = await _send(hook.callback_url, payload, job.id)
        text = answer.get("text") if isinstance(answer, dict) else None
        if not isinstance(text, str) or not text.strip():
            return
        author = bot
        name = actions.answer_name(bot, answer.get("username"))
        if name is not None:
            async with self._writing() as unit:
                author = await actions.author_for(unit, hook.id, bot, hook.room_id, name)
            if author.id not in (self._triggers.authors if self._triggers else ()):
                self.forget()  # a new author: its answer must not trigger a hook
        body = text[:MAX_BODY_LENGTH]
        await self._post(author, hook.room_id, body, f"outgoing-hook-{job.id}", ANSWER_ADDRESS)


async def _send(url: str, payload: dict[str, Any], job_id: int) -> object:
    """POST the payload; the answer's JSON (None if it has none). Raises CallFailed."""
    headers = {"X-Counterline-Delivery": str(job_id)}  # the same on every retry
    try:
        async with (
            httpx.AsyncClient(timeout=CALL_TIMEOUT_SECONDS, follow_redirects=False) as http,
            http.stream("POST", url, json=payload, headers=headers) as response,
        ):
            body = await _read_capped(response.aiter_bytes())
    except httpx.HTTPError as error:
        raise CallFailed(f"{url}: {type(error).__name__}") from None
    if not 200 <= response.status_code < 300:
        raise CallFailed(f"{url}: HTTP {response.status_code}")
    try:
        return json.loads(body) if body.strip() else None
    except (ValueError, RecursionError):
        return None  # an answer that is not JSON posts nothing, as in Mattermost


async def _read_capped(chunks: Any) -> bytes:
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            return b""  # too long to be an answer: post nothing
        parts.append(chunk)
    return b"".join(parts)
