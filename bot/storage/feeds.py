"""The feeds table and what one poll writes: feed state and the entries it brought."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import aiosqlite

from bot.domain import Feed, ParsedEntry, story_key
from bot.storage.database import Database, from_epoch, to_epoch
from bot.storage.interfaces import PollSuccess, StoredPoll

_COLUMNS = (
    "id, url, title, etag, last_modified, content_hash, next_poll_at, last_polled_at,"
    " last_success_at, last_error, last_error_at, failing_since, consecutive_failures,"
    " failure_notified, polls, polls_not_modified, baseline_done, created_at, min_interval,"
    " claimed_until"
)
# SQLite allows 32766 bound parameters; lookups by key go in slices well below that.
_CHUNK = 500


def _maybe(seconds: float | None) -> dt.datetime | None:
    return None if seconds is None else from_epoch(seconds)


def _feed(row: Any) -> Feed:
    return Feed(
        id=row["id"],
        url=row["url"],
        title=row["title"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        content_hash=row["content_hash"],
        next_poll_at=from_epoch(row["next_poll_at"]),
        last_polled_at=_maybe(row["last_polled_at"]),
        last_success_at=_maybe(row["last_success_at"]),
        last_error=row["last_error"],
        last_error_at=_maybe(row["last_error_at"]),
        failing_since=_maybe(row["failing_since"]),
        consecutive_failures=row["consecutive_failures"],
        failure_notified=bool(row["failure_notified"]),
        polls=row["polls"],
        polls_not_modified=row["polls_not_modified"],
        baseline_done=bool(row["baseline_done"]),
        created_at=from_epoch(row["created_at"]),
        min_interval=(
            None if row["min_interval"] is None else dt.timedelta(seconds=row["min_interval"])
        ),
        claimed_until=_maybe(row["claimed_until"]),
    )


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class FeedRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, url: str, *, now: dt.datetime, next_poll_at: dt.datetime) -> Feed:
        """The feed with this URL, created if new."""
        async with self._db.transaction() as sql:
            await sql.execute(
                "INSERT INTO feeds (url, next_poll_at, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT (url) DO NOTHING",
                (url, to_epoch(next_poll_at), to_epoch(now)),
            )
            cursor = await sql.execute(f"SELECT {_COLUMNS} FROM feeds WHERE url = ?", (url,))
            return _feed(await cursor.fetchone())

    async def get(self, feed_id: int) -> Feed | None:
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM feeds WHERE id = ?", (feed_id,))
        return None if row is None else _feed(row)

    async def by_url(self, url: str) -> Feed | None:
        """The feed at ``url``, or the one ``url`` moved to (an alias)."""
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM feeds WHERE url = ?", (url,))
        if row is None:
            row = await self._db.fetchone(
                f"SELECT {_COLUMNS} FROM feeds"
                " WHERE id = (SELECT feed_id FROM feed_aliases WHERE url = ?)",
                (url,),
            )
        return None if row is None else _feed(row)

    async def add_alias(self, url: str, feed_id: int) -> None:
        """Remember ``url`` as another address of the feed (one that moved there)."""
        await self._db.execute(
            "INSERT INTO feed_aliases (url, feed_id) VALUES (?, ?)"
            " ON CONFLICT (url) DO UPDATE SET feed_id = excluded.feed_id",
            (url, feed_id),
        )

    async def all(self) -> list[Feed]:
        rows = await self._db.fetchall(f"SELECT {_COLUMNS} FROM feeds ORDER BY id")
        return [_feed(row) for row in rows]

    async def schedule(self) -> list[tuple[int, str, dt.datetime]]:
        """Every feed's id, URL and next poll time: what a poll queue is built from."""
        rows = await self._db.fetchall("SELECT id, url, next_poll_at FROM feeds ORDER BY id")
        return [(row["id"], row["url"], from_epoch(row["next_poll_at"])) for row in rows]

    async def due(self, now: dt.datetime, *, limit: int) -> list[Feed]:
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM feeds WHERE next_poll_at <= ? ORDER BY next_poll_at LIMIT ?",
            (to_epoch(now), limit),
        )
        return [_feed(row) for row in rows]

    async def next_due_at(self) -> dt.datetime | None:
        value = await self._db.fetchvalue("SELECT MIN(next_poll_at) FROM feeds")
        return _maybe(value)

    async def claim(self, feed_id: int, *, now: dt.datetime, until: dt.datetime) -> Feed | None:
        """Claim the feed for one poll until ``until``; its fresh row, or None when another
        process holds an unexpired claim on it (or there is no such feed).

        One conditional UPDATE: of processes claiming at once, exactly one wins (SQLite
        serialises the writers; on PostgreSQL the loser waits on the row lock, then finds
        the claim taken). The poll's recorded outcome (``record_success``,
        ``record_failure``) frees the claim; a claim whose ``until`` has passed (its holder
        died) may be taken.
        """
        async with self._db.transaction() as sql:
            cursor = await sql.execute(
                "UPDATE feeds SET claimed_until = ?"
                " WHERE id = ? AND (claimed_until IS NULL OR claimed_until <= ?)"
                f" RETURNING {_COLUMNS}",
                (to_epoch(until), feed_id, to_epoch(now)),
            )
            row = await cursor.fetchone()
        return None if row is None else _feed(row)

    async def release(self, feed_id: int, *, until: dt.datetime) -> bool:
        """Free the claim taken until ``until`` without recording a poll; False when the
        feed holds no such claim (the poll recorded its outcome, or the claim ran out and
        another process took the feed)."""
        changed = await self._db.execute(
            "UPDATE feeds SET claimed_until = NULL WHERE id = ? AND claimed_until = ?",
            (feed_id, to_epoch(until)),
        )
        return changed > 0

    async def remove(self, feed_id: int) -> bool:
        """Delete the feed and its entries, the entries in short batches; False if unknown."""

        async def step(sql: aiosqlite.Connection, limit: int) -> int:
            cursor = await sql.execute(
                "DELETE FROM entries WHERE id IN (SELECT id FROM entries WHERE feed_id = ?"
                " LIMIT ?)",
                (feed_id, limit),
            )
            return cursor.rowcount

        await self._db.in_batches(step)
        return await self._db.execute("DELETE FROM feeds WHERE id = ?", (feed_id,)) > 0

    async def spread_overdue(self, *, now: dt.datetime, window: dt.timedelta) -> int:
        """Spread feeds already due over ``window``, oldest first, so they don't fire at once."""
        rows = await self._db.fetchall(
            "SELECT id FROM feeds WHERE next_poll_at <= ? ORDER BY next_poll_at, id",
            (to_epoch(now),),
        )
        if not rows:
            return 0
        step = window.total_seconds() / len(rows)
        await self._db.executemany(
            "UPDATE feeds SET next_poll_at = ? WHERE id = ?",
            [(to_epoch(now) + rank * step, row["id"]) for rank, row in enumerate(rows)],
        )
        return len(rows)

    async def record_failure(
        self, feed_id: int, error: str, *, now: dt.datetime, next_poll_at: dt.datetime
    ) -> Feed | None:
        """Record a failed poll, freeing the feed's claim; the feed as it is now, or None
        when it is gone."""
        async with self._db.transaction() as sql:
            await sql.execute(
                """
                UPDATE feeds SET
                    last_polled_at = :now, last_error = :error, last_error_at = :now,
                    failing_since = COALESCE(failing_since, :now),
                    consecutive_failures = consecutive_failures + 1,
                    polls = polls + 1, next_poll_at = :next, claimed_until = NULL
                WHERE id = :id
                """,
                {
                    "now": to_epoch(now),
                    "error": error,
                    "next": to_epoch(next_poll_at),
                    "id": feed_id,
                },
            )
            cursor = await sql.execute(f"SELECT {_COLUMNS} FROM feeds WHERE id = ?", (feed_id,))
            row = await cursor.fetchone()
        return None if row is None else _feed(row)

    async def mark_failure_notified(self, feed_id: int) -> None:
        await self._db.execute("UPDATE feeds SET failure_notified = 1 WHERE id = ?", (feed_id,))

    async def record_success(
        self,
        feed: Feed,
        poll: PollSuccess,
        entries: Sequence[ParsedEntry],
        *,
        now: dt.datetime,
        keep_after: dt.datetime,
    ) -> StoredPoll:
        """Store a successful poll: the feed's state and its entries, in one transaction,
        freeing the feed's claim.

        Entries new to the store wait to be routed to topics, except on the feed's first
        successful poll, which only builds the archive. Entries edited in place are
        updated and stay routed; entries published before ``keep_after`` are not stored.
        """
        async with self._db.transaction() as sql:
            stored = (
                StoredPoll()
                if poll.not_modified or poll.unchanged_body
                else await self._store_entries(sql, feed, entries, now=now, keep_after=keep_after)
            )
            if poll.moved_to is not None and poll.moved_to != feed.url:
                # The URL it had stays known, so whoever configured it finds this feed.
                await sql.execute(
                    "INSERT INTO feed_aliases (url, feed_id)"
                    " SELECT :url, :id WHERE NOT EXISTS (SELECT 1 FROM feeds WHERE url = :moved)"
                    " ON CONFLICT (url) DO UPDATE SET feed_id = excluded.feed_id",
                    {"url": feed.url, "id": feed.id, "moved": poll.moved_to},
                )
            await sql.execute(
                """
                UPDATE feeds SET
                    url = CASE
                        WHEN :moved_to IS NOT NULL
                             AND NOT EXISTS (SELECT 1 FROM feeds WHERE url = :moved_to)
                        THEN :moved_to ELSE url END,
                    title = COALESCE(NULLIF(:title, ''), title),
                    etag = :etag, last_modified = :last_modified,
                    content_hash = COALESCE(:content_hash, content_hash),
                    last_polled_at = :now, last_success_at = :now,
                    failing_since = NULL, consecutive_failures = 0, failure_notified = 0,
                    polls = polls + 1,
                    polls_not_modified = polls_not_modified + :not_modified,
                    baseline_done = CASE WHEN :not_modified = 0 THEN 1 ELSE baseline_done END,
                    min_interval = :min_interval,
                    next_poll_at = :next, claimed_until = NULL
                WHERE id = :id
                """,
                {
                    "moved_to": poll.moved_to,
                    "title": poll.title,
                    "etag": poll.etag,
                    "last_modified": poll.last_modified,
                    "content_hash": poll.content_hash,
                    "now": to_epoch(now),
                    "not_modified": int(poll.not_modified),
                    "next": to_epoch(poll.next_poll_at),
                    "min_interval": (
                        None if poll.min_interval is None else poll.min_interval.total_seconds()
                    ),
                    "id": feed.id,
                },
            )
        return stored

    async def record_push(
        self,
        feed: Feed,
        entries: Sequence[ParsedEntry],
        *,
        title: str,
        now: dt.datetime,
        keep_after: dt.datetime,
    ) -> StoredPoll | None:
        """Store what a WebSub hub pushed: entries as a poll stores them, in one transaction.

        A push is no poll: the feed's validators, poll counts and next poll stay as they
        are; only its title and last success move. None, storing nothing, when the feed
        was removed meanwhile.
        """
        async with self._db.transaction() as sql:
            cursor = await sql.execute("SELECT 1 FROM feeds WHERE id = ?", (feed.id,))
            if await cursor.fetchone() is None:
                return None
            stored = await self._store_entries(sql, feed, entries, now=now, keep_after=keep_after)
            await sql.execute(
                "UPDATE feeds SET title = COALESCE(NULLIF(?, ''), title), last_success_at = ?"
                " WHERE id = ?",
                (title, to_epoch(now), feed.id),
            )
        return stored

    async def _store_entries(
        self,
        sql: aiosqlite.Connection,
        feed: Feed,
        entries: Sequence[ParsedEntry],
        *,
        now: dt.datetime,
        keep_after: dt.datetime,
    ) -> StoredPoll:
        keys = [entry.key for entry in entries]
        keys += [entry.content_key for entry in entries if entry.content_key]
        existing: dict[str, Any] = {}
        pruned: set[str] = set()
        for chunk in _chunks(keys):
            marks = ",".join("?" * len(chunk))
            cursor = await sql.execute(
                f"SELECT id, key, title, summary, link, author FROM entries"
                f" WHERE feed_id = ? AND key IN ({marks})",
                (feed.id, *chunk),
            )
            existing.update({row["key"]: row for row in await cursor.fetchall()})
            cursor = await sql.execute(
                f"SELECT key FROM pruned_keys WHERE feed_id = ? AND key IN ({marks})",
                (feed.id, *chunk),
            )
            pruned.update(row["key"] for row in await cursor.fetchall())
        # A story already stored under another key (the feed changed how it identifies its
        # items, or a date that is part of a made-up key moved) is the same story.
        stored_as: set[tuple[str, str]] = set()
        for chunk in _chunks(sorted({entry.link for entry in entries if entry.link})):
            marks = ",".join("?" * len(chunk))
            cursor = await sql.execute(
                f"SELECT link, title FROM entries WHERE feed_id = ? AND link IN ({marks})",
                (feed.id, *chunk),
            )
            stored_as.update((row["link"], row["title"]) for row in await cursor.fetchall())

        new, updated, unchanged, skipped = [], [], 0, 0
        seen: set[str] = set()
        for entry in entries:
            row = existing.get(entry.key)
            if (
                row is not None
                and entry.content_key
                and row["title"] != entry.title
                and row["link"] != entry.link
            ):
                # Title and link both changed: not an edit but another story under the
                # same key (a feed that reuses "latest" or a slot number), which the
                # document alone could not show. Such a key identifies nothing.
                entry = dataclasses.replace(entry, key=entry.content_key, content_key="")
                row = existing.get(entry.key)
            if entry.key in seen:
                continue
            seen.add(entry.key)
            if row is None and (entry.link, entry.title) in stored_as:
                unchanged += 1
                continue
            if row is None:
                published = min(entry.published or now, now)
                if entry.key in pruned or published < keep_after:
                    skipped += 1
                    continue
                new.append((entry, published))
            elif (row["title"], row["summary"], row["link"], row["author"]) != (
                entry.title,
                entry.summary,
                entry.link,
                entry.author,
            ):
                updated.append((entry, row["id"]))
            else:
                unchanged += 1

        # Oldest first, so entry ids follow publication order for whoever routes them.
        new.sort(key=lambda item: item[1])
        stories = await self._stories(sql, feed, [entry for entry, _ in new])
        routed = 0 if feed.baseline_done else 1
        await sql.executemany(
            """
            INSERT INTO entries (feed_id, key, title, summary, link, author,
                                 published_at, date_only, first_seen_at, updated_at, routed,
                                 story)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                (
                    feed.id,
                    entry.key,
                    entry.title,
                    entry.summary,
                    entry.link,
                    entry.author,
                    to_epoch(published),
                    # A day in the future was replaced by the time it was first seen.
                    int(entry.date_only and published == entry.published),
                    to_epoch(now),
                    to_epoch(now),
                    routed,
                    story,
                )
                for (entry, published), story in zip(new, stories, strict=True)
            ],
        )
        await sql.executemany(
            "UPDATE entries SET title = ?, summary = ?, link = ?, author = ?, updated_at = ?"
            " WHERE id = ?",
            [
                (entry.title, entry.summary, entry.link, entry.author, to_epoch(now), entry_id)
                for entry, entry_id in updated
            ],
        )
        return StoredPoll(new=len(new), updated=len(updated), unchanged=unchanged, skipped=skipped)

    @staticmethod
    async def _stories(
        sql: aiosqlite.Connection, feed: Feed, entries: Sequence[ParsedEntry]
    ) -> list[str]:
        """The story of each new entry (``story_key``), from what is stored under its link."""
        links = [entry.link for entry in entries if entry.link]
        in_batch = collections.Counter(links)
        shared: set[str] = {link for link, count in in_batch.items() if count > 1}
        known: dict[str, str] = {}
        for chunk in _chunks(sorted(set(links))):
            marks = ",".join("?" * len(chunk))
            cursor = await sql.execute(
                f"SELECT link, feed_id, story FROM entries WHERE link IN ({marks}) ORDER BY id",
                tuple(chunk),
            )
            for row in await cursor.fetchall():
                if row["feed_id"] == feed.id:
                    shared.add(row["link"])
                known.setdefault(row["link"], row["story"])
        return [
            story_key(
                feed_id=feed.id,
                key=entry.key,
                link=entry.link,
                link_shared=entry.link in shared,
                known=known.get(entry.link),
            )
            for entry in entries
        ]

    async def entries_per_day(self, *, now: dt.datetime) -> dict[int, float]:
        """Each feed's entries per day over the last week, or over what it has shown of it.

        The count of entries published in the last 7 days is divided by the time they span:
        the week, or, for a feed watched for less, from its oldest such entry (or when it
        was added, if earlier) until now, at least an hour.
        """
        week_ago = to_epoch(now - dt.timedelta(days=7))
        rows = await self._db.fetchall(
            "SELECT e.feed_id, COUNT(*) AS recent, MIN(e.published_at) AS oldest,"
            " f.created_at FROM entries AS e JOIN feeds AS f ON f.id = e.feed_id"
            " WHERE e.published_at >= ? GROUP BY e.feed_id, f.created_at",
            (week_ago,),
        )
        rates = {}
        for row in rows:
            since = max(week_ago, min(row["oldest"], row["created_at"]))
            days = max(to_epoch(now) - since, 3600.0) / 86400
            rates[row["feed_id"]] = row["recent"] / days
        return rates
