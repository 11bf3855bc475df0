"""The chats table: who Herald talks to and whether it still may."""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiosqlite

from bot.domain import Chat, ChatKind, InactiveReason, LinkPreview
from bot.storage.database import Database, from_epoch, to_epoch

_COLUMNS = (
    "id, kind, title, timezone, inactive_reason, created_at, digest_enabled, digest_time,"
    " quiet_start, quiet_end, muted_until, held_since, quiet_from, quiet_until,"
    " digest_thread_id, link_preview"
)


def holding(chat: str, now: str) -> str:
    """SQL that is true while the chat's alerts are held: muted, in quiet hours, paused.

    ``chat`` is the alias of a chats row, ``now`` an SQL expression for epoch seconds. Quiet
    hours are read from the stored UTC window, so a hold starts the moment its window opens,
    not when a job next looks. A chat the bot may not post in is paused: its alerts are
    held for a catch-up when the rights come back.
    """
    # COALESCE: a comparison with a NULL column is NULL, and NOT NULL would hide the row.
    return (
        f"({chat}.held_since IS NOT NULL OR COALESCE({chat}.muted_until > {now}, FALSE)"
        f" OR COALESCE({chat}.quiet_from <= {now} AND {now} < {chat}.quiet_until, FALSE)"
        f" OR COALESCE({chat}.inactive_reason = 'no_rights', FALSE))"
    )


def may_alert(chat: str) -> str:
    """SQL that is true for a chat that takes alerts now or, paused, holds them for later."""
    return f"({chat}.inactive_reason IS NULL OR {chat}.inactive_reason = 'no_rights')"


