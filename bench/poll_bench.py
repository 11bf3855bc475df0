"""Benchmark: the cost of one poll, and how many feeds Herald keeps up with on time.

The default run polls 1,000 feeds once, answered 304 and answered 200 with 50 items.
``--capacity`` runs the whole bot against 10,000 feeds on 100 loopback hosts at a 60 s
interval (95% answering 304, 5% answering 200 with one new item) and reports polls/s, CPU
per 1,000 polls, how late polls start, event-loop lag and /help replies meanwhile.
The feed server runs in its own process so the CPU measured is Herald's alone.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import ipaddress
import math
import multiprocessing
import tempfile
import time
from collections.abc import Sequence
from multiprocessing.synchronize import Event
from pathlib import Path

import httpx
from aiohttp import web

from bench.corpus import NewsText
from bot.app import build_application, run_application
from bot.feeds import HttpFeedFetcher
from bot.sandbox.emulator import BotApiEmulator
from bot.sandbox.feedserver import FeedItem, FeedServer, render_rss
from bot.services.feeds import FeedService
from bot.storage.database import Database
from bot.storage.entries import EntryRepository
from bot.storage.feeds import FeedRepository
from config import configure_logging, load_settings

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


# --- the capacity run --------------------------------------------------------------------

CHANGING_EVERY = 20  # one feed in 20 has a new item at every poll: 5% answer 200
ASKERS = 4  # users taking turns asking /help, each within Telegram's 1/s per private chat
ASK_EVERY = 0.5
LAG_TICK = 0.01


def serve_hosts(hosts: int, per_host: int, ready: multiprocessing.Queue[int], stop: Event) -> None:
    """Serve ``per_host`` feeds on each of 127.0.0.1 .. 127.0.0.<hosts>, all on one port."""

    async def run() -> None:
        versions: dict[int, int] = {}
        static: dict[int, bytes] = {}

        async def feed(request: web.Request) -> web.Response:
            number = int(request.match_info["number"])
            link = f"https://news.example/{number}"
            if number % CHANGING_EVERY == 0:
                version = versions[number] = versions.get(number, 0) + 1
                items = [
                    FeedItem(f"Story {number}.{v}", f"{link}/{v}", published=NOW)
                    for v in range(version, max(version - 3, 0), -1)
                ]
                body = render_rss(items, title=f"Feed {number}", link=link)
                return web.Response(body=body, headers={"ETag": f'"{number}-{version}"'})
            etag = f'"{number}-static"'
            if request.headers.get("If-None-Match") == etag:
                return web.Response(status=304, headers={"ETag": etag})
            if number not in static:
                items = [FeedItem(f"Story {number}", f"{link}/0", published=NOW)]
                static[number] = render_rss(items, title=f"Feed {number}", link=link)
            return web.Response(body=static[number], headers={"ETag": etag})

        app = web.Application()
        app.router.add_get("/feed/{number}.xml", feed)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        first = web.TCPSite(runner, "127.0.0.1", 0)
        await first.start()
        port = runner.addresses[0][1]
        for host in range(2, hosts + 1):
            await web.TCPSite(runner, f"127.0.0.{host}", port).start()
        ready.put(port)
        # A multiprocessing Event can't be awaited; a thread waits on it instead.
        await asyncio.to_thread(stop.wait)
        await runner.cleanup()

    asyncio.run(run())


def capacity_urls(port: int, feeds: int, hosts: int) -> list[str]:
    return [f"http://127.0.0.{n % hosts + 1}:{port}/feed/{n}.xml" for n in range(feeds)]


def quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


class LoopLag:
    """How late a 10 ms sleep wakes up: the event loop's lag, sampled continuously."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(LAG_TICK)
            self.samples.append(max(loop.time() - started - LAG_TICK, 0.0))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def ask_help(emulator: BotApiEmulator, stop: asyncio.Event, latencies: list[float]) -> None:
    users = [emulator.add_user(f"Reader {n}") for n in range(ASKERS)]
    chats = [emulator.private_chat(user) for user in users]
    turn = 0
    while not stop.is_set():
        user, chat = users[turn % ASKERS], chats[turn % ASKERS]
        turn += 1
        asked = time.monotonic()
        await emulator.user_says(chat, user, "/help")
        try:
            await emulator.wait_for_message(chat, timeout=10)
            latencies.append(time.monotonic() - asked)
        except TimeoutError:
            latencies.append(math.inf)
        await asyncio.sleep(max(ASK_EVERY - (time.monotonic() - asked), 0.0))


