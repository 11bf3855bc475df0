"""Fixtures shared by every test: a fixed clock, a real database, a loopback feed server.

The ``database`` fixture is a real SQLite file and, for the same test again, a fresh
PostgreSQL database on a server the test run starts itself (tests/postgres.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from hypothesis import settings

from bot.sandbox.feedserver import FeedServer
from bot.storage.backends import open_storage
from bot.storage.database import Database
from bot.storage.postgres.database import PostgresDatabase
from tests.postgres import PostgresServer, start_server

NOW = dt.datetime(2026, 3, 14, 9, 30, tzinfo=dt.UTC)

# CI runs the same examples every time, so a red build is never a roll of the dice; a
# developer's runs keep exploring new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # trust_env=False: a proxy set in the environment must not see loopback traffic.
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    yield from start_server()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test alone."""
    url = postgres_server.create()
    try:
        yield url
    finally:
        postgres_server.drop(url)


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """The store, once on each backend: the same test must pass on both."""
    if request.param == "sqlite":
        db = await Database.open(tmp_path / "herald.db")
    else:
        db = await PostgresDatabase.connect(request.getfixturevalue("postgres_url"))
    try:
        yield db
    finally:
        await db.close()


OpenAgain = Callable[[], Awaitable[Database]]


@pytest.fixture
async def open_again(database: Database) -> AsyncIterator[OpenAgain]:
    """Opens the ``database`` fixture's store once more, on connections of its own, as
    another Herald process would (closing twice is harmless: a test may close one early)."""
    target = database.url if isinstance(database, PostgresDatabase) else database.path
    opened: list[Database] = []

    async def open_one() -> Database:
        opened.append(await open_storage(target, pool_size=2))
        return opened[-1]

    yield open_one
    for other in opened:
        await other.close()


@contextlib.asynccontextmanager
async def failing_updates(
    database: Database, table: str, column: str
) -> AsyncIterator[tuple[type[Exception], ...]]:
    """While inside, every UPDATE of ``table.column`` fails (a crash at that point); yields
    the exceptions the failure surfaces as."""
    if database.dialect == "postgresql":
        await database.execute(
            "CREATE FUNCTION herald_test_crash() RETURNS trigger LANGUAGE plpgsql"
            " AS $$ BEGIN RAISE EXCEPTION 'killed'; END $$"
        )
        await database.execute(
            f"CREATE TRIGGER crash BEFORE UPDATE OF {column} ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION herald_test_crash()"
        )
        yield (psycopg.errors.RaiseException,)
        await database.execute(f"DROP TRIGGER crash ON {table}")
        return
    await database.execute(
        f"CREATE TRIGGER crash BEFORE UPDATE OF {column} ON {table}"
        " BEGIN SELECT RAISE(ABORT, 'killed'); END"
    )
    yield (sqlite3.IntegrityError,)
    await database.execute("DROP TRIGGER crash")
