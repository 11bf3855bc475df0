"""The PostgreSQL database: a connection pool, migrations under an advisory lock, transactions.

It offers what the repositories use of the SQLite ``Database`` (``fetchall``, ``fetchone``,
``fetchvalue``, ``execute``, ``executemany``, ``transaction``, ``in_batches``), and its
transactions yield a connection answering the subset of aiosqlite's that they call
(``execute`` → a cursor with ``fetchone``, ``fetchall`` and ``rowcount``; ``executemany``),
so one repository serves both backends. Statements are rewritten by ``dialect.translate``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Generator, Iterable, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote

import aiosqlite
import psycopg
from psycopg.rows import RowMaker
from psycopg_pool import AsyncConnectionPool

from bot.domain import first_line
from bot.storage.database import Database, Params
from bot.storage.interfaces import StorageError
from bot.storage.postgres.dialect import translate
from config.logging import redact

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# pg_advisory_lock keys: any two distinct bigints; these spell "herald" and a purpose.
MIGRATION_LOCK = 0x6865_7261_6C64_0001
POOL_SIZE = 5


def is_postgres_url(target: str | Path) -> bool:
    """Whether ``HERALD_DATABASE`` names a PostgreSQL server rather than a SQLite file."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def migrations() -> list[tuple[int, str, str]]:
    """Every bundled PostgreSQL migration as (number, name, sql), in order."""
    found = []
    folder = resources.files("bot.storage.postgres").joinpath("migrations")
    for item in folder.iterdir():
        match = _MIGRATION_NAME.match(item.name)
        if match:
            found.append((int(match[1]), item.name, item.read_text(encoding="utf-8")))
    found.sort()
    numbers = [number for number, _, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps, found {numbers}")
    return found


class Row(tuple[Any, ...]):
    """A result row read by position or by column name, as ``aiosqlite.Row`` is."""

    _names: dict[str, int]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


def _rows(cursor: Any) -> RowMaker[Row]:
    names = {column.name: index for index, column in enumerate(cursor.description or ())}

    def make(values: Sequence[Any]) -> Row:
        row = Row(values)
        row._names = names
        return row

    return make


class _Cursor:
    def __init__(self, cursor: psycopg.AsyncCursor[Any]) -> None:
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    async def fetchone(self) -> Row | None:
        return cast(Row | None, await self._cursor.fetchone())

    async def fetchall(self) -> list[Row]:
        return cast(list[Row], await self._cursor.fetchall())


class _Execution:
    """What ``execute`` returns: awaited, or entered with ``async with``, as aiosqlite's."""

    def __init__(self, connection: psycopg.AsyncConnection[Any], sql: str, params: Params):
        self._run = self._execute(connection, sql, params)

    @staticmethod
    async def _execute(
        connection: psycopg.AsyncConnection[Any], sql: str, params: Params
    ) -> _Cursor:
        cursor = connection.cursor()
        await cursor.execute(translate(sql), params)
        return _Cursor(cursor)

    def __await__(self) -> Generator[Any, None, _Cursor]:
        return self._run.__await__()

    async def __aenter__(self) -> _Cursor:
        return await self._run

    async def __aexit__(self, *_: object) -> None:
        return None


class Connection:
    """One pooled connection inside a transaction, answering as an aiosqlite connection."""

    def __init__(self, connection: psycopg.AsyncConnection[Any]) -> None:
        self.raw = connection

    def execute(self, sql: str, parameters: Params = ()) -> _Execution:
        return _Execution(self.raw, sql, parameters)

    async def executemany(self, sql: str, parameters: Iterable[Params]) -> _Cursor:
        cursor = self.raw.cursor()
        rows = list(parameters)
        if rows:
            await cursor.executemany(translate(sql), rows)
        return _Cursor(cursor)


class PostgresDatabase(Database):
    """A pool of connections to one PostgreSQL database, shared with other Herald processes.

    Writes of this process go through ``transaction()`` one at a time, as on SQLite, so
    the repositories' read-then-write transactions keep the meaning they have there;
    other processes write concurrently, and what they must not both do (claim a message,
    hold a lease) is arbitrated by row locks and advisory locks in the database.
    """

    dialect = "postgresql"

    def __init__(self, pool: AsyncConnectionPool[Any], url: str) -> None:
        # Not Database.__init__: that one wraps a SQLite connection.
        self._pool = pool
        self.url = url
        self.path = Path("postgresql")
        self._write_lock = asyncio.Lock()
        self.longest_write = 0.0

    @classmethod
    async def connect(
        cls, url: str, *, pool_size: int = POOL_SIZE, migrate: bool = True
    ) -> PostgresDatabase:
        """Connect to ``url`` (a ``postgresql://`` URL) and apply pending migrations.

        Raises StorageError naming the server's answer (never the password) when it can't.
        """
        try:
            # One attempt first, for a one-line answer: the pool would retry and log each.
            probe = await psycopg.AsyncConnection.connect(url)
            await probe.close()
        except psycopg.Error as error:
            raise StorageError(f"cannot connect to PostgreSQL: {_reason(error, url)}") from None
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=max(pool_size, 2),
            open=False,
            # A connection the server dropped (a restart) is replaced when next taken, so
            # a restart costs the work under way, not the next query of each connection.
            check=AsyncConnectionPool.check_connection,
            kwargs={
                "application_name": "herald",
                "autocommit": True,
                "row_factory": _rows,
                "cursor_factory": psycopg.AsyncClientCursor,
            },
            name="herald",
        )
        try:
            await pool.open(wait=True, timeout=10.0)
        except (psycopg.Error, TimeoutError) as error:
            await pool.close()
            raise StorageError(f"cannot connect to PostgreSQL: {_reason(error, url)}") from None
        database = cls(pool, url)
        if not migrate:
            return database
        try:
            await database.migrate()
        except BaseException:
            await pool.close()
            raise
        return database

    async def close(self) -> None:
        await self._pool.close()

    async def user_version(self) -> int:
        value = await self.fetchvalue(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"
            " WHERE to_regclass('schema_migrations') IS NOT NULL"
        )
        return int(value or 0)

    async def migrate(self) -> None:
        """Apply every migration newer than the newest recorded in ``schema_migrations``.

        Under a session advisory lock, so processes starting together apply each once:
        the second waits, then finds nothing left to do.
        """
        async with self._pool.connection() as connection:
            await connection.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
            try:
                await connection.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                    " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
                )
                cursor = await connection.execute(
                    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"
                )
                row = await cursor.fetchone()
                current = int(row[0]) if row else 0
                for number, name, sql in migrations():
                    if number <= current:
                        continue
                    log.log(logging.INFO if current else logging.DEBUG, "Applying %s", name)
                    async with connection.transaction():
                        await connection.execute(cast(Any, sql))
                        await connection.execute(
                            "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                            (number, name),
                        )
            except psycopg.Error as error:
                raise StorageError(f"cannot migrate the PostgreSQL database: {error}") from error
            finally:
                await connection.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """A transaction on one pooled connection, committed on exit, rolled back on error."""
        async with self._write_lock:
            started = time.perf_counter()
            try:
                async with self._pool.connection() as connection, connection.transaction():
                    # The adapter answers what the repositories call of aiosqlite's.
                    yield cast(aiosqlite.Connection, Connection(connection))
            finally:
                self.longest_write = max(self.longest_write, time.perf_counter() - started)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A pooled connection of its own, outside ``transaction()`` (locks, notifications)."""
        async with self._pool.connection() as connection:
            yield connection

    async def fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        async with self._pool.connection() as connection:
            cursor = await connection.execute(cast(Any, translate(sql)), params)
            return cast(list[aiosqlite.Row], await cursor.fetchall())

    async def fetchone(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        async with self._pool.connection() as connection:
            cursor = await connection.execute(cast(Any, translate(sql)), params)
            return cast(aiosqlite.Row | None, await cursor.fetchone())

    async def execute(self, sql: str, params: Params = ()) -> int:
        """One write statement in its own transaction; returns the rows it changed."""
        async with self.transaction() as connection:
            cursor = await connection.execute(sql, params)
            return cursor.rowcount

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        async with self.transaction() as connection:
            await connection.executemany(sql, rows)


def _reason(error: BaseException, url: str) -> str:
    """The error's first line without the URL's password: libpq names host, port and user,
    but echoes a URL it can't parse, or the part of it that broke, whole."""
    return redact(first_line(error), url_secrets(url))


def url_secrets(url: str) -> list[str]:
    """What of a ``postgresql://`` URL must not be shown: the URL itself and its password,
    as written and percent-decoded, from the user part or a ``password=`` parameter."""
    secrets = [url]
    rest = url.partition("://")[2]
    if "@" in rest:
        password = rest.rpartition("@")[0].partition(":")[2]
        # A raw "@" in the password: libpq takes the host from the first "@", and an
        # error naming that host would show the part of the password after it.
        secrets += [password, *password.split("@")]
    secrets.extend(re.findall(r"password=([^&\s\"']+)", url))
    secrets += [unquote(secret) for secret in secrets]
    return sorted({secret for secret in secrets if secret}, key=len, reverse=True)


async def drop_everything(url: str) -> None:
    """Empty the database at ``url`` (tests and benchmarks that reuse one)."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
        await connection.execute("DROP SCHEMA public CASCADE")
        await connection.execute("CREATE SCHEMA public")