def clock_time(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


def _chat(row: Any) -> Chat:
    quiet = None
    if row["quiet_start"] is not None and row["quiet_end"] is not None:
        quiet = (clock_time(row["quiet_start"]), clock_time(row["quiet_end"]))
    return Chat(
        id=row["id"],
        kind=ChatKind(row["kind"]),
        title=row["title"],
        timezone=row["timezone"],
        inactive_reason=InactiveReason(row["inactive_reason"]) if row["inactive_reason"] else None,
        created_at=from_epoch(row["created_at"]),
        digest_enabled=bool(row["digest_enabled"]),
        digest_time=clock_time(row["digest_time"]),
        quiet_hours=quiet,
        muted_until=None if row["muted_until"] is None else from_epoch(row["muted_until"]),
        held_since=None if row["held_since"] is None else from_epoch(row["held_since"]),
        quiet_window=(
            None
            if row["quiet_from"] is None or row["quiet_until"] is None
            else (from_epoch(row["quiet_from"]), from_epoch(row["quiet_until"]))
        ),
        digest_thread_id=row["digest_thread_id"],
        link_preview=LinkPreview(row["link_preview"]) if row["link_preview"] else None,
    )


def _hhmm(moment: dt.time) -> str:
    return f"{moment.hour:02d}:{moment.minute:02d}"


class ChatRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def register(
        self,
        chat_id: int,
        kind: ChatKind,
        title: str,
        *,
        timezone: str,
        now: dt.datetime,
        digest_time: dt.time = dt.time(8, 0),
    ) -> tuple[Chat, bool]:
        """Create the chat, or refresh and reactivate it; returns it and whether it is new."""
        async with self._db.transaction() as sql:
            cursor = await sql.execute("SELECT 1 FROM chats WHERE id = ?", (chat_id,))
            existed = await cursor.fetchone() is not None
            await sql.execute(
                """
                INSERT INTO chats (id, kind, title, timezone, digest_time, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET
                    kind = excluded.kind, title = excluded.title,
                    inactive_reason = NULL, inactive_since = NULL,
                    updated_at = excluded.updated_at
                """,
                (
                    chat_id,
                    kind.value,
                    title,
                    timezone,
                    _hhmm(digest_time),
                    to_epoch(now),
                    to_epoch(now),
                ),
            )
            cursor = await sql.execute(f"SELECT {_COLUMNS} FROM chats WHERE id = ?", (chat_id,))
            row = await cursor.fetchone()
        return _chat(row), not existed

    async def get(self, chat_id: int) -> Chat | None:
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM chats WHERE id = ?", (chat_id,))
        return None if row is None else _chat(row)

    async def set_digest_thread(self, chat_id: int, thread_id: int) -> None:
        await self._db.execute(
            "UPDATE chats SET digest_thread_id = ? WHERE id = ?", (thread_id, chat_id)
        )

    async def set_link_preview(self, chat_id: int, preview: LinkPreview | None) -> None:
        """The chat's link previews on single alerts; None returns to its kind's default."""
        await self._db.execute(
            "UPDATE chats SET link_preview = ? WHERE id = ?",
            (None if preview is None else preview.value, chat_id),
        )

    async def add_manager(self, chat_id: int, user_id: int, *, now: dt.datetime) -> None:
        """Remember that this user set the chat up through Herald; a known chat only."""
        await self._db.execute(
            "INSERT OR IGNORE INTO chat_managers (chat_id, user_id, created_at)"
            " SELECT id, ?, ? FROM chats WHERE id = ?",
            (user_id, to_epoch(now), chat_id),
        )

    async def managed_by(self, user_id: int) -> list[Chat]:
        """The chats this user set up through Herald, oldest first."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM chats WHERE id IN"
            " (SELECT chat_id FROM chat_managers WHERE user_id = ?) ORDER BY created_at, id",
            (user_id,),
        )
        return [_chat(row) for row in rows]

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
                if self._db.dialect == "postgresql":
                    await sql.execute(
                        "SELECT herald_move_chat_rows(?, ?, ?)", (table, old_id, new_id)
                    )
                    continue
                await sql.execute(
                    f"UPDATE OR IGNORE {table} SET chat_id = ? WHERE chat_id = ?",
                    (new_id, old_id),
                )
            await sql.execute("DELETE FROM chats WHERE id = ?", (old_id,))

    async def _chat_tables(self, sql: aiosqlite.Connection) -> list[str]:
        """The tables whose ``chat_id`` refers to chats, read from the schema itself."""
        cursor = await sql.execute(
            "SELECT DISTINCT r.conrelid::regclass::text FROM pg_constraint AS r"
            " JOIN pg_attribute AS a ON a.attrelid = r.conrelid AND a.attnum = ANY (r.conkey)"
            " WHERE r.contype = 'f' AND r.confrelid = 'chats'::regclass"
            " AND a.attname = 'chat_id'"
            if self._db.dialect == "postgresql"
            else "SELECT m.name FROM sqlite_master AS m, pragma_foreign_key_list(m.name) AS k"
            " WHERE m.type = 'table' AND k.\"table\" = 'chats' AND k.\"from\" = 'chat_id'"
        )
        return [row[0] for row in await cursor.fetchall()]

    async def delete(self, chat_id: int) -> bool:
        """Delete the chat and everything that belongs to it; False if it was unknown.

        What grows with the chat's history (its ledger and messages) goes first, in short
        batches.
        """

        async def ledger(sql: aiosqlite.Connection, limit: int) -> int:
            cursor = await sql.execute(
                "DELETE FROM ledger WHERE (chat_id, story, channel) IN (SELECT chat_id, story,"
                " channel FROM ledger WHERE chat_id = ? LIMIT ?)",
                (chat_id, limit),
            )
            return cursor.rowcount

        async def messages(sql: aiosqlite.Connection, limit: int) -> int:
            cursor = await sql.execute(
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE chat_id = ? LIMIT ?)",
                (chat_id, limit),
            )
            return cursor.rowcount

        await self._db.in_batches(ledger)
        await self._db.in_batches(messages)
        async with self._db.transaction() as sql:
            # Searches aren't tied to a subscription (anyone may search), so no foreign key.
            await sql.execute("DELETE FROM searches WHERE chat_id = ?", (chat_id,))
            cursor = await sql.execute("DELETE FROM chats WHERE id = ?", (chat_id,))
            return cursor.rowcount > 0

    async def count(self) -> tuple[int, int]:
        """(active, inactive) chats."""
        row = await self._db.fetchone(
            "SELECT COUNT(*) FILTER (WHERE inactive_reason IS NULL),"
            " COUNT(*) FILTER (WHERE inactive_reason IS NOT NULL) FROM chats"
        )
        assert row is not None
        return int(row[0]), int(row[1])

    # Digests, quiet hours and mute

    async def set_timezone(
        self, chat_id: int, timezone: str, *, next_digest_at: dt.datetime | None
    ) -> None:
        await self._db.execute(
            "UPDATE chats SET timezone = ?, next_digest_at = ? WHERE id = ?",
            (timezone, _maybe_epoch(next_digest_at), chat_id),
        )

    async def set_digest(
        self,
        chat_id: int,
        *,
        enabled: bool,
        at: dt.time,
        next_digest_at: dt.datetime | None,
    ) -> None:
        await self._db.execute(
            "UPDATE chats SET digest_enabled = ?, digest_time = ?, next_digest_at = ?"
            " WHERE id = ?",
            (int(enabled), _hhmm(at), _maybe_epoch(next_digest_at), chat_id),
        )

    async def due_digests(self, *, now: dt.datetime, limit: int) -> list[tuple[Chat, dt.datetime]]:
        """Active chats whose scheduled digest is due, with when it was due."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS}, next_digest_at FROM chats"
            " WHERE digest_enabled = 1 AND next_digest_at <= ? AND inactive_reason IS NULL"
            " ORDER BY next_digest_at LIMIT ?",
            (to_epoch(now), limit),
        )
        return [(_chat(row), from_epoch(row["next_digest_at"])) for row in rows]

    async def claim_digest(self, chat_id: int, *, now: dt.datetime, until: dt.datetime) -> bool:
        """Take the chat's due digest to queue it: its next due time moves to ``until``,
        when it is due again should the taker die first. True for the one process of
        several that takes it; False when it isn't due (any more)."""
        changed = await self._db.execute(
            "UPDATE chats SET next_digest_at = ?"
            " WHERE id = ? AND digest_enabled = 1 AND next_digest_at <= ?",
            (to_epoch(until), chat_id, to_epoch(now)),
        )
        return changed > 0

    async def digest_cursor(self, chat_id: int) -> tuple[dt.datetime | None, str | None]:
        """When the last digest's content ended, and the local day of the last scheduled one."""
        row = await self._db.fetchone(
            "SELECT last_digest_at, last_digest_day FROM chats WHERE id = ?", (chat_id,)
        )
        if row is None:
            return None, None
        last = None if row[0] is None else from_epoch(row[0])
        return last, row[1]

    async def record_digest(
        self,
        chat_id: int,
        *,
        content_until: dt.datetime | None,
        day: str | None,
        next_digest_at: dt.datetime | None,
    ) -> None:
        """After a digest: where the next one's content starts, and when it is due."""
        await self._db.execute(
            """
            UPDATE chats SET
                last_digest_at = COALESCE(:until, last_digest_at),
                last_digest_day = COALESCE(:day, last_digest_day),
                next_digest_at = COALESCE(:next, next_digest_at)
            WHERE id = :id
            """,
            {
                "until": _maybe_epoch(content_until),
                "day": day,
                "next": _maybe_epoch(next_digest_at),
                "id": chat_id,
            },
        )

    async def set_quiet_hours(
        self,
        chat_id: int,
        hours: tuple[dt.time, dt.time] | None,
        window: tuple[dt.datetime, dt.datetime] | None,
    ) -> None:
        """Store quiet hours (local clock times) and their current or next window in UTC."""
        start, end = (None, None) if hours is None else (_hhmm(hours[0]), _hhmm(hours[1]))
        await self._db.execute(
            "UPDATE chats SET quiet_start = ?, quiet_end = ? WHERE id = ?", (start, end, chat_id)
        )
        await self.set_quiet_window(chat_id, window)

    async def set_quiet_window(
        self, chat_id: int, window: tuple[dt.datetime, dt.datetime] | None
    ) -> None:
        opens, closes = (
            (None, None) if window is None else (to_epoch(window[0]), to_epoch(window[1]))
        )
        await self._db.execute(
            "UPDATE chats SET quiet_from = ?, quiet_until = ? WHERE id = ?",
            (opens, closes, chat_id),
        )

    async def set_muted_until(self, chat_id: int, until: dt.datetime | None) -> None:
        await self._db.execute(
            "UPDATE chats SET muted_until = ? WHERE id = ?", (_maybe_epoch(until), chat_id)
        )

    async def hold(
        self, chat_id: int, *, now: dt.datetime, muted_until: dt.datetime | None = None
    ) -> int:
        """Start holding the chat's alerts, and hold those already queued, in one transaction.

        With ``muted_until`` the chat is muted until then as part of the same transaction, so
        nothing queued before the mute rings after it. Returns how many queued alerts were
        moved to held.
        """
        async with self._db.transaction() as sql:
            return await hold_in(sql, chat_id, now=now, muted_until=muted_until)

    async def with_holds(self) -> list[Chat]:
        """Chats with quiet hours, a mute, or alerts held: the ones whose holds may change."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM chats WHERE quiet_start IS NOT NULL"
            " OR muted_until IS NOT NULL OR held_since IS NOT NULL"
        )
        return [_chat(row) for row in rows]


async def hold_in(
    sql: aiosqlite.Connection,
    chat_id: int,
    *,
    now: dt.datetime,
    muted_until: dt.datetime | None = None,
) -> int:
    """``ChatRepository.hold`` inside a transaction the caller holds."""
    await sql.execute(
        "UPDATE chats SET held_since = COALESCE(held_since, ?),"
        " muted_until = COALESCE(?, muted_until) WHERE id = ?",
        (to_epoch(now), _maybe_epoch(muted_until), chat_id),
    )
    cursor = await sql.execute(
        "UPDATE outbox SET state = 'held'"
        " WHERE chat_id = ? AND state = 'pending' AND kind = 'alert'",
        (chat_id,),
    )
    return cursor.rowcount


def _maybe_epoch(moment: dt.datetime | None) -> float | None:
    return None if moment is None else to_epoch(moment)
