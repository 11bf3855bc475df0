"""Benchmark: resident memory of `herald run` with 100,000 chats and 1,000,000 entries.

The database holds the search benchmark's archive (bench/archive.py: 1,000,000 entries over
90 days) plus 100,000 chats that each follow three topics drawn Zipf-like from the words the
entries use, in the forms people write (single words, two-word phrases, ``A OR B``,
``A AND B``, ``A -B``, exact phrases). It is cached under /tmp/herald-bench and copied for
each run, since the bot writes to it. Herald then runs as a subprocess against the loopback
Bot API emulator, which knows every one of those chats, and a loopback feed, exactly as the
end-to-end tests run it. Its VmRSS and VmHWM (from /proc) are read after start-up (the topic
index is built then), after a few new entries were polled and routed to all 300,000 topics,
and while it answers /search and /latest (with the alerts' fan-out under way). The baseline
is the same bot on an empty database. The figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import math
import random
import re
import shutil
import sqlite3
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.archive import (
    ANCHOR,
    CACHE,
    SPAN,
    Archive,
    NewsWriter,
    Vocabulary,
    ensure_archive,
    progress,
    zipf,
)
from bot.domain import ChatKind
from bot.sandbox.emulator import BotApiEmulator, FloodLimits
from bot.sandbox.feedserver import FeedItem, FeedServer
from bot.storage.chats import ChatRepository
from bot.storage.database import Database, to_epoch
from bot.storage.topics import TopicRepository
from bot.topics import MAX_TOPIC_LENGTH, InvalidQueryError, Query, TopicIndex, parse_query
from tests.e2e import harness

TARGET_MB = 300.0
VERSION = 1
# The emulator numbers users, groups and supergroups from these, one after another.
FIRST_USER_ID = 1_000_001
FIRST_GROUP_ID = -4_000_000_001
FIRST_SUPERGROUP_ID = -1_002_000_000_001
GROUP_SHARE = 0.10
SUPERGROUP_SHARE = 0.05
# Chats that changed their timezone from the default; the rest keep UTC.
TIMEZONES = ["Europe/London", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Tokyo"]
TOPIC_LIMIT = 50  # TopicService.MAX_TOPICS; the limit every add checks
# Chats and topics written through the repositories; the rest are the same rows in batches.
THROUGH_REPOSITORIES = 200
BATCH = 10_000
FEED_PATH = "/world.xml"
# Building the index of 300,000 topics takes longer than the e2e tests' start-up allows.
START_TIMEOUT = 180.0


@dataclasses.dataclass(frozen=True)
class Layout:
    """Which chats there are: their ids follow the emulator's numbering, in this order."""

    private: int
    groups: int
    supergroups: int

    @classmethod
    def of(cls, chats: int) -> Layout:
        groups, supergroups = round(chats * GROUP_SHARE), round(chats * SUPERGROUP_SHARE)
        return cls(chats - groups - supergroups, groups, supergroups)

    def chats(self) -> list[tuple[int, ChatKind, str]]:
        """(id, kind, title) of every chat, as /start in it would register it."""
        return [
            *((FIRST_USER_ID + n, ChatKind.PRIVATE, f"Reader {n}") for n in range(self.private)),
            *((FIRST_GROUP_ID - n, ChatKind.GROUP, f"Newsroom {n}") for n in range(self.groups)),
            *(
                (FIRST_SUPERGROUP_ID - n, ChatKind.SUPERGROUP, f"Desk {n}")
                for n in range(self.supergroups)
            ),
        ]

    def populate(self, emulator: BotApiEmulator) -> list[int]:
        """Create the chats in the emulator; returns their ids, in ``chats()`` order."""
        ids = [
            emulator.private_chat(emulator.add_user(f"Reader {n}")).id for n in range(self.private)
        ]
        for n in range(self.groups):
            ids.append(emulator.add_group(f"Newsroom {n}", admins=[emulator.add_user("Owner")]).id)
        for n in range(self.supergroups):
            owner = emulator.add_user("Owner")
            ids.append(emulator.add_group(f"Desk {n}", admins=[owner], supergroup=True).id)
        return ids


