"""Opening the database: pragmas, migrations and transactions."""

import asyncio
import contextlib
import sqlite3
from pathlib import Path

import psycopg
import pytest

from bot.storage.database import Database, migrations
from bot.storage.interfaces import FAILURES_REPORTED, StorageError
from bot.storage.meta import MetaRepository


async def test_a_new_database_is_migrated_to_the_latest_version(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "new.db")
    try:
        assert await database.user_version() == len(migrations())
        mode = await database.fetchvalue("PRAGMA journal_mode")
        timeout = await database.fetchvalue("PRAGMA busy_timeout")
        foreign_keys = await database.fetchvalue("PRAGMA foreign_keys")
    finally:
        await database.close()

    assert mode == "wal"
    assert timeout >= 1000
    assert foreign_keys == 1


async def test_reopening_applies_no_migration_twice(tmp_path: Path) -> None:
    path = tmp_path / "herald.db"
    first = await Database.open(path)
    await first.execute(
        "INSERT INTO chats (id, kind, title, timezone, created_at, updated_at)"
        " VALUES (1, 'private', 'Ada', 'UTC', 0, 0)"
    )
    await first.close()

    second = await Database.open(path)
    try:
        version = await second.user_version()
        chats = await second.fetchvalue("SELECT COUNT(*) FROM chats")
    finally:
        await second.close()

    assert version == len(migrations())
    assert chats == 1


def test_migrations_are_numbered_without_gaps() -> None:
    numbers = [number for number, _, _ in migrations()]

    assert numbers == list(range(1, len(numbers) + 1))


async def test_a_failed_transaction_leaves_nothing_behind(database: Database) -> None:
    async def insert_the_same_chat_twice() -> None:
        async with database.transaction() as sql:
            for title in ("Ada", "Ada again"):
                await sql.execute(
                    "INSERT INTO chats (id, kind, title, timezone, created_at, updated_at)"
                    " VALUES (1, 'private', ?, 'UTC', 0, 0)",
                    (title,),
                )

    with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)):
        await insert_the_same_chat_twice()

    assert await database.fetchvalue("SELECT COUNT(*) FROM chats") == 0


async def test_a_file_that_is_not_a_database_is_refused_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are not the tables you are looking for" * 100)

    with pytest.raises(StorageError, match=r"notes\.db"):
        await Database.open(path)


async def test_an_unwritable_location_is_refused_with_its_path(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")

    with pytest.raises(StorageError, match="cannot open"):
        await Database.open(blocker / "herald.db")


async def test_a_transaction_cancelled_while_waiting_to_begin_leaves_the_database_usable(
    tmp_path: Path,
) -> None:
    path = tmp_path / "herald.db"
    database = await Database.open(path, busy_timeout=1.0)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the lock: BEGIN waits

    async def write() -> None:
        async with database.transaction() as sql:
            await sql.execute("INSERT INTO meta (key, value) VALUES ('cancelled', 1)")

    task = asyncio.create_task(write())
    await asyncio.sleep(0.2)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    other.execute("COMMIT")
    other.close()
    try:
        await database.execute("INSERT INTO meta (key, value) VALUES ('after', 1)")
        keys = [
            row[0]
            for row in await database.fetchall(
                "SELECT key FROM meta WHERE key != 'failures_reported_through' ORDER BY key"
            )
        ]
    finally:
        await database.close()

    assert keys == ["after"]


async def test_a_transaction_cancelled_between_begin_and_commit_is_rolled_back(
    tmp_path: Path,
) -> None:
    database = await Database.open(tmp_path / "herald.db")
    inside = asyncio.Event()

    async def write() -> None:
        async with database.transaction() as sql:
            await sql.execute("INSERT INTO meta (key, value) VALUES ('cancelled', 1)")
            inside.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(write())
    await inside.wait()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    try:
        await database.execute("INSERT INTO meta (key, value) VALUES ('after', 1)")
        keys = [
            row[0]
            for row in await database.fetchall(
                "SELECT key FROM meta WHERE key != 'failures_reported_through' ORDER BY key"
            )
        ]
    finally:
        await database.close()

    assert keys == ["after"]


async def test_a_failed_commit_is_rolled_back_and_the_next_write_works(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "herald.db")

    async def orphan_topic() -> None:
        async with database.transaction() as sql:
            # A deferred foreign key fails at COMMIT, which leaves the transaction open.
            await sql.execute("PRAGMA defer_foreign_keys = ON")
            await sql.execute(
                "INSERT INTO topics (chat_id, query, canonical, created_at)"
                " VALUES (404, 'Gaza', 'gaza', 0)"
            )

    try:
        with pytest.raises(sqlite3.IntegrityError):
            await orphan_topic()
        await database.execute("INSERT INTO meta (key, value) VALUES ('after', 1)")
        topics = await database.fetchvalue("SELECT COUNT(*) FROM topics")
        keys = [
            row[0]
            for row in await database.fetchall(
                "SELECT key FROM meta WHERE key != 'failures_reported_through'"
            )
        ]
    finally:
        await database.close()

    assert topics == 0
    assert keys == ["after"]


async def test_a_reader_answers_while_a_writer_holds_the_lock(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "herald.db")
    await database.execute("INSERT INTO meta (key, value) VALUES ('before', 1)")
    holding = asyncio.Event()
    release = asyncio.Event()

    async def long_write() -> None:
        async with database.transaction() as sql:
            await sql.execute("INSERT INTO meta (key, value) VALUES ('during', 1)")
            holding.set()
            await release.wait()

    task = asyncio.create_task(long_write())
    await holding.wait()
    try:
        keys = await asyncio.wait_for(
            database.fetchall("SELECT key FROM meta WHERE key != 'failures_reported_through'"),
            timeout=1,
        )
    finally:
        release.set()
        await task
        await database.close()

    assert [row[0] for row in keys] == ["before"]


async def test_upgrading_tells_admins_of_no_failure_from_before(tmp_path: Path) -> None:
    path = tmp_path / "herald.db"
    old = sqlite3.connect(path, isolation_level=None)
    for number, _, sql in migrations():
        if number < 8:
            old.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {number};\nCOMMIT;")
    old.execute(
        "INSERT INTO chats (id, kind, timezone, created_at, updated_at)"
        " VALUES (1, 'private', 'UTC', 0, 0)"
    )
    old.executemany(
        "INSERT INTO outbox (chat_id, kind, priority, text, state, not_before, created_at)"
        " VALUES (1, 'notice', 0, 'x', 'failed', 0, 0)",
        [()] * 3,
    )
    old.close()

    database = await Database.open(path)
    try:
        reported = await MetaRepository(database).get_int(FAILURES_REPORTED)
    finally:
        await database.close()

    assert reported == 3
