"""Reading the archive of entries, and pruning it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from bot.domain import Entry
from bot.storage.database import Database, from_epoch, to_epoch

ENTRY_COLUMNS = (
    "e.id, e.feed_id, COALESCE(NULLIF(f.title, ''), f.url) AS feed_title, e.key, e.title,"
    " e.summary, e.link, e.author, e.published_at, e.first_seen_at"
)
ENTRY_FROM = "entries AS e JOIN feeds AS f ON f.id = e.feed_id"


def entry_from_row(row: Any) -> Entry:
    return Entry(
        id=row["id"],
        feed_id=row["feed_id"],
        feed_title=row["feed_title"],
        key=row["key"],
        title=row["title"],
        summary=row["summary"],
        link=row["link"],
        author=row["author"],
        published_at=from_epoch(row["published_at"]),
        first_seen_at=from_epoch(row["first_seen_at"]),
    )


class EntryRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, entry_id: int) -> Entry | None:
        row = await self._db.fetchone(
            f"SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM} WHERE e.id = ?", (entry_id,)
        )
        return None if row is None else entry_from_row(row)

    async def by_link(self, link: str) -> Entry | None:
        row = await self._db.fetchone(
            f"SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM} WHERE e.link = ?"
            " ORDER BY e.published_at DESC LIMIT 1",
            (link,),
        )
        return None if row is None else entry_from_row(row)

    async def many(self, entry_ids: Sequence[int]) -> list[Entry]:
        if not entry_ids:
            return []
        marks = ",".join("?" * len(entry_ids))
        rows = await self._db.fetchall(
            f"SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM} WHERE e.id IN ({marks})",
            tuple(entry_ids),
        )
        return [entry_from_row(row) for row in rows]

    async def latest(
        self, *, limit: int, before: tuple[dt.datetime, int] | None = None
    ) -> list[Entry]:
        """The newest entries, newest first; ``before`` is the (published_at, id) to page from."""
        if before is None:
            rows = await self._db.fetchall(
                f"SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM}"
                " ORDER BY e.published_at DESC, e.id DESC LIMIT ?",
                (limit,),
            )
        else:
            rows = await self._db.fetchall(
                f"SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM}"
                " WHERE (e.published_at, e.id) < (?, ?)"
                " ORDER BY e.published_at DESC, e.id DESC LIMIT ?",
                (to_epoch(before[0]), before[1], limit),
            )
        return [entry_from_row(row) for row in rows]

    async def unrouted(self, *, limit: int) -> list[Entry]:
        """Entries waiting to be matched against topics, in publication order."""
        rows = await self._db.fetchall(
            f"SELECT {ENTRY_COLUMNS} FROM {ENTRY_FROM} WHERE e.routed = 0"
            " ORDER BY e.published_at, e.id LIMIT ?",
            (limit,),
        )
        return [entry_from_row(row) for row in rows]

    async def count(self) -> int:
        return int(await self._db.fetchvalue("SELECT COUNT(*) FROM entries"))

    async def prune(self, *, published_before: dt.datetime, now: dt.datetime) -> int:
        """Delete entries published before the cutoff, remembering their keys."""
        cutoff = to_epoch(published_before)
        async with self._db.transaction() as sql:
            await sql.execute(
                "INSERT OR REPLACE INTO pruned_keys (feed_id, key, pruned_at)"
                " SELECT feed_id, key, ? FROM entries WHERE published_at < ?",
                (to_epoch(now), cutoff),
            )
            cursor = await sql.execute("DELETE FROM entries WHERE published_at < ?", (cutoff,))
            deleted = cursor.rowcount
            # A key pruned a year ago will not be listed by any feed any more.
            await sql.execute(
                "DELETE FROM pruned_keys WHERE pruned_at < ?",
                (to_epoch(now - dt.timedelta(days=365)),),
            )
        return deleted