class TopicWriter:
    """Topic texts in the forms people write, their words drawn Zipf-like."""

    def __init__(self, vocabulary: Vocabulary, seed: int) -> None:
        self.rng = random.Random(seed)
        self.subject = zipf(self.rng, vocabulary.subjects)
        self.themes = vocabulary.themes
        self.phrase = zipf(
            self.rng,
            [*vocabulary.phrases, *(s for s in vocabulary.subjects[:300] if " " in s)],
        )
        self.forms: Counter[str] = Counter()

    def text(self) -> tuple[str, str]:
        """A topic and its form."""
        roll, rng = self.rng.random(), self.rng
        if roll < 0.40:
            return self.subject(), "single word or name"
        if roll < 0.55:
            if rng.random() < 0.6:
                return self.phrase(), "two-word phrase"
            return f"{self.subject().split()[-1]} {rng.choice(self.themes)}", "two-word phrase"
        if roll < 0.70:
            return " OR ".join(self.subject() for _ in range(rng.randint(2, 3))), "A OR B"
        if roll < 0.78:
            return f"{self.subject()} AND {self.subject()}", "A AND B"
        if roll < 0.90:
            return f"{self.subject()} -{self.subject().split()[0]}", "A -B"
        return f'"{self.phrase()}"', "exact phrase"

    def topics(self, count: int) -> list[Query]:
        """``count`` topics of one chat, no two the same."""
        chosen: dict[str, Query] = {}
        while len(chosen) < count:
            text, form = self.text()
            try:
                query = parse_query(text, mode="topic")
            except InvalidQueryError:
                continue
            if query.canonical not in chosen:
                chosen[query.canonical] = query
                self.forms[form] += 1
        return list(chosen.values())


@dataclasses.dataclass(frozen=True)
class Subscribed:
    path: Path
    chats: int
    topics: int
    distinct: int
    forms: dict[str, int]
    build_seconds: float
    built_now: bool
    stored: list[tuple[int, str]]  # (chat id, text) of every topic, as the bot reads them


def subscribed_path(archive: Archive, chats: int, per_chat: int, seed: int) -> Path:
    return archive.path.with_name(
        f"{archive.path.stem}-subscribed-v{VERSION}-{chats}x{per_chat}-seed{seed}.db"
    )


async def ensure_subscribed(
    archive: Archive, layout: Layout, per_chat: int, seed: int
) -> Subscribed:
    """The archive plus the chats and their topics, cached; built from the archive if new."""
    chats = layout.chats()
    path = subscribed_path(archive, len(chats), per_chat, seed)
    writer = TopicWriter(Vocabulary.build(), seed)
    # Drawn again on every run (it takes seconds), so the mix can be described.
    topics = [writer.topics(per_chat) for _ in chats]
    distinct = len({query.canonical for chat in topics for query in chat})
    count = sum(len(chat) for chat in topics)
    stored = [
        (chat_id, query.display)
        for (chat_id, _, _), queries in zip(chats, topics, strict=True)
        for query in queries
    ]
    info = path.with_suffix(".seconds")
    if path.exists() and info.exists():
        seconds = float(info.read_text())
        return Subscribed(
            path, len(chats), count, distinct, dict(writer.forms), seconds, False, stored
        )
    progress(f"adding {len(chats):,} chats × {per_chat} topics to a copy of the archive at {path}")
    started = time.perf_counter()
    building = path.with_name(path.name + ".building")
    shutil.copyfile(archive.path, building)
    await subscribe(building, chats, topics)
    building.rename(path)
    seconds = time.perf_counter() - started
    info.write_text(str(seconds))
    return Subscribed(path, len(chats), count, distinct, dict(writer.forms), seconds, True, stored)


async def subscribe(
    path: Path, chats: Sequence[tuple[int, ChatKind, str]], topics: Sequence[Sequence[Query]]
) -> None:
    """Register every chat and add its topics, as /start and /topic would."""
    rng = random.Random(len(chats))
    zones = [rng.choice(TIMEZONES) if rng.random() < 0.2 else "UTC" for _ in chats]
    database = await Database.open(path)
    try:
        chat_repository, topic_repository = ChatRepository(database), TopicRepository(database)
        for (chat_id, kind, title), zone, queries in list(zip(chats, zones, topics, strict=True))[
            :THROUGH_REPOSITORIES
        ]:
            await chat_repository.register(chat_id, kind, title, timezone=zone, now=ANCHOR)
            for query in queries:
                await topic_repository.add(
                    chat_id, query.display, query.canonical, limit=TOPIC_LIMIT, now=ANCHOR
                )
        # The same rows as register() and add() write, a batch per transaction: through the
        # repositories, 400,000 transactions would take minutes.
        now = to_epoch(ANCHOR)
        for start in range(THROUGH_REPOSITORIES, len(chats), BATCH):
            end = min(start + BATCH, len(chats))
            async with database.transaction() as sql:
                await sql.executemany(
                    "INSERT INTO chats (id, kind, title, timezone, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (chat_id, kind.value, title, zone, now, now)
                        for (chat_id, kind, title), zone in zip(
                            chats[start:end], zones[start:end], strict=True
                        )
                    ],
                )
                await sql.executemany(
                    "INSERT INTO topics (chat_id, query, canonical, created_at)"
                    " VALUES (?, ?, ?, ?)",
                    [
                        (chat_id, query.display, query.canonical, now)
                        for (chat_id, _, _), queries in zip(
                            chats[start:end], topics[start:end], strict=True
                        )
                        for query in queries
                    ],
                )
        await database.fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        await database.close()


