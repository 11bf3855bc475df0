"""Benchmark: CPU seconds to poll 1,000 feeds once, answered 304 and answered 200 with 50 items.

The feed server runs in its own process so the CPU measured is Herald's alone.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import multiprocessing
import tempfile
import time
from multiprocessing.synchronize import Event
from pathlib import Path

import httpx

from bench.corpus import NewsText
from bot.feeds import HttpFeedFetcher
from bot.sandbox.feedserver import FeedItem, FeedServer
from bot.services.feeds import FeedService
from bot.storage.database import Database
from bot.storage.entries import EntryRepository
from bot.storage.feeds import FeedRepository

NOW = dt.datetime.now(dt.UTC)


def serve(
    feeds: int,
    items: int,
    port: multiprocessing.Queue[int],
    republish: multiprocessing.Queue[int],
    stop: Event,
) -> None:
    """Serve ``feeds`` feeds; each number put on ``republish`` adds one new item to all."""

    async def run() -> None:
        text = NewsText(5)
        published = {
            feed: [
                FeedItem(
                    title=text.headline(),
                    link=f"https://news.example/{feed}/{n}",
                    summary=text.paragraph(60),
                    published=NOW - dt.timedelta(minutes=n),
                )
                for n in range(items)
            ]
            for feed in range(feeds)
        }
        async with FeedServer() as server:
            for feed, feed_items in published.items():
                server.publish_rss(f"/{feed}.xml", feed_items)
            port.put(int(server.base_url.rsplit(":", 1)[1]))
            while not stop.is_set():
                await asyncio.sleep(0.05)
                while not republish.empty():
                    round_number = republish.get()
                    for feed, feed_items in published.items():
                        fresh = FeedItem(
                            title=text.headline(),
                            link=f"https://news.example/{feed}/new-{round_number}",
                            summary=text.paragraph(60),
                            published=NOW,
                        )
                        feed_items[:] = [fresh, *feed_items[:-1]]
                        server.publish_rss(f"/{feed}.xml", feed_items)
                    port.put(round_number)

    asyncio.run(run())


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


async def poll_all(service: FeedService, clock: Clock) -> float:
    """CPU seconds (every thread of this process) to poll every feed once."""
    clock.now += dt.timedelta(days=1)
    started = time.process_time()
    while await service.poll_due() or service._polling:
        await service.wait_idle()
    return time.process_time() - started


async def bare_gets(urls: list[str]) -> float:
    """The baseline: the same requests with httpx alone, nothing parsed or stored."""
    async with httpx.AsyncClient(trust_env=False) as client:
        started = time.process_time()
        semaphore = asyncio.Semaphore(8)

        async def get(url: str) -> None:
            async with semaphore:
                (await client.get(url)).raise_for_status()

        await asyncio.gather(*(get(url) for url in urls))
        return time.process_time() - started


async def measure(
    base: str,
    feeds: int,
    republish: multiprocessing.Queue[int],
    done: multiprocessing.Queue[int],
) -> None:
    urls = [f"{base}/{feed}.xml" for feed in range(feeds)]
    clock = Clock()
    with tempfile.TemporaryDirectory() as folder:
        database = await Database.open(Path(folder) / "bench.db")
        async with httpx.AsyncClient(trust_env=False) as client:
            service = FeedService(
                FeedRepository(database),
                EntryRepository(database),
                HttpFeedFetcher(client),
                poll_interval=dt.timedelta(minutes=2),
                retention=dt.timedelta(days=90),
                clock=clock,
            )
            await service.ensure(urls)
            first = await poll_all(service, clock)
            not_modified = await poll_all(service, clock)
            republish.put(1)
            await asyncio.to_thread(done.get, timeout=300)
            changed = await poll_all(service, clock)
            await database.execute("UPDATE feeds SET etag = NULL, last_modified = NULL")
            same_bytes = await poll_all(service, clock)
            stored = await database.fetchvalue("SELECT COUNT(*) FROM entries")
            ratio = await database.fetchvalue(
                "SELECT SUM(polls_not_modified) * 1.0 / SUM(polls) FROM feeds"
            )
        await database.close()
    baseline = await bare_gets(urls)
    print(f"{feeds:,} feeds; {stored:,} entries stored; 304 share {ratio:.0%}")
    print(f"all 304:                             {not_modified:6.2f} CPU s")
    print(f"all 200, 50 items, one new each:     {changed:6.2f} CPU s")
    print(f"all 200, 50 items, bytes unchanged:  {same_bytes:6.2f} CPU s (not re-parsed)")
    print(f"all 200, 50 items, first poll:       {first:6.2f} CPU s (stores every entry)")
    print(f"baseline, bare httpx GETs:           {baseline:6.2f} CPU s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=50)
    arguments = parser.parse_args()
    port: multiprocessing.Queue[int] = multiprocessing.Queue()
    republish: multiprocessing.Queue[int] = multiprocessing.Queue()
    stop = multiprocessing.Event()
    server = multiprocessing.Process(
        target=serve,
        args=(arguments.feeds, arguments.items, port, republish, stop),
        daemon=True,
    )
    server.start()
    try:
        base = f"http://127.0.0.1:{port.get(timeout=120)}"
        asyncio.run(measure(base, arguments.feeds, republish, port))
    finally:
        stop.set()
        server.join(timeout=10)


if __name__ == "__main__":
    main()
