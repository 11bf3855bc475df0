"""Choosing the storage backend from ``HERALD_DATABASE``: a SQLite file or a PostgreSQL URL."""

from __future__ import annotations

from pathlib import Path

from bot.storage.coordination import Coordinator, LocalCoordinator
from bot.storage.database import Database
from bot.storage.postgres.coordination import PostgresCoordinator
from bot.storage.postgres.database import PostgresDatabase, is_postgres_url

__all__ = ["is_postgres_url", "open_coordinator", "open_storage", "open_storage_read_only"]


async def open_storage(target: Path | str, *, pool_size: int = 5) -> Database:
    """Open (and migrate) the store ``target`` names; raises StorageError when it can't.

    A ``postgresql://`` URL opens a pool of ``pool_size`` connections to that database;
    anything else is the path of a SQLite file.
    """
    if is_postgres_url(target):
        return await PostgresDatabase.connect(str(target), pool_size=pool_size)
    return await Database.open(target)


async def open_storage_read_only(target: Path | str) -> Database:
    """Open the store to read it, never migrating or writing (``herald health``).

    Raises StorageError when there is no such store or it can't be read.
    """
    if is_postgres_url(target):
        return await PostgresDatabase.connect(str(target), pool_size=2, migrate=False)
    return await Database.open_read_only(target)


async def open_coordinator(database: Database, target: Path | str) -> Coordinator:
    """How this process shares the work on ``database`` (opened from ``target``) with
    others: a ``PostgresCoordinator``, listening already, on PostgreSQL; on SQLite, where one
    process runs, a ``LocalCoordinator``. Raises StorageError when it can't listen."""
    if isinstance(database, PostgresDatabase):
        coordinator = PostgresCoordinator(database, str(target))
        await coordinator.start()
        return coordinator
    return LocalCoordinator()
