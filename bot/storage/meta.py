"""The meta table: small named facts about the running bot."""

from __future__ import annotations

import datetime as dt
import sqlite3

import psycopg

from bot.storage.database import Database, from_epoch, to_epoch
from bot.storage.interfaces import StorageError

HEARTBEAT = "heartbeat_at"


class MetaRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def beat(self, now: dt.datetime) -> None:
        await self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (HEARTBEAT, to_epoch(now)),
        )

    async def clear_beat(self) -> None:
        await self._db.execute("DELETE FROM meta WHERE key = ?", (HEARTBEAT,))

    async def last_beat(self) -> dt.datetime | None:
        """The last heartbeat; raises StorageError when the database can't be read."""
        try:
            value = await self._db.fetchvalue("SELECT value FROM meta WHERE key = ?", (HEARTBEAT,))
        except (sqlite3.Error, psycopg.Error) as error:
            raise StorageError(str(error).splitlines()[0]) from error
        return None if value is None else from_epoch(float(value))

    async def get_int(self, key: str, default: int = 0) -> int:
        value = await self._db.fetchvalue("SELECT value FROM meta WHERE key = ?", (key,))
        return default if value is None else int(value)

    async def set_int(self, key: str, value: int) -> None:
        await self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    async def get_text(self, key: str) -> str | None:
        value = await self._db.fetchvalue("SELECT value FROM meta WHERE key = ?", (key,))
        return None if value is None else str(value)

    async def set_text_once(self, key: str, value: str) -> str:
        """Store ``value`` under ``key`` unless a value is there already; returns the one
        kept, so two callers racing agree on one."""
        await self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
            (key, value),
        )
        kept = await self.get_text(key)
        assert kept is not None
        return kept
