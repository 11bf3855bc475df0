"""Benchmark: entries stored per second with their full-text index, against no index."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import tempfile
import time
from pathlib import Path

from bench.corpus import NewsText
from bot.domain import ParsedEntry
from bot.storage.database import Database
from bot.storage.feeds import FeedRepository
from bot.storage.interfaces import PollSuccess

NOW = dt.datetime(2026, 3, 14, 12, 0, tzinfo=dt.UTC)


def polls(feeds: int, per_poll: int, seed: int = 3) -> list[list[ParsedEntry]]:
    text = NewsText(seed)
    return [
        [
            ParsedEntry(
                key=f"https://news.example/{feed}/{n}",
                title=text.headline(),
                summary=text.paragraph(60),
                link=f"https://news.example/{feed}/{n}",
                published=NOW - dt.timedelta(minutes=n),
                author="",
            )
            for n in range(per_poll)
        ]
        for feed in range(feeds)
    ]


async def ingest(path: Path, batches: list[list[ParsedEntry]], *, with_index: bool) -> float:
    """Seconds to store every batch as one poll of its own feed."""
    database = await Database.open(path)
    if not with_index:
        # The baseline: the same rows and transactions without keeping FTS5 in step.
        for trigger in ("entries_fts_insert", "entries_fts_update", "entries_fts_delete"):
            await database.execute(f"DROP TRIGGER {trigger}")
    repository = FeedRepository(database)
    feeds = [
        await repository.add(f"https://news.example/{n}.xml", now=NOW, next_poll_at=NOW)
        for n in range(len(batches))
    ]
    started = time.perf_counter()
    for feed, batch in zip(feeds, batches, strict=True):
        await repository.record_success(
            feed,
            PollSuccess(etag=None, last_modified=None, next_poll_at=NOW),
            batch,
            now=NOW,
            keep_after=NOW - dt.timedelta(days=90),
        )
    elapsed = time.perf_counter() - started
    await database.close()
    return elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=400)
    parser.add_argument("--per-poll", type=int, default=50)
    arguments = parser.parse_args()
    batches = polls(arguments.feeds, arguments.per_poll)
    total = arguments.feeds * arguments.per_poll
    with tempfile.TemporaryDirectory() as folder:
        indexed = await ingest(Path(folder) / "fts.db", batches, with_index=True)
        plain = await ingest(Path(folder) / "plain.db", batches, with_index=False)
        size = (Path(folder) / "fts.db").stat().st_size / 2**20
    print(f"{total:,} entries in {arguments.feeds} polls of {arguments.per_poll}")
    print(f"with FTS5 index: {total / indexed:,.0f} entries/s ({indexed:.2f} s)")
    print(f"baseline, no index: {total / plain:,.0f} entries/s ({plain:.2f} s)")
    print(f"cost of the index: {indexed / plain:.2f}x; database {size:.1f} MiB")


if __name__ == "__main__":
    asyncio.run(main())