async def capacity(urls: list[str], interval: float, measure: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        async with BotApiEmulator() as emulator:
            settings = load_settings(
                telegram_token=emulator.token,
                telegram_api_url=emulator.api_root,
                feeds=tuple(urls),
                database=Path(folder) / "herald.db",
                poll_interval=interval,
                allow_private_networks=(ipaddress.ip_network("127.0.0.0/8"),),
                log_level="WARNING",
                listen="127.0.0.1:0",
            )
            configure_logging(settings.log_level, secrets=[emulator.token])
            application = build_application(settings)
            stop = asyncio.Event()
            started = time.monotonic()
            bot = asyncio.create_task(run_application(application, stop=stop))
            await emulator.wait_until(lambda: emulator.long_polling, timeout=600)
            services = application.bot_data.services
            assert services is not None
            stats = services.feeds.stats
            up = time.monotonic()
            print(f"{len(urls):,} feeds added and the bot up in {up - started:.0f} s")
            # The first round fetches every feed in full and stores its entries (a fresh
            # install's start); the steady state, measured below, is what follows.
            while stats.started < len(urls):  # noqa: ASYNC110 (a counter, no event to await)
                await asyncio.sleep(0.5)
            print(
                f"first round, every feed fetched in full: {time.monotonic() - up:.0f} s;"
                f" behind due p95 {quantile(stats.lateness, 0.95):.1f} s,"
                f" max {max(stats.lateness):.1f} s"
            )
            await asyncio.sleep(interval / 2)
            lag, latencies, asking = LoopLag(), list[float](), asyncio.Event()
            stats.lateness = collections.deque()
            polls_before, cpu_before = stats.started, time.process_time()
            wall_before = time.monotonic()
            lag.start()
            asker = asyncio.create_task(ask_help(emulator, asking, latencies))
            await asyncio.sleep(measure)
            asking.set()
            await asker
            await lag.stop()
            polls = stats.started - polls_before
            cpu = time.process_time() - cpu_before
            wall = time.monotonic() - wall_before
            lateness = list(stats.lateness)
            stop.set()
            await bot
    concurrency = settings.poll_concurrency
    baseline_cpu, baseline_wall = await bare_conditional_gets(urls, concurrency)
    print(
        f"{len(urls):,} feeds on {len({url.split('/')[2] for url in urls})} hosts, "
        f"interval {interval:g} s, {concurrency} polls at once; measured {wall:.0f} s"
    )
    print(f"sustained polls/s:            {polls / wall:8.1f} (due: {len(urls) / interval:.1f})")
    print(f"CPU s per 1,000 polls:        {cpu / polls * 1000:8.2f} (whole process)")
    print(
        "poll start behind due p50/p95/max: "
        f"{quantile(lateness, 0.5):.3f} / {quantile(lateness, 0.95):.3f} / "
        f"{max(lateness, default=math.nan):.3f} s"
    )
    print(
        f"event-loop lag p50/p99/max:   {quantile(lag.samples, 0.5) * 1000:.1f} / "
        f"{quantile(lag.samples, 0.99) * 1000:.1f} / {max(lag.samples) * 1000:.1f} ms"
    )
    print(
        f"/help reply p50/p95/max:      {quantile(latencies, 0.5) * 1000:.0f} / "
        f"{quantile(latencies, 0.95) * 1000:.0f} / {max(latencies) * 1000:.0f} ms "
        f"({len(latencies)} asked)"
    )
    print(
        f"baseline, bare conditional httpx GETs, {concurrency} at once: "
        f"{len(urls) / baseline_wall:.0f} GETs/s, "
        f"{baseline_cpu / len(urls) * 1000:.2f} CPU s per 1,000"
    )


async def bare_conditional_gets(urls: list[str], concurrency: int) -> tuple[float, float]:
    """CPU and wall seconds for one conditional GET of every URL, with httpx alone."""
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(trust_env=False, limits=limits) as client:
        semaphore = asyncio.Semaphore(concurrency)

        async def get(url: str) -> None:
            number = url.rsplit("/", 1)[1].removesuffix(".xml")
            async with semaphore:
                await client.get(url, headers={"If-None-Match": f'"{number}-static"'})

        cpu, wall = time.process_time(), time.monotonic()
        await asyncio.gather(*(get(url) for url in urls))
        return time.process_time() - cpu, time.monotonic() - wall


def run_capacity(*, feeds: int, hosts: int, interval: float, measure: float) -> None:
    ready: multiprocessing.Queue[int] = multiprocessing.Queue()
    stop = multiprocessing.Event()
    server = multiprocessing.Process(
        target=serve_hosts, args=(hosts, feeds // hosts + 1, ready, stop), daemon=True
    )
    server.start()
    try:
        urls = capacity_urls(ready.get(timeout=120), feeds, hosts)
        asyncio.run(capacity(urls, interval, measure))
    finally:
        stop.set()
        server.join(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--capacity", action="store_true", help="the capacity run")
    parser.add_argument("--hosts", type=int, default=100, help="capacity run: loopback hosts")
    parser.add_argument("--interval", type=float, default=60.0, help="capacity run: seconds")
    parser.add_argument("--measure", type=float, default=120.0, help="capacity run: seconds")
    arguments = parser.parse_args()
    if arguments.capacity:
        feeds = 10_000 if arguments.feeds == 1000 else arguments.feeds
        run_capacity(
            feeds=feeds,
            hosts=arguments.hosts,
            interval=arguments.interval,
            measure=arguments.measure,
        )
        return
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
