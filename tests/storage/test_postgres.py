"""The PostgreSQL backend itself: its schema against SQLite's, migrations, connecting."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path

import psycopg
import pytest

from bot.app import check_health
from bot.services.health import HealthReport
from bot.storage.database import Database
from bot.storage.interfaces import StorageError
from bot.storage.meta import MetaRepository
from bot.storage.postgres.database import PostgresDatabase, migrations
from config import Settings
from tests.postgres import PostgresServer

# The full-text index is each backend's own (FTS5's tables, a tsvector table), and so is
# the record of applied migrations (PRAGMA user_version on SQLite).
# Bookkeeping of the migrations, and the send budget processes share (one process runs on a
# SQLite file, so it needs none).
POSTGRES_ONLY = {"schema_migrations", "send_budget"}


async def _sqlite_columns(path: Path) -> dict[str, set[str]]:
    database = await Database.open(path)
    await database.close()
    with sqlite3.connect(path) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'entries_fts%' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            table: {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
            for table in tables
        }


def _postgres_columns(url: str) -> dict[str, set[str]]:
    columns: dict[str, set[str]] = {}
    with psycopg.connect(url) as connection:
        for table, column in connection.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name NOT LIKE 'entries_fts%'"
        ):
            columns.setdefault(table, set()).add(column)
    return columns


async def test_every_sqlite_table_and_column_has_its_postgresql_counterpart(
    tmp_path: Path, postgres_url: str
) -> None:
    sqlite = await _sqlite_columns(tmp_path / "herald.db")
    postgres = {
        table: columns
        for table, columns in _postgres_columns(postgres_url).items()
        if table not in POSTGRES_ONLY
    }

    assert postgres == sqlite


def test_postgresql_migrations_are_numbered_without_gaps() -> None:
    numbers = [number for number, _, _ in migrations()]

    assert numbers == list(range(1, len(numbers) + 1))


async def test_processes_starting_together_apply_each_migration_once(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.create_empty()
    try:
        databases = await asyncio.gather(
            *(PostgresDatabase.connect(url, pool_size=2) for _ in range(3))
        )
        rows = await databases[0].fetchall("SELECT version FROM schema_migrations")
        version = await databases[1].user_version()
        for database in databases:
            await database.close()
    finally:
        postgres_server.drop(url)

    assert sorted(row[0] for row in rows) == [number for number, _, _ in migrations()]
    assert version == len(migrations())


async def test_an_unreachable_server_is_refused_in_one_line_without_the_password() -> None:
    url = "postgresql://herald:hunter2@127.0.0.1:9/herald?connect_timeout=1"

    with pytest.raises(StorageError) as error:
        await PostgresDatabase.connect(url)

    assert "hunter2" not in str(error.value)
    assert "\n" not in str(error.value)
    assert '"127.0.0.1", port 9 failed' in str(error.value)


async def test_herald_health_reads_the_heartbeat_on_postgresql_without_migrating(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    settings = Settings(database=postgres_url)
    before = await check_health(settings)
    database = await PostgresDatabase.connect(postgres_url)
    try:
        await MetaRepository(database).beat(dt.datetime.now(dt.UTC))
    finally:
        await database.close()
    empty = postgres_server.create_empty()
    try:
        unmigrated = await check_health(Settings(database=empty))
        tables = _postgres_columns(empty)
    finally:
        postgres_server.drop(empty)

    assert before == HealthReport(False, "no bot is running against this database")
    assert (await check_health(settings)).healthy
    assert not unmigrated.healthy
    assert "cannot read the database" in unmigrated.detail
    assert tables == {}


@pytest.mark.parametrize(
    ("url", "password"),
    [
        ("postgresql://herald:S3CRETpw@[::1/herald", "S3CRETpw"),
        ("postgresql://herald:S3CR%ZZETpw@127.0.0.1:1/herald", "S3CR%ZZETpw"),
        ("postgresql://herald@127.0.0.1:1/herald?password=S3CRETpw", "S3CRETpw"),
        ("postgresql://herald:S3CR%21Tpw@127.0.0.1:1/herald", "S3CR!Tpw"),
        ("postgresql://herald:S3cret@Pw0rd@127.0.0.1:1/herald", "Pw0rd"),
    ],
)
async def test_a_database_url_that_fails_is_named_without_its_password(
    url: str, password: str
) -> None:
    with pytest.raises(StorageError) as refused:
        await PostgresDatabase.connect(url)

    assert password not in str(refused.value)
    assert "cannot connect to PostgreSQL" in str(refused.value)
