"""The SQLite connection: opening, pragmas, migrations and write transactions."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

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


class StorageError(Exception):
    """The database cannot be opened or migrated; ``str()`` says why, for the operator."""


class Database:
    """The single connection the bot uses.

    aiosqlite runs every call of a connection on one worker thread, so coroutines share
    one connection and ``transaction()`` serialises writers; otherwise two coroutines could
    interleave statements inside each other's BEGIN/COMMIT. Every write goes through
    ``transaction()``: a bare write from another coroutine would silently join whichever
    transaction happens to be open.
    """

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._connection = connection
        self._write_lock = asyncio.Lock()
        self.path = path

    @classmethod
    async def open(cls, path: Path | str, *, busy_timeout: float = 5.0) -> Database:
        """Open (creating if need be) and migrate the database; ``busy_timeout`` in seconds.

        Raises StorageError when the file can't be opened or isn't a usable database.
        """
        path = Path(path)
        try:
            if str(path) != ":memory:":
                path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: no implicit transactions; transaction() issues BEGIN.
            connection = await aiosqlite.connect(path, isolation_level=None)
        except (OSError, sqlite3.Error) as error:
            raise StorageError(f"cannot open {path}: {error}") from error
        connection.row_factory = aiosqlite.Row
        try:
            await connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            await connection.execute("PRAGMA journal_mode = WAL")
            # NORMAL is durable across application crashes in WAL mode; only a power
            # loss can roll back the last commits.
            await connection.execute("PRAGMA synchronous = NORMAL")
            await connection.execute("PRAGMA foreign_keys = ON")
            database = cls(connection, path)
            await database.migrate()
        except sqlite3.DatabaseError as error:
            await connection.close()
            raise StorageError(f"cannot use {path}: {error}") from error
        except BaseException:
            await connection.close()
            raise
        return database

    async def close(self) -> None:
        async with self._write_lock:
            await self._connection.close()

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
                    log.info("Applying database migration %s", name)
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
        """A write transaction (BEGIN IMMEDIATE), committed on exit, rolled back on error."""
        async with self._write_lock:
            await self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
            except BaseException:
                await self._connection.rollback()
                raise
            await self._connection.commit()

    async def fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        async with self._connection.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetchone(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        async with self._connection.execute(sql, params) as cursor:
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
