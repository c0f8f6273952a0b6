"""Quick reads: the hottest reads run their usual statements straight on SQLite.

A page of history and the room list are read again and again by every tab. On SQLite they
run the same Core statements as everywhere else, compiled by SQLAlchemy once, but executed
by the ``sqlite3`` driver on the event loop's thread, and their rows converted as
SQLAlchemy converts them (timestamps, JSON, enums, booleans): no greenlet switch, no
aiosqlite wrapper, and none of SQLAlchemy's per-execution and per-row machinery, which
cost more than the reads themselves (bench.http_api). As for every SQLite call here
(``sqlite_inline``), a read in WAL mode answers from the page cache and never waits for a
writer.

The functions that read take an ``AsyncSession`` and use only ``await session.connection()``
and that connection's ``execute`` and ``scalar`` with SELECT statements: ``QuickSession``
offers exactly that, so the same functions run on either, and what they answer cannot
differ (tests/test_quick_reads.py). A quick read is one deferred transaction (``BEGIN`` …
``COMMIT``), so its statements see one snapshot.

The hottest write, a post, runs its own statements the same way (``direct``): on the
sqlite3 connection under the writer's SQLAlchemy transaction, so they commit or roll back
with everything else it wrote (tests/test_quick_reads.py checks that they store and answer
what SQLAlchemy does).
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache, partial
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

from sqlalchemy import Dialect, Executable, Insert, Select, TextClause, create_engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.types import TypeEngine

from counterline.db import Unit, UtcDateTime
from counterline.sqlite_inline import InlineConnection

Loader = Callable[[Any], Any]
parse_time = datetime.fromisoformat
UTC_OFFSET = "+00:00"
IDLE_CONNECTIONS = 2


class Prepared(NamedTuple):
    """A statement compiled once: its SQL and positional parameters, their values where the
    caller gives none, the driver-side conversion of those that need one, and for each
    result column that SQLAlchemy converts the same conversion. A statement with a list
    written into its SQL (``IN``) is expanded for each run, as SQLAlchemy does."""

    compiled: SQLCompiler
    expanding: bool
    names: tuple[str, ...]
    defaults: dict[str, Any]
    binders: tuple[tuple[int, Loader], ...]
    loaders: tuple[tuple[int, Loader], ...]
    timestamps: tuple[int, ...]  # UtcDateTime columns, converted inline (the most frequent)
    row: Callable[[Sequence[Any]], tuple[Any, ...]]


def prepare(statement: Executable, dialect: Dialect, keys: Sequence[str] = ()) -> Prepared:
    """``keys``: an INSERT's columns, as its rows name them (SQLAlchemy compiles an INSERT
    for the columns given)."""
    if isinstance(statement, Select):
        compiled = statement.compile(dialect=dialect)
        result: list[tuple[str, TypeEngine[Any]]] = [
            (key, column.type)
            for key, column in zip(
                statement.selected_columns.keys(), statement.selected_columns, strict=True
            )
        ]
    elif isinstance(statement, TextClause | UpdateBase):
        compiled = statement.compile(dialect=dialect, column_keys=list(keys) or None)
        assert isinstance(compiled, SQLCompiler)
        if compiled.insert_prefetch or compiled.update_prefetch:
            raise TypeError("a column's Python-side default would be left out: give its value")
        # What a write's RETURNING answers (a text() statement declares none): SQLAlchemy
        # keeps it only on the compiled form, under this name.
        result = [(entry.keyname, entry.type) for entry in compiled._result_columns]
    else:
        raise TypeError(f"not a statement quick reads run: {type(statement).__name__}")
    assert isinstance(compiled, SQLCompiler)
    expanding = "POSTCOMPILE" in compiled.string
    names = () if expanding else tuple(compiled.positiontup or ())
    binds = [compiled.binds[name] for name in names]
    binders = (
        (index, processor)
        for index, bind in enumerate(binds)
        if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect))
    )
    types = [type_ for _, type_ in result]
    timestamps = tuple(i for i, type_ in enumerate(types) if isinstance(type_, UtcDateTime))
    loaders = (
        (index, processor)
        for index, type_ in enumerate(types)
        if index not in timestamps
        and (processor := type_.dialect_impl(dialect).result_processor(dialect, None))
    )
    return Prepared(
        compiled=compiled,
        expanding=expanding,
        names=names,
        defaults={
            name: bind.effective_value
            for name, bind in zip(names, binds, strict=True)
            if not bind.required
        },
        binders=tuple(binders),
        loaders=tuple(loaders),
        timestamps=timestamps,
        row=_row_type([key for key, _ in result]),
    )


def _row_type(keys: list[str]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """Rows whose columns read by name as SQLAlchemy's rows do; plain tuples where the
    names can't be fields (repeated, ``_no_label``, a keyword), read by position."""
    try:
        row_class = namedtuple("QuickRow", keys)  # type: ignore[misc]
    except ValueError:
        return tuple
    return partial(tuple.__new__, row_class)  # as ``_make`` does, without a Python call


