"""The chats table: who Herald talks to and whether it still may."""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiosqlite

from bot.domain import Chat, ChatKind, InactiveReason
from bot.storage.database import Database, from_epoch, to_epoch

_COLUMNS = "id, kind, title, timezone, inactive_reason, created_at"


def _chat(row: Any) -> Chat:
    return Chat(
        id=row["id"],
        kind=ChatKind(row["kind"]),
        title=row["title"],
        timezone=row["timezone"],
        inactive_reason=InactiveReason(row["inactive_reason"]) if row["inactive_reason"] else None,
        created_at=from_epoch(row["created_at"]),
    )


class ChatRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def register(
        self, chat_id: int, kind: ChatKind, title: str, *, timezone: str, now: dt.datetime
    ) -> tuple[Chat, bool]:
        """Create the chat, or refresh and reactivate it; returns it and whether it is new."""
        async with self._db.transaction() as sql:
            cursor = await sql.execute("SELECT 1 FROM chats WHERE id = ?", (chat_id,))
            existed = await cursor.fetchone() is not None
            await sql.execute(
                """
                INSERT INTO chats (id, kind, title, timezone, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET
                    kind = excluded.kind, title = excluded.title,
                    inactive_reason = NULL, inactive_since = NULL,
                    updated_at = excluded.updated_at
                """,
                (chat_id, kind.value, title, timezone, to_epoch(now), to_epoch(now)),
            )
            cursor = await sql.execute(f"SELECT {_COLUMNS} FROM chats WHERE id = ?", (chat_id,))
            row = await cursor.fetchone()
        return _chat(row), not existed

    async def get(self, chat_id: int) -> Chat | None:
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM chats WHERE id = ?", (chat_id,))
        return None if row is None else _chat(row)

    async def set_inactive(self, chat_id: int, reason: InactiveReason, now: dt.datetime) -> bool:
        """Mark the chat inactive; False if it is unknown or already inactive."""
        changed = await self._db.execute(
            """
            UPDATE chats SET inactive_reason = ?, inactive_since = ?, updated_at = ?
            WHERE id = ? AND inactive_reason IS NULL
            """,
            (reason.value, to_epoch(now), to_epoch(now), chat_id),
        )
        return changed > 0

    async def set_active(self, chat_id: int, now: dt.datetime) -> bool:
        changed = await self._db.execute(
            """
            UPDATE chats SET inactive_reason = NULL, inactive_since = NULL, updated_at = ?
            WHERE id = ? AND inactive_reason IS NOT NULL
            """,
            (to_epoch(now), chat_id),
        )
        return changed > 0

    async def move(self, old_id: int, new_id: int, *, now: dt.datetime) -> None:
        """A group became a supergroup: it and everything of it now live at ``new_id``."""
        async with self._db.transaction() as sql:
            cursor = await sql.execute("SELECT 1 FROM chats WHERE id = ?", (new_id,))
            if await cursor.fetchone() is None:
                # Foreign keys cascade the new id to every table that refers to the chat.
                await sql.execute(
                    "UPDATE chats SET id = ?, kind = 'supergroup', updated_at = ? WHERE id = ?",
                    (new_id, to_epoch(now), old_id),
                )
                return
            # The supergroup is known already (someone wrote /start there first): move
            # what is left of the old group across, skipping what the new one has.
            for table in await self._chat_tables(sql):
                await sql.execute(
                    f"UPDATE OR IGNORE {table} SET chat_id = ? WHERE chat_id = ?",
                    (new_id, old_id),
                )
            await sql.execute("DELETE FROM chats WHERE id = ?", (old_id,))

    @staticmethod
    async def _chat_tables(sql: aiosqlite.Connection) -> list[str]:
        cursor = await sql.execute(
            "SELECT m.name FROM sqlite_master AS m, pragma_foreign_key_list(m.name) AS k"
            " WHERE m.type = 'table' AND k.\"table\" = 'chats' AND k.\"from\" = 'chat_id'"
        )
        return [row[0] for row in await cursor.fetchall()]

    async def delete(self, chat_id: int) -> bool:
        """Delete the chat and, through foreign keys, everything that belongs to it."""
        return await self._db.execute("DELETE FROM chats WHERE id = ?", (chat_id,)) > 0

    async def count(self) -> tuple[int, int]:
        """(active, inactive) chats."""
        row = await self._db.fetchone(
            "SELECT COUNT(*) FILTER (WHERE inactive_reason IS NULL),"
            " COUNT(*) FILTER (WHERE inactive_reason IS NOT NULL) FROM chats"
        )
        assert row is not None
        return int(row[0]), int(row[1])
