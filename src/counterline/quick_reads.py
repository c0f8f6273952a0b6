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
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

from sqlalchemy import Dialect, Executable, Select, create_engine
from sqlalchemy.sql.compiler import SQLCompiler

from counterline.db import Unit, UtcDateTime

Loader = Callable[[Any], Any]
parse_time = datetime.fromisoformat
UTC_OFFSET = "+00:00"
IDLE_CONNECTIONS = 2


class Prepared(NamedTuple):
    """A SELECT compiled once: its SQL and positional parameters, their values where the
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


def prepare(statement: Executable, dialect: Dialect) -> Prepared:
    if not isinstance(statement, Select):
        raise TypeError(f"quick reads run SELECT statements, not {type(statement).__name__}")
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    keys = list(statement.selected_columns.keys())
    expanding = "POSTCOMPILE" in compiled.string
    names = () if expanding else tuple(compiled.positiontup or ())
    binds = [compiled.binds[name] for name in names]
    binders = (
        (index, processor)
        for index, bind in enumerate(binds)
        if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect))
    )
    columns = list(statement.selected_columns)
    timestamps = tuple(
        i for i, column in enumerate(columns) if isinstance(column.type, UtcDateTime)
    )
    loaders = (
        (index, processor)
        for index, column in enumerate(columns)
        if index not in timestamps
        and (processor := column.type.dialect_impl(dialect).result_processor(dialect, None))
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
        row=_row_type(keys),
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

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self._rows = rows

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
    """Statements prepared for quick reads, each once (they are built once, at import).
    ``listeners`` are called with the SQL of each statement run."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.listeners: list[Callable[[str], None]] = []
        self._prepared: WeakKeyDictionary[Executable, Prepared] = WeakKeyDictionary()

    def prepared(self, statement: Executable) -> Prepared:
        try:
            return self._prepared[statement]
        except KeyError:
            self._prepared[statement] = found = prepare(statement, self.dialect)
            return found


class QuickConnection:
    """What the hot reads ask of an ``AsyncConnection``, answered synchronously."""

    def __init__(self, driver: sqlite3.Connection, statements: Statements) -> None:
        self._driver = driver
        self._statements = statements

    async def execute(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> QuickResult:
        return QuickResult(self._run(self._statements.prepared(statement), parameters or {}))

    async def scalar(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> Any:
        return (await self.execute(statement, parameters)).scalar()

    def _run(self, prepared: Prepared, parameters: Mapping[str, Any]) -> list[tuple[Any, ...]]:
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
        return _converted(prepared, self._driver.execute(sql, values).fetchall())


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