def _converted(prepared: Prepared, rows: list[Any]) -> list[tuple[Any, ...]]:
    """The driver's rows converted as SQLAlchemy converts them, column by column (None
    stays None for every type here); a UtcDateTime is what SQLAlchemy answers for it on
    SQLite, an aware datetime in UTC."""
    if not rows or not (prepared.loaders or prepared.timestamps):
        return list(map(prepared.row, rows))
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True))
    for index in prepared.timestamps:
        values = columns[index]
        try:  # parsed with the offset written on: a tenth of the cost of .replace(tzinfo=)
            columns[index] = [
                None if value is None else parse_time(value + UTC_OFFSET) for value in values
            ]
        except ValueError:  # a value written with an offset of its own
            columns[index] = [
                None if value is None else _utc(parse_time(value)) for value in values
            ]
    for index, load in prepared.loaders:
        columns[index] = [None if value is None else load(value) for value in columns[index]]
    return list(map(prepared.row, zip(*columns, strict=True)))


def _utc(value: datetime) -> datetime:
    """As ``UtcDateTime`` answers a value the driver parsed."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class QuickResult:
    """The part of SQLAlchemy's ``Result`` the hot reads use, over rows read at once."""

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int = -1) -> None:
        self._rows = rows
        self.rowcount = rowcount  # rows a write changed, as the driver counts them

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self._rows)

    def all(self) -> list[tuple[Any, ...]]:
        return self._rows

    def first(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def one_or_none(self) -> tuple[Any, ...] | None:
        if len(self._rows) > 1:
            raise ValueError("more than one row")
        return self.first()

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None


class Statements:
    """Statements prepared for quick reads (``writes``: and for writes), each once (they are
    built once, at import). ``listeners`` are called with the SQL of each statement run."""

    def __init__(self, dialect: Dialect, *, writes: bool = False) -> None:
        self.dialect = dialect
        self.writes = writes
        self.listeners: list[Callable[[str], None]] = []
        self._prepared: WeakKeyDictionary[Executable, dict[tuple[str, ...], Prepared]] = (
            WeakKeyDictionary()
        )

    def prepared(self, statement: Executable, keys: tuple[str, ...] = ()) -> Prepared:
        try:
            return self._prepared[statement][keys]
        except KeyError:
            if not self.writes and not isinstance(statement, Select):
                raise TypeError(
                    f"quick reads run SELECT statements, not {type(statement).__name__}"
                ) from None
            found = prepare(statement, self.dialect, keys)
            self._prepared.setdefault(statement, {})[keys] = found
            return found


Parameters = Mapping[str, Any] | list[Mapping[str, Any]] | None


class QuickConnection:
    """What the hot statements ask of an ``AsyncConnection``, answered synchronously: a
    mapping of parameters runs the statement once, a list of them once each."""

    def __init__(self, driver: sqlite3.Connection, statements: Statements) -> None:
        self._driver = driver
        self._statements = statements

    @property
    def dialect(self) -> Dialect:
        return self._statements.dialect

    async def execute(self, statement: Executable, parameters: Parameters = None) -> QuickResult:
        many = parameters if isinstance(parameters, list) else [parameters or {}]
        if not many:
            raise ValueError("no parameter sets to run the statement with")
        keys = tuple(many[0]) if isinstance(statement, Insert) else ()
        prepared = self._statements.prepared(statement, keys)
        if len(many) == 1:
            return self._run(prepared, many[0])
        rows: list[tuple[Any, ...]] = []
        rowcount = 0
        for one in many:
            result = self._run(prepared, one)
            rows += result.all()
            rowcount += result.rowcount
        return QuickResult(rows, rowcount)

    async def scalar(self, statement: Executable, parameters: Parameters = None) -> Any:
        return (await self.execute(statement, parameters)).scalar()

    def _run(self, prepared: Prepared, parameters: Mapping[str, Any]) -> QuickResult:
        if prepared.expanding:
            sql, values = _expanded(prepared, parameters)
        else:
            sql = prepared.compiled.string
            given = {**prepared.defaults, **parameters}
            values = [given[name] for name in prepared.names]
            for index, bind in prepared.binders:
                values[index] = bind(values[index])
        for listen in self._statements.listeners:
            listen(sql)
        cursor = self._driver.execute(sql, values)
        return QuickResult(_converted(prepared, cursor.fetchall()), cursor.rowcount)


def _expanded(prepared: Prepared, parameters: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """The SQL and parameter values with the lists written out, as SQLAlchemy runs it."""
    state = prepared.compiled.construct_expanded_state(parameters)
    values = list(state.positional_parameters or ())
    for index, name in enumerate(state.positiontup or ()):
        if (bind := state.processors.get(name)) is not None:
            values[index] = bind(values[index])
    return state.statement, values


class QuickSession:
    """What the hot reads ask of an ``AsyncSession``: its connection."""

    def __init__(self, connection: QuickConnection) -> None:
        self._connection = connection

    async def connection(self) -> QuickConnection:
        return self._connection


class QuickReads:
    """Read-only connections to a SQLite file for quick reads. A quick read doesn't
    yield to the event loop, so one connection is in use at a time in practice; a few
    are kept idle."""

    def __init__(self, path: str, *, busy_timeout_seconds: float = 30) -> None:
        self._path = path
        self._busy_timeout_seconds = busy_timeout_seconds
        self._idle: list[sqlite3.Connection] = []
        self.statements = Statements(_sqlite_dialect())

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self._path,
            timeout=self._busy_timeout_seconds,
            isolation_level=None,  # BEGIN is ours (below)
            check_same_thread=False,
        )
        connection.execute("PRAGMA query_only=ON")
        connection.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer's job
        return connection

    @contextmanager
    def unit(self) -> Iterator[Unit]:
        """A read-only unit whose statements see one snapshot of the database."""
        driver = self._idle.pop() if self._idle else self._connect()
        driver.execute("BEGIN DEFERRED")
        try:
            yield Unit(QuickSession(QuickConnection(driver, self.statements)))  # type: ignore[arg-type]
        finally:
            driver.execute("COMMIT")
            if len(self._idle) < IDLE_CONNECTIONS:
                self._idle.append(driver)
            else:
                driver.close()

    def dispose(self) -> None:
        while self._idle:
            self._idle.pop().close()


def _sqlite_dialect() -> Dialect:
    """SQLAlchemy's SQLite dialect as an engine sets it up (for compiling and converting)."""
    engine = create_engine("sqlite://")
    with engine.connect():
        pass
    dialect = engine.dialect
    engine.dispose()
    return dialect


_DIRECT = "counterline.quick_reads.direct"


async def direct(session: AsyncSession) -> AsyncConnection | QuickConnection:
    """The session's connection for the statements of the hottest writes (a post). On an
    inline SQLite connection (``sqlite_inline``): its ``sqlite3`` connection, in the same
    transaction, running the same statements compiled once, without SQLAlchemy's
    per-execution work (which cost more than SQLite's own). Elsewhere: SQLAlchemy's."""
    known = session.info.get(_DIRECT)
    # Kept for the session's transaction: a later one may be on another connection.
    if known is not None and known[0] is session.sync_session.get_transaction():
        return known[1]
    connection = await session.connection()
    if connection.dialect.name != "sqlite":
        return connection
    driver = (await connection.get_raw_connection()).driver_connection
    if not isinstance(driver, InlineConnection):
        return connection
    quick = QuickConnection(driver.sqlite_connection, _write_statements())
    session.info[_DIRECT] = (session.sync_session.get_transaction(), quick)
    return quick


@cache
def _write_statements() -> Statements:
    return Statements(_sqlite_dialect(), writes=True)
