"""The SQLite connection: opening, pragmas, migrations and write transactions."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import logging
import os
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, cast

import aiosqlite

from bot.storage.interfaces import DatabaseInUseError, StorageError

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

Params = Sequence[Any] | dict[str, Any]


def to_epoch(moment: dt.datetime) -> float:
    """Aware datetime → seconds since the epoch, the form every ``*_at`` column holds."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: Herald stores only aware UTC times")
    return moment.timestamp()


def from_epoch(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def migrations() -> list[tuple[int, str, str]]:
    """Every bundled migration as (number, name, sql), in order."""
    found = []
    for item in resources.files("bot.storage").joinpath("migrations").iterdir():
        match = _MIGRATION_NAME.match(item.name)
        if match:
            found.append((int(match[1]), item.name, item.read_text(encoding="utf-8")))
    found.sort()
    numbers = [number for number, _, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps, found {numbers}")
    return found


READERS = 2
# Batched work (pruning, deleting a feed or a chat) sizes each transaction to hold the write
# lock about this long, so commands and sends waiting to write never wait long.
BATCH_TARGET = 0.02
BATCH_MIN, BATCH_MAX = 10, 5000
# SQLite checkpoints the WAL inside the COMMIT that fills it past 1,000 pages, on the
# writer and with the write lock held: 4 MB copied and synced in the middle of someone's
# short transaction. A connection of its own checkpoints this often instead, passively,
# so it never blocks the writer.
CHECKPOINT_EVERY = 1.0

# One step of batched work: given the transaction and a row limit, it does at most that many
# rows and returns how many it did (0: done).
Step = Callable[[aiosqlite.Connection, int], Awaitable[int]]


async def _connect(
    path: Path, *, busy_timeout: float, read_only: bool = False
) -> aiosqlite.Connection:
    # isolation_level=None: no implicit transactions; transaction() issues BEGIN.
    target = str(path)
    if read_only:
        # No -wal file: nothing has the database open, and immutable reads it without
        # creating the -wal and -shm files a WAL reader otherwise needs.
        quiet = "" if path.with_name(path.name + "-wal").exists() else "&immutable=1"
        target = f"file:{path}?mode=ro{quiet}"
    connection = await aiosqlite.connect(target, isolation_level=None, uri=read_only)
    connection.row_factory = aiosqlite.Row
    try:
        await connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        await connection.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        await connection.close()
        raise
    return connection


class Database:
    """One writer connection and a few readers, for the life of the bot.

    aiosqlite runs every call of a connection on one worker thread, so coroutines share
    the writer and ``transaction()`` serialises them; otherwise two coroutines could
    interleave statements inside each other's BEGIN/COMMIT. Every write goes through
    ``transaction()``: a bare write from another coroutine would silently join whichever
    transaction happens to be open. Reads outside a transaction go to the readers, which
    WAL lets see the last commit while a write is under way, so a long write never delays
    a reply.
    """

    dialect = "sqlite"

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._connection = connection
        self._write_lock = asyncio.Lock()
        self._readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._all_readers: list[aiosqlite.Connection] = []
        self.path = path
        self.longest_write = 0.0  # seconds the write lock was held at most, for benchmarks
        self._checkpoints: asyncio.Task[None] | None = None
        self._checkpointer: aiosqlite.Connection | None = None

    async def _checkpoint_now_and_then(self, connection: aiosqlite.Connection) -> None:
        while True:
            await asyncio.sleep(CHECKPOINT_EVERY)
            try:
                await connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error as error:
                log.warning("WAL checkpoint failed, trying again shortly: %s", error)

    def _use_readers(self, readers: list[aiosqlite.Connection]) -> None:
        self._all_readers = readers
        for reader in readers:
            self._readers.put_nowait(reader)

    @classmethod
    async def open(
        cls, path: Path | str, *, busy_timeout: float = 5.0, readers: int = READERS
    ) -> Database:
        """Open (creating if need be) and migrate the database; ``busy_timeout`` in seconds.

        Raises StorageError when the file can't be opened or isn't a usable database.
        """
        path = Path(path)
        if path.is_dir():
            raise StorageError(f"{path} is a directory, not a database file")
        try:
            if str(path) != ":memory:":
                path.parent.mkdir(parents=True, exist_ok=True)
            connection = await _connect(path, busy_timeout=busy_timeout)
        except (OSError, sqlite3.Error) as error:
            raise StorageError(f"cannot open {path}: {error}") from error
        opened: list[aiosqlite.Connection] = []
        try:
            await connection.execute("PRAGMA journal_mode = WAL")
            # NORMAL is durable across application crashes in WAL mode; only a power
            # loss can roll back the last commits.
            await connection.execute("PRAGMA synchronous = NORMAL")
            database = cls(connection, path)
            await database.migrate()
            if str(path) != ":memory:":
                for _ in range(readers):
                    opened.append(await _connect(path, busy_timeout=busy_timeout))
                database._use_readers(list(opened))
                checkpointer = await _connect(path, busy_timeout=busy_timeout)
                opened.append(checkpointer)
                await connection.execute("PRAGMA wal_autocheckpoint = 0")
                database._checkpoints = asyncio.create_task(
                    database._checkpoint_now_and_then(checkpointer), name="WAL checkpoints"
                )
                database._checkpointer = checkpointer
        except sqlite3.DatabaseError as error:
            await _close_all([connection, *opened])
            raise StorageError(f"cannot use {path}: {error}") from error
        except BaseException:
            await _close_all([connection, *opened])
            raise
        return database

    @classmethod
    async def open_read_only(cls, path: Path | str) -> Database:
        """Open an existing database to read it, never migrating or writing (``herald health``).

        Raises StorageError when there is no such database or it can't be read.
        """
        path = Path(path)
        if not path.is_file():
            raise StorageError(f"no database at {path}")
        try:
            connection = await _connect(path, busy_timeout=1.0, read_only=True)
        except sqlite3.Error as error:
            raise StorageError(f"cannot open {path}: {error}") from error
        return cls(connection, path)

    async def close(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checkpoints
        async with self._write_lock:
            closing = [*self._all_readers, self._connection]
            if self._checkpointer is not None:
                closing.append(self._checkpointer)
            await _close_all(closing)

    async def trace(self, callback: Callable[[str], None] | None) -> None:
        """Have every connection pass each statement it runs to ``callback`` (None: stop)."""
        for connection in (self._connection, *self._all_readers):
            await connection.set_trace_callback(cast(Any, callback))

    async def user_version(self) -> int:
        row = await self.fetchone("PRAGMA user_version")
        assert row is not None
        return int(row[0])

    async def migrate(self) -> None:
        """Apply, in order, every migration newer than ``PRAGMA user_version``."""
        current = await self.user_version()
        pending = [migration for migration in migrations() if migration[0] > current]
        if not pending:
            return
        async with self._write_lock:
            # A migration may rebuild a table others refer to (SQLite's twelve-step ALTER):
            # foreign keys are off while it runs, and checked before it commits.
            await self._connection.execute("PRAGMA foreign_keys = OFF")
            try:
                for number, name, sql in pending:
                    # A new database is simply created; an upgrade is worth a line each.
                    log.log(logging.INFO if current else logging.DEBUG, "Applying %s", name)
                    await self._apply(number, name, sql)
            finally:
                await self._connection.execute("PRAGMA foreign_keys = ON")

    async def _apply(self, number: int, name: str, sql: str) -> None:
        try:
            await self._connection.executescript(f"BEGIN IMMEDIATE;\n{sql}")
            async with self._connection.execute("PRAGMA foreign_key_check") as cursor:
                broken = list(await cursor.fetchall())
            if broken:
                raise StorageError(f"migration {name} leaves {len(broken)} broken references")
            await self._connection.execute(f"PRAGMA user_version = {number}")
            await self._connection.commit()
        except BaseException:
            if self._connection.in_transaction:
                await self._connection.rollback()
            raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction (BEGIN IMMEDIATE), committed on exit, rolled back on error.

        Cancellation-safe: a task cancelled anywhere between BEGIN and COMMIT (even while
        either is still running on the connection's thread) leaves no transaction open, and
        a COMMIT that fails is rolled back, so the connection stays usable.
        """
        async with self._write_lock:
            started = time.perf_counter()
            try:
                await self._connection.execute("BEGIN IMMEDIATE")
                yield self._connection
                await self._connection.commit()
            except BaseException:
                # Shielded: a second cancel must not leave the rollback unsent. It is queued
                # behind whatever the thread still runs, so it always comes after the BEGIN.
                await asyncio.shield(self._rollback())
                raise
            finally:
                self.longest_write = max(self.longest_write, time.perf_counter() - started)

    async def in_batches(self, step: Step) -> int:
        """Run ``step`` in short transactions until it does nothing; returns rows done.

        Each transaction is sized to hold the write lock about ``BATCH_TARGET`` seconds,
        and other coroutines run between two, so a delete of millions of rows never
        freezes the bot.
        """
        # Small first: how long a row takes (its cascades, its indexes) is learnt as it goes.
        size, done = BATCH_MIN, 0
        while True:
            started = time.perf_counter()
            async with self.transaction() as sql:
                count = await step(sql, size)
            done += count
            if count < size:
                return done
            took = time.perf_counter() - started
            if took < BATCH_TARGET / 2:
                size = min(size * 2, BATCH_MAX)
            elif took > BATCH_TARGET:
                size = max(size // 2, BATCH_MIN)
            await asyncio.sleep(0)

    async def _rollback(self) -> None:
        # OperationalError: no transaction was open (BEGIN itself failed).
        with contextlib.suppress(sqlite3.OperationalError):
            await self._connection.execute("ROLLBACK")

    @asynccontextmanager
    async def _reader(self) -> AsyncIterator[aiosqlite.Connection]:
        if not self._all_readers:
            yield self._connection
            return
        reader = await self._readers.get()
        try:
            yield reader
        finally:
            self._readers.put_nowait(reader)

    async def fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        async with self._reader() as reader, reader.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetchone(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        async with self._reader() as reader, reader.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def fetchvalue(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def execute(self, sql: str, params: Params = ()) -> int:
        """One write statement in its own transaction; returns the rows it changed."""
        async with self.transaction() as connection:
            cursor = await connection.execute(sql, params)
            return cursor.rowcount

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        async with self.transaction() as connection:
            await connection.executemany(sql, rows)


@contextlib.contextmanager
def instance_lock(path: Path) -> Iterator[None]:
    """Hold the right to run the bot on this database for as long as the block lasts.

    Two bots on one SQLite file would both poll Telegram (each getting a Conflict) and send
    every alert twice. The lock is an exclusive ``flock`` on ``<database>.lock``, which the
    system releases when the process dies, so a crash never leaves it stale. Raises
    DatabaseInUseError naming the process that holds it, StorageError if it can't be made.
    """
    # Resolved: two spellings of one file (a symlink, ../x) must meet at one lock.
    path = path.resolve()
    lock_path = path.with_name(path.name + ".lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = lock_path.open("a+")
    except OSError as error:
        raise StorageError(f"cannot create {lock_path}: {error}") from error
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise DatabaseInUseError(
                f"{path} is in use by another herald (process {holder}); stop it first"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


async def _close_all(connections: Iterable[aiosqlite.Connection]) -> None:
    for connection in connections:
        with contextlib.suppress(sqlite3.Error, ValueError):
            await connection.close()