# Measuring


@dataclasses.dataclass(frozen=True)
class Memory:
    """What /proc/<pid>/status says, in kB."""

    rss: int
    hwm: int
    anon: int
    file: int

    @classmethod
    def of(cls, pid: int) -> Memory:
        fields = {}
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                fields[name] = int(value.split()[0])
        return cls(fields["VmRSS"], fields["VmHWM"], fields["RssAnon"], fields["RssFile"])


def index_size(topics: Sequence[tuple[int, str]]) -> int:
    """kB of Python objects a TopicIndex of ``topics`` holds, parsed as the bot parses them."""
    tracemalloc.start()
    index = TopicIndex()
    for topic_id, (chat_id, text) in enumerate(topics, start=1):
        index.add(
            topic_id, chat_id, parse_query(text, mode="topic", max_length=4 * MAX_TOPIC_LENGTH)
        )
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del index
    return held // 1024


def mb(kilobytes: int) -> str:
    return f"{kilobytes * 1024 / 1e6:,.0f} MB"


class Sampler:
    """The highest VmRSS seen while it runs, read every few milliseconds."""

    def __init__(self, pid: int, every: float = 0.02) -> None:
        self.pid = pid
        self.every = every
        self.peak = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            self.peak = max(self.peak, Memory.of(self.pid).rss)
            await asyncio.sleep(self.every)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> int:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self.peak = max(self.peak, Memory.of(self.pid).rss)
        return self.peak


