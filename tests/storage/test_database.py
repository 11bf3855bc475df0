"""Opening the database: pragmas, migrations and transactions."""

import sqlite3
from pathlib import Path

import pytest

from bot.storage.database import Database, StorageError, migrations


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

    with pytest.raises(sqlite3.IntegrityError):
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
