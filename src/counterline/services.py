"""Everything a running Counterline process holds, created once per app."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from counterline.accounts.cache import DirectoryCache, IdentityCache
from counterline.accounts.events import ForgetAccount
from counterline.bots.tasks import OutgoingCalls
from counterline.config import Settings
from counterline.db import Database, Unit, create_engine, unit_of_work
from counterline.faq import documents as faq_documents
from counterline.hooks.cache import PosterCache
from counterline.jobs import tasks as job_tasks
from counterline.jobs.registry import combine, load_task_modules
from counterline.jobs.runner import JobRunner
from counterline.limits import TokenBuckets
from counterline.messages.actions import posted_event
from counterline.messages.attachments import room_members_read, with_attachments
from counterline.messages.events import MessagePosted
from counterline.messages.posting import PostingOrder
from counterline.messages.queries import list_after_anywhere
from counterline.messages.reading import ReadMarker
from counterline.messages.writer import MAX_GROUP, PostWriter
from counterline.notices import documents as notice_documents
from counterline.notices import tasks as notice_tasks
from counterline.notices.actions import reads_attachment
from counterline.ops.metrics import Metrics
from counterline.portal.tasks import PortalChecks
from counterline.presence.events import PresenceSeen
from counterline.presence.recording import PresenceRecorder, batch_pace
from counterline.presence.registry import LocalRegistry, PresenceRegistry, RedisRegistry
from counterline.presence.tracker import PresenceTracker
from counterline.previews.titles import HostList, LinkTitles
from counterline.quick_reads import QuickReads
from counterline.realtime.broker import Broker, make_broker
from counterline.realtime.events import Envelope, Event
from counterline.realtime.hub import Hub
from counterline.rooms.cards import RoomCards
from counterline.search import actions as search_actions
from counterline.site import tasks as site_tasks
from counterline.site.values import SiteSettings
from counterline.sqlite_inline import WalCheckpointer
from counterline.streams import tasks as stream_tasks
from counterline.streams.follower import AccessFollower
from counterline.streams.sweeper import sweep_idle_connections
from counterline.subscribers import Subscribers
from counterline.tasks import stop_task
from counterline.uploads.actions import Uploads
from counterline.uploads.storage import make_blob_store

# Each capability's durable jobs (its tasks.py), run by every process's JobRunner.
TASKS = (job_tasks.jobs, stream_tasks.jobs, site_tasks.jobs, notice_tasks.jobs)


@dataclass
class Services:
    settings: Settings
    database: Database
    hub: Hub = field(default_factory=Hub)
    metrics: Metrics = field(default_factory=Metrics)
    identities: IdentityCache = field(default_factory=IdentityCache)
    directory: DirectoryCache = field(default_factory=DirectoryCache)
    room_cards: RoomCards = field(default_factory=RoomCards)  # room lists' (rooms/cards.py)
    broker: Broker = field(init=False)
    presence: PresenceTracker = field(init=False)
    writer: PostWriter = field(init=False)
    read_marker: ReadMarker = field(init=False)
    posting_order: PostingOrder = field(init=False)
    recorder: PresenceRecorder = field(init=False)
    access: AccessFollower = field(init=False)
    committed: Subscribers = field(default_factory=Subscribers)
    link_titles: LinkTitles = field(init=False)
    jobs: JobRunner = field(init=False)
    uploads: Uploads = field(init=False)
    hook_rates: TokenBuckets = field(init=False)  # incoming webhooks' posts, per hook
    hook_posters: PosterCache = field(default_factory=PosterCache)
    outgoing_hooks: OutgoingCalls = field(init=False)  # outgoing webhooks' calls (bots.tasks)
    portal_checks: PortalChecks = field(init=False)  # the portal's status checks
    site: SiteSettings = field(init=False)  # the console's settings over the config file
    quick_reads: QuickReads | None = field(init=False)  # a SQLite file's (quick_reads)
    _job_runner: asyncio.Task[None] | None = None
    _sweeper: asyncio.Task[None] | None = None
    _checkpointer: asyncio.Task[None] | None = None
    _follower: asyncio.Task[None] | None = None
    _site_follower: asyncio.Task[None] | None = None
    _dictionary_follower: asyncio.Task[None] | None = None
    _sqlite_writer: contextlib.AbstractAsyncContextManager[object] = field(init=False)

    def __post_init__(self) -> None:
        self._sqlite_writer = (
            asyncio.Lock() if self.settings.is_sqlite else contextlib.nullcontext()
        )
        self.site = SiteSettings(self.settings)
        path = self.database.sqlite_path
        self.quick_reads = QuickReads(path) if path and self.settings.quick_reads else None
        self.link_titles = LinkTitles(HostList(self.settings.link_preview_hosts))
        self.broker = make_broker(self.hub, self.settings.redis_url, self._messages_since)
        registry: PresenceRegistry = (
            RedisRegistry(
                self.settings.redis_url,
                on_orphaned=lambda user_ids: self.recorder.announce_offline(user_ids),
                beat_seconds=self.settings.node_heartbeat_seconds,
                dead_after_seconds=self.settings.node_dead_after_seconds,
            )
            if self.settings.redis_url
            else LocalRegistry()
        )
        self.posting_order = PostingOrder(self.database, self.transaction)
        self.uploads = Uploads(
            make_blob_store(self.settings.effective_uploads_dir), self.settings.max_upload_bytes
        )
        # Who besides its uploader downloads an upload: a message's room, a notice's readers.
        self.uploads.readers.allow(room_members_read)
        self.uploads.readers.allow(reads_attachment)
        # What search finds besides messages (search.documents).
        notice_documents.register()  # the search page's sections, in this order
        faq_documents.register()
        self.writer = PostWriter(
            self.posting_order.group,
            max_in_flight=self.settings.max_queued_writes,
            on_group=self.metrics.posts_per_commit.observe,
        )
        self.read_marker = ReadMarker(self.transaction, max_group=MAX_GROUP)
        self.hook_rates = TokenBuckets(
            self.settings.hook_posts_per_second, self.settings.hook_burst
        )
        self.access = AccessFollower(
            self.hub,
            self.reading,
            on_changed=self._account_changed,
            poll_seconds=self.settings.access_poll_seconds,
        )
        self.portal_checks = PortalChecks(self.settings, self.reading, self.transaction)
        self.outgoing_hooks = OutgoingCalls(self.reading, self.transaction, self.writer.post)
        kinds = combine(
            [
                *TASKS,
                self.portal_checks.jobs,
                self.outgoing_hooks.jobs,
                *load_task_modules(self.settings.task_modules),
            ]
        )
        self.jobs = JobRunner(kinds, self.reading, self.transaction, self.settings)
        self.committed.subscribe_in_transaction(MessagePosted, self.outgoing_hooks.enqueue_for)
        self.hub.on(PresenceSeen, self._presence_seen)
        self.hub.on(ForgetAccount, lambda forget: self._account_changed(forget.user_id))
        self.recorder = PresenceRecorder(registry, self.transaction)
        self.presence = PresenceTracker(
            self.recorder.node_changed,
            grace_seconds=self.settings.presence_grace_seconds,
            registry=registry,
            pace=lambda: batch_pace(self.hub.connection_count),
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        engine = create_engine(
            settings.effective_database_url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
        )
        return cls(settings=settings, database=Database(engine))

    async def start(self) -> None:
        await asyncio.to_thread(self.uploads.store.prepare)
        await self.presence.registry.start()
        await self.broker.start()
        self.writer.start()
        self.read_marker.start()
        await self.access.start_at_end()
        self._follower = asyncio.create_task(self.access.run())
        await self.jobs.schedule_recurring()
        async with self.reading() as unit:
            await self.site.load(unit)
            await search_actions.load_dictionary(unit)
        self._site_follower = asyncio.create_task(self.site.follow(self.reading))
        # Business terms changed through another server reach this one within a minute.
        self._dictionary_follower = asyncio.create_task(
            search_actions.follow_dictionary(self.reading)
        )
        self._job_runner = asyncio.create_task(self.jobs.run())
        self._sweeper = asyncio.create_task(
            sweep_idle_connections(self.hub, self.settings.heartbeat_timeout_seconds)
        )
        if self.database.sqlite_path is not None:
            checkpointer = WalCheckpointer(self.database.sqlite_path)
            self._checkpointer = asyncio.create_task(checkpointer.run())

    async def stop(self) -> None:
        await self.writer.stop()
        await self.read_marker.stop()
        tasks = (self._job_runner, self._sweeper, self._checkpointer, self._follower)
        for task in (*tasks, self._site_follower, self._dictionary_follower):
            await stop_task(task)
        await self.portal_checks.stop()
        for connection in self.hub.connections():
            connection.close(1001)
        await self.presence.stop()
        await self.presence.registry.stop()
        await self.broker.stop()
        await self.link_titles.close()
        await self.database.dispose()
        if self.quick_reads is not None:
            self.quick_reads.dispose()
        self.uploads.close()

    @asynccontextmanager
    async def transaction(self, connection: AsyncConnection | None = None) -> AsyncIterator[Unit]:
        """A write transaction (on ``connection``, if given); its events are published
        after it commits.

        On SQLite, writers of this process queue on an asyncio lock rather than in
        SQLite's busy handler, which sleeps instead of waking the next writer.
        """
        started = time.perf_counter()
        async with (
            self._sqlite_writer,
            unit_of_work(self.database, write=True, connection=connection) as unit,
        ):
            yield unit
            await self.committed.before_commit(unit)  # in-transaction subscribers
        self.metrics.db_write.observe(time.perf_counter() - started)
        await unit.run_after_commit()
        await self.publish(unit.events)
        await self.committed.notify(unit.events)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Unit]:
        started = time.perf_counter()
        async with unit_of_work(self.database, write=False) as unit:
            yield unit
        self.metrics.db_read.observe(time.perf_counter() - started)

    @asynccontextmanager
    async def quick_read(self) -> AsyncIterator[Unit]:
        """A read for the hottest requests (a page of history, the room list): on a SQLite
        file, synchronous on the event loop's thread (``quick_reads``); else ``reading``."""
        if self.quick_reads is None:
            async with self.reading() as unit:
                yield unit
            return
        started = time.perf_counter()
        with self.quick_reads.unit() as unit:
            yield unit
        self.metrics.db_read.observe(time.perf_counter() - started)

    async def publish(self, events: Iterable[Event]) -> None:
        envelopes = [event.envelope() for event in events]
        # Some controls act here at once (a logout forgets cached identities); other nodes,
        # and this one again, apply them when the envelope reaches them.
        self.hub.apply_at_publish(envelopes)
        if envelopes:
            self.metrics.events_published += len(envelopes)
            await self.broker.publish(envelopes)

    async def _messages_since(self, after: int) -> list[Envelope]:
        async with self.reading() as unit:
            rows = await list_after_anywhere(unit.session, after, limit=500)
            rows = await with_attachments(unit.session, rows)
        return [posted_event(message).envelope() for message in rows]

    def _account_changed(self, user_id: int) -> None:
        self.identities.forget_user(user_id)
        self.hook_posters.forget_user(user_id)
        self.directory.forget()

    def _presence_seen(self, seen: PresenceSeen) -> None:
        for user_id, online in seen.changes:
            self.presence.registry.observe(user_id, online)
        self.directory.forget()  # its online flags and last-seen times