async def wait_for(
    condition: Callable[[], bool], description: str, within: float = 120.0
) -> float:
    """Seconds until ``condition`` held; raises TimeoutError after ``within`` seconds."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > within:
            raise TimeoutError(f"no {description} within {within:.0f} s")
        await asyncio.sleep(0.1)
    return time.monotonic() - started


def query_value(path: Path, sql: str, params: Sequence[object] = ()) -> int:
    with sqlite3.connect(path, timeout=10) as db:
        row = db.execute(sql, params).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


async def empty_baseline(workdir: Path) -> tuple[Memory, float]:
    """Memory of `herald run` on an empty database, a few seconds after it started polling."""
    async with BotApiEmulator(limits=FloodLimits()) as emulator:
        started = time.monotonic()
        async with harness.running_herald(emulator, workdir, HERALD_LOG_LEVEL="INFO") as herald:
            startup = time.monotonic() - started
            await asyncio.sleep(3)
            return Memory.of(herald.process.pid), startup


NOTHING = Memory(0, 0, 0, 0)


@dataclasses.dataclass
class Loaded:
    startup: float = 0.0
    index_log: str = ""
    after_start: Memory = NOTHING
    routed_seconds: float = 0.0
    new_entries: int = 0
    alerts: int = 0
    after_routing: Memory = NOTHING
    replies: list[tuple[str, float]] = dataclasses.field(default_factory=list)
    peak_during_commands: int = 0
    after_commands: Memory = NOTHING
    sent_by_commands: int = 0
    peak_during_fanout: int = 0
    after_fanout: Memory = NOTHING
    sent: int = 0
    mismatched_chats: int = 0


def new_items(count: int, seed: int) -> list[FeedItem]:
    writer = NewsWriter(Vocabulary.build(), seed)
    now = dt.datetime.now(dt.UTC)
    items = []
    for n in range(count):
        title, summary = writer.entry()
        published = now - dt.timedelta(seconds=count - n)
        items.append(
            FeedItem(title, f"https://loopback.example/{seed}/{n}", None, summary, published)
        )
    return items


def commands(vocabulary: Vocabulary, seed: int) -> list[str]:
    rare = random.Random(seed).choice(vocabulary.subjects[vocabulary.tail_from :])
    return [
        "/search Putin",
        "/search North Korea sanctions",
        f"/search {rare}",
        "/latest 20",
        "/latest 20 Gaza",
        f"/latest 20 {rare}",
    ]


async def loaded_run(
    workdir: Path, subscribed: Subscribed, layout: Layout, arguments: argparse.Namespace
) -> Loaded:
    database = workdir / "herald.db"
    progress("copying the database for this run")
    await asyncio.to_thread(shutil.copyfile, subscribed.path, database)
    result = Loaded()
    # The archive ends at a fixed moment; a bot with a real clock would prune what it sees
    # as older than its retention, so retention covers the whole archive.
    age = dt.datetime.now(dt.UTC) - (ANCHOR - SPAN)
    retention = max(90, math.ceil(age / dt.timedelta(days=1)) + 2)
    asked = commands(Vocabulary.build(), arguments.seed)
    baseline = new_items(3, arguments.seed + 10)
    fresh = new_items(arguments.new_entries, arguments.seed + 11)
    async with BotApiEmulator(limits=FloodLimits()) as emulator, FeedServer() as feeds:
        progress(f"creating {subscribed.chats:,} chats in the emulator")
        ids = layout.populate(emulator)
        result.mismatched_chats = sum(
            a != b for a, b in zip(ids, [c[0] for c in layout.chats()], strict=True)
        )
        # A reader each: Herald rightly paces replies in one private chat to one a second.
        readers = [emulator.add_user(f"Bench Reader {n}") for n in range(len(asked))]
        reader_chats = [emulator.private_chat(reader) for reader in readers]
        feeds.publish_rss(FEED_PATH, baseline, title="Loopback Wire")
        url = feeds.url(FEED_PATH)
        progress("starting herald on the loaded database")
        started = time.monotonic()
        async with harness.running_herald(
            emulator,
            workdir,
            start_within=START_TIMEOUT,
            HERALD_LOG_LEVEL="INFO",
            HERALD_FEEDS=url,
            HERALD_POLL_INTERVAL="1",
            HERALD_RETENTION_DAYS=str(retention),
        ) as herald:
            pid = herald.process.pid
            result.startup = time.monotonic() - started
            found = re.search(r"Topic index holds \d+ topics", herald.log)
            result.index_log = found[0] if found else "(no index line in the log)"

            def feed_entries() -> int:
                return query_value(
                    database,
                    "SELECT COUNT(*) FROM entries AS e JOIN feeds AS f ON f.id = e.feed_id"
                    " WHERE f.url = ?",
                    (url,),
                )

            await wait_for(lambda: feed_entries() >= len(baseline), "first poll of the feed")
            await asyncio.sleep(2)
            result.after_start = Memory.of(pid)

            progress(f"publishing {len(fresh)} new entries")
            alerts_before = query_value(
                database, "SELECT COUNT(*) FROM outbox WHERE kind = 'alert'"
            )
            feeds.publish_rss(FEED_PATH, [*baseline, *fresh], title="Loopback Wire")
            result.routed_seconds = await wait_for(
                lambda: (
                    feed_entries() >= len(baseline) + len(fresh)
                    and query_value(database, "SELECT COUNT(*) FROM entries WHERE routed = 0") == 0
                ),
                "routing of the new entries",
            )
            result.new_entries = feed_entries() - len(baseline)
            result.alerts = (
                query_value(database, "SELECT COUNT(*) FROM outbox WHERE kind = 'alert'")
                - alerts_before
            )
            await asyncio.sleep(1)
            result.after_routing = Memory.of(pid)

            progress("asking /search and /latest")
            sampler = Sampler(pid)
            sampler.start()
            for text, reader, chat in zip(asked, readers, reader_chats, strict=True):
                sent_at = time.monotonic()
                await emulator.user_says(chat, reader, text)
                await emulator.wait_for_message(chat, timeout=60)
                result.replies.append((text, time.monotonic() - sent_at))
            result.peak_during_commands = await sampler.stop()
            result.after_commands = Memory.of(pid)

            reader_ids = {chat.id for chat in reader_chats}

            def alerts_sent() -> int:
                return sum(message.chat_id not in reader_ids for message in emulator.all_messages)

            result.sent_by_commands = alerts_sent()
            progress(f"letting the fan-out run for {arguments.fanout_seconds:.0f} s")
            sampler = Sampler(pid)
            sampler.start()
            await asyncio.sleep(arguments.fanout_seconds)
            result.peak_during_fanout = await sampler.stop()
            result.after_fanout = Memory.of(pid)
            result.sent = alerts_sent()
    return result


def workdirs(folder: Path) -> tuple[Path, Path]:
    """Where herald runs on the empty database and on the loaded one."""
    empty, loaded = folder / "empty", folder / "loaded"
    empty.mkdir()
    loaded.mkdir()
    return empty, loaded


def mebibytes(path: Path) -> float:
    return path.stat().st_size / 2**20


def describe(memory: Memory) -> str:
    return (
        f"{mb(memory.rss):>8} {mb(memory.hwm):>8}   (anonymous {mb(memory.anon)},"
        f" files {mb(memory.file)})"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--chats", type=int, default=100_000)
    parser.add_argument("--topics-per-chat", type=int, default=3)
    parser.add_argument("--new-entries", type=int, default=5, help="published while it runs")
    parser.add_argument("--fanout-seconds", type=float, default=15.0, help="watched at the end")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=CACHE, help="where databases are kept")
    arguments = parser.parse_args()

    archive = await ensure_archive(arguments.cache, arguments.entries, arguments.seed)
    layout = Layout.of(arguments.chats)
    subscribed = await ensure_subscribed(
        archive, layout, arguments.topics_per_chat, arguments.seed
    )
    progress("measuring the topic index in this process")
    index_kb = index_size(subscribed.stored)
    with tempfile.TemporaryDirectory(dir=arguments.cache, prefix="memory-run-") as folder:
        empty_dir, loaded_dir = workdirs(Path(folder))
        empty, empty_startup = await empty_baseline(empty_dir)
        loaded = await loaded_run(loaded_dir, subscribed, layout, arguments)
        size = mebibytes(loaded_dir / "herald.db")

    forms = ", ".join(
        f"{form} {count / sum(subscribed.forms.values()):.0%}"
        for form, count in Counter(subscribed.forms).most_common()
    )
    print(
        f"database: {arguments.entries:,} entries; {subscribed.chats:,} chats ({layout.private:,}"
        f" private, {layout.groups:,} groups, {layout.supergroups:,} supergroups);"
        f" {subscribed.topics:,} topics ({subscribed.distinct:,} distinct); {size:,.0f} MiB"
    )
    print(f"topics: {forms}")
    built = "in this run" if subscribed.built_now else "cached from an earlier run"
    print(f"chats and topics added to the archive in {subscribed.build_seconds:.0f} s ({built})")
    if loaded.mismatched_chats:
        print(f"WARNING: {loaded.mismatched_chats} chats have other ids in the emulator")
    print()
    rows = [
        ("baseline: empty database, after start-up", describe(empty)),
        (f"loaded: after start-up ({loaded.index_log})", describe(loaded.after_start)),
        (
            f"loaded: after {loaded.new_entries} new entries polled and routed"
            f" ({loaded.alerts:,} alerts queued)",
            describe(loaded.after_routing),
        ),
        (
            f"loaded: peak while answering {len(loaded.replies)} /search and /latest",
            f"{mb(loaded.peak_during_commands):>8}",
        ),
        (
            f"loaded: after the commands ({loaded.sent_by_commands:,} alerts sent so far)",
            describe(loaded.after_commands),
        ),
        (
            f"loaded: peak during {arguments.fanout_seconds:.0f} s more of the fan-out",
            f"{mb(loaded.peak_during_fanout):>8}",
        ),
        (
            f"loaded: after it ({loaded.sent:,} alerts sent so far)",
            describe(loaded.after_fanout),
        ),
    ]
    width = max(len(label) for label, _ in rows) + 2
    print(f"resident memory of `herald run` (target: under {TARGET_MB:.0f} MB)")
    print(f"{'':<{width}}{'VmRSS':>8} {'VmHWM':>8}")
    for label, figures in rows:
        print(f"{label:<{width}}{figures}")
    peak = max(loaded.after_fanout.hwm, loaded.peak_during_commands, loaded.peak_during_fanout)
    verdict = "met" if peak * 1024 / 1e6 < TARGET_MB else "MISSED"
    print(
        f"peak resident (VmHWM) {mb(peak)} against {TARGET_MB:.0f} MB: {verdict};"
        f" {mb(peak - empty.hwm)} more than on an empty database"
    )
    print(
        f"the topic index of {subscribed.topics:,} topics holds about {mb(index_kb)} of Python"
        " objects (traced while this process built the same index)"
    )
    print()
    print(
        f"start-up until polling: {empty_startup:.1f} s on the empty database,"
        f" {loaded.startup:.1f} s on the loaded one"
    )
    print(
        f"routing: {loaded.new_entries} new entries stored and routed"
        f" {loaded.routed_seconds:.1f} s after they were published"
    )
    replies = ", ".join(f"{text} {seconds * 1000:,.0f} ms" for text, seconds in loaded.replies)
    print(f"replies while the fan-out runs: {replies}")


if __name__ == "__main__":
    asyncio.run(main())
