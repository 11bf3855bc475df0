"""Benchmark: pruning a tenth of a 1,000,000-entry archive while users ask and a fan-out runs.

The store holds 100,000 private chats, 1,000,000 entries over 90 days (headline and a
paragraph or two, in the FTS5 index with Herald's own tokens), 5,000,000 outbox rows (alerts
spread over the 90 days, five an entry: 99% sent with their ledger rows, 1% given up on)
each with its ``outbox_items`` row, and 5,000 alerts still pending to 5,000 chats. It is
built with bulk SQL on Herald's migrated schema (the outbox indexes and trigger are dropped
while the rows go in, then recreated from the schema's own SQL), cached under
/tmp/herald-bench by scale, and copied for each run, since pruning changes it.

Each side then runs the real bot (`herald run`'s composition root in a child process)
against the loopback Bot API emulator at ``HERALD_SEND_RATE=100``: the 5,000 alerts fan
out as it starts, four users take turns every half second with ``/latest 20``, ``/search``,
``/topic``, ``/latest 10 <word>`` and ``/topic remove``, and the child prunes every entry
published before the archive's 10th percentile. Herald prunes through
``EntryRepository.prune`` (what ``FeedService.prune`` calls): short batches through
``Database.in_batches``. The baseline is the single-transaction prune on the same data: one
``INSERT INTO pruned_keys ... SELECT`` and one ``DELETE FROM entries WHERE published_at < ?``
in one transaction on the writer connection, cascading through the same indexes. The child
reports the prune's wall time, the longest write-lock hold (``Database.longest_write``) and
the lag of its event loop; the parent times every reply and the fan-out on the emulator.
The figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import math
import os
import random
import re
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from bench.archive import CACHE, FEEDS, NEVER, NewsWriter, Vocabulary, progress
from bot.app import Herald, build_application, run_application
from bot.domain import PRIORITY, MessageKind, utc_now
from bot.sandbox.emulator import BotApiEmulator, Chat, FloodLimits, Rate, SentMessage, User
from bot.storage.database import Database, from_epoch, migrations, to_epoch
from bot.storage.entries import EntryRepository
from bot.storage.feeds import FeedRepository
from bot.topics.fts import document
from config import Settings, configure_logging, load_settings
from tests.e2e.harness import HeraldProcess, herald_environment

# Bump when the store's shape changes, so stale caches aren't reused.
VERSION = 2
CHATS, ENTRIES, OUTBOX = 100_000, 1_000_000, 5_000_000
SPAN = dt.timedelta(days=90)
PRUNE_SHARE = 0.10
FANOUT = 5000
RATE = 100
# The emulator numbers users from here, so the store's chat ids are the emulator's.
FIRST_USER_ID = 1_000_001
# Five alerts an entry, each to a different chat: (entry * STEP + k * (chats // 5)) % chats.
CHAT_STEP = 7919
FAILED_EVERY = 100  # one alert in a hundred was given up on; the rest were sent
TOPICS = json.dumps(["North Korea"])
ROWS_PER_TRANSACTION = 50_000
OUTBOX_PER_STATEMENT = 1_000_000
# Four askers, so each private chat asks every two seconds: Telegram's one message a second
# per private chat would otherwise be what is measured.
ASKERS = 4
ASK_EVERY = 0.5
WARM_UP = 1.0
REPLY_GRACE = 60.0
START_TIMEOUT = 120.0
# Bounds on a side: the prune, then what is left of the fan-out after it.
PRUNE_DEADLINE = 480.0
FANOUT_DEADLINE = 180.0
STALL = 30.0
LAG_TICK = 0.01
LAG_SAMPLES = 100_000
TARGET_P95, TARGET_MAX, TARGET_SHARE = 0.2, 1.0, 0.9
# Issue 14: no transaction should hold the write lock longer than about this.
LOCK_TARGET = 0.05
# The child imports this module, so it runs with the repository on its path.
ROOT = Path(__file__).resolve().parent.parent


@dataclasses.dataclass(frozen=True)
class Size:
    chats: int
    entries: int
    outbox: int  # rows in all, the pending fan-out included
    fanout: int

    @classmethod
    def of(cls, scale: float, fanout: int) -> Size:
        entries = max(1000, round(ENTRIES * scale))
        chats = max(round(CHATS * scale), fanout + ASKERS + 1)
        return cls(chats, entries, max(round(OUTBOX * scale), fanout + entries), fanout)

    @property
    def per_entry(self) -> int:
        """Alerts each stored entry (but the newest, the fan-out's) went to."""
        return max(1, round((self.outbox - self.fanout) / (self.entries - 1)))

    @property
    def sent_rows(self) -> int:
        return self.per_entry * (self.entries - 1)

    @property
    def pruned(self) -> int:
        return round(self.entries * PRUNE_SHARE)


@dataclasses.dataclass(frozen=True)
class Store:
    path: Path
    size: Size
    cutoff: float  # entries published before this are pruned: the oldest PRUNE_SHARE
    build_seconds: float
    built_now: bool

    @property
    def mib(self) -> float:
        return self.path.stat().st_size / 2**20


# Building the store


def store_path(size: Size) -> Path:
    """The cache's name for a store of this size on the schema as the migrations leave it."""
    schema = migrations()[-1][0]
    return CACHE / (
        f"prune-v{VERSION}-m{schema}-{size.chats}c-{size.entries}e-{size.outbox}o"
        f"-{size.fanout}f.db"
    )


async def ensure_store(size: Size) -> Store:
    """The cached store of this size, built first if there is none."""
    path = store_path(size)
    info = path.with_suffix(".json")
    if path.exists() and info.exists():
        facts = json.loads(info.read_text())
        return Store(path, size, facts["cutoff"], facts["build_seconds"], False)
    progress(f"building a store of {size} at {path} (cached for next time)")
    started = time.perf_counter()
    building = path.with_name(path.name + ".building")
    for leftover in (building, *(Path(f"{building}{tail}") for tail in ("-wal", "-shm"))):
        leftover.unlink(missing_ok=True)
    anchor = dt.datetime.now(dt.UTC).replace(microsecond=0)
    # Herald's own migrations make the schema; its repository adds the feeds.
    database = await Database.open(building)
    try:
        feeds = FeedRepository(database)
        feed_ids = [
            (await feeds.add(f"https://{host}/rss.xml", now=anchor - SPAN, next_poll_at=NEVER)).id
            for _, host, _ in FEEDS
        ]
    finally:
        await database.close()
    cutoff = await asyncio.to_thread(_fill, building, size, feed_ids, anchor)
    building.rename(path)
    seconds = time.perf_counter() - started
    info.write_text(
        json.dumps(
            {
                "size": dataclasses.asdict(size),
                "cutoff": cutoff,
                "anchor": anchor.isoformat(),
                "build_seconds": seconds,
            }
        )
    )
    progress(f"  built in {seconds:.0f} s, {path.stat().st_size / 2**20:,.0f} MiB")
    return Store(path, size, cutoff, seconds, True)


def _fill(path: Path, size: Size, feed_ids: Sequence[int], anchor: dt.datetime) -> float:
    """Bulk-load the store; returns the prune cutoff. Runs on a thread: it blocks."""
    sql = sqlite3.connect(path, isolation_level=None)
    try:
        # A build that fails is thrown away, so it needs no journal and no fsync.
        sql.execute("PRAGMA journal_mode = OFF")
        sql.execute("PRAGMA synchronous = OFF")
        sql.execute("PRAGMA cache_size = -1000000")
        sql.execute("PRAGMA temp_store = MEMORY")
        now = to_epoch(anchor)
        started = time.perf_counter()
        sql.execute(
            """
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :chats)
            INSERT INTO chats (id, kind, title, timezone, created_at, updated_at)
            SELECT :first + i, 'private', 'Reader ' || i, 'UTC', :start, :start FROM n
            """,
            {"chats": size.chats, "first": FIRST_USER_ID, "start": now - SPAN.total_seconds()},
        )
        _fill_entries(sql, size, feed_ids, anchor)
        progress(f"  {size.entries:,} entries stored ({time.perf_counter() - started:.0f} s)")
        _fill_outbox(sql, size, now)
        progress(
            f"  {size.outbox:,} outbox rows and their ledger stored"
            f" ({time.perf_counter() - started:.0f} s)"
        )
        sql.execute("PRAGMA journal_mode = WAL")
        row = sql.execute(
            "SELECT published_at FROM entries ORDER BY published_at LIMIT 1 OFFSET ?",
            (size.pruned,),
        ).fetchone()
        return float(row[0])
    finally:
        sql.close()


def _entry_rows(
    writer: NewsWriter, feed_ids: Sequence[int], first: int, count: int, size: Size, start: float
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Entries ``first`` to ``first + count - 1`` and their index rows.

    Ids follow arrival, as the bot's do; the index rows are Herald's own tokens, made by the
    function ``EntryRepository.index_pending`` makes them with.
    """
    rng = writer.rng
    step = SPAN.total_seconds() / size.entries
    feeds = rng.choices(range(len(FEEDS)), weights=[share for _, _, share in FEEDS], k=count)
    rows, documents = [], []
    for entry_id, feed in zip(range(first, first + count), feeds, strict=True):
        title, summary = writer.entry()
        published = start + (entry_id - 1 + rng.random() * 0.5) * step
        link = f"https://{FEEDS[feed][1]}/{entry_id}"
        author = "World desk" if rng.random() < 0.4 else ""
        seen = published + 120
        rows.append(
            (entry_id, feed_ids[feed], link, title, summary, link, author, published, seen,
             seen, f"link:{link}")
        )  # fmt: skip
        documents.append((entry_id, *document(title, summary, link=link, feed_id=feed_ids[feed])))
    return rows, documents


def _fill_entries(
    sql: sqlite3.Connection, size: Size, feed_ids: Sequence[int], anchor: dt.datetime
) -> None:
    """Every entry through Herald's triggers, then indexed as ``index_pending`` indexes it."""
    writer = NewsWriter(Vocabulary.build(), seed=14)
    start = to_epoch(anchor - SPAN)
    chunks = [
        (first, min(ROWS_PER_TRANSACTION, size.entries + 1 - first))
        for first in range(1, size.entries + 1, ROWS_PER_TRANSACTION)
    ]
    # The next chunk's text is written on another thread while this one is stored: SQLite
    # releases the GIL while it works, so the two overlap.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        upcoming = pool.submit(_entry_rows, writer, feed_ids, *chunks[0], size, start)
        for number, (first, count) in enumerate(chunks):
            rows, documents = upcoming.result()
            if number + 1 < len(chunks):
                upcoming = pool.submit(
                    _entry_rows, writer, feed_ids, *chunks[number + 1], size, start
                )
            sql.execute("BEGIN")
            sql.executemany(
                "INSERT INTO entries (id, feed_id, key, title, summary, link, author,"
                " published_at, first_seen_at, updated_at, routed, story)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
                rows,
            )
            sql.executemany(
                "INSERT INTO entries_fts (rowid, title, summary, source) VALUES (?, ?, ?, ?)",
                documents,
            )
            # The insert trigger queued them for indexing; they are indexed now.
            sql.execute(
                "DELETE FROM entries_fts_pending WHERE entry_id BETWEEN ? AND ?",
                (first, first + count - 1),
            )
            sql.execute("COMMIT")
            if (number + 1) % 4 == 0:
                progress(f"    {first + count - 1:,} entries")


def _fill_outbox(sql: sqlite3.Connection, size: Size, now: float) -> None:
    """The alerts, their items and the ledger, in bulk with the schema's indexes rebuilt."""
    # Indexes and the trigger go while the rows go in, and come back from their own SQL,
    # so the schema is exactly the migrations'.
    schema = sql.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger')"
        " AND tbl_name IN ('outbox', 'outbox_items', 'ledger') AND sql IS NOT NULL"
    ).fetchall()
    for kind, name, _ in schema:
        sql.execute(f'DROP {kind.upper()} "{name}"')
    per, sent = size.per_entry, size.sent_rows
    for low in range(0, sent, OUTBOX_PER_STATEMENT):
        sql.execute("BEGIN")
        sql.execute(
            """
            WITH RECURSIVE n(i) AS (SELECT :low UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :high)
            INSERT INTO outbox (id, chat_id, kind, priority, entry_id, topics, state, attempts,
                                not_before, last_error, first_failed_at, failed_at, created_at,
                                sent_at, message_id)
            SELECT i + 1,
                   :first + (e.id * :step + (i % :per) * (:chats / :per)) % :chats,
                   'alert', :priority, e.id, :topics,
                   CASE WHEN i % :every = :every - 1 THEN 'failed' ELSE 'sent' END,
                   CASE WHEN i % :every = :every - 1 THEN 20 ELSE 1 END,
                   e.first_seen_at + (i % :per) * 0.01,
                   CASE WHEN i % :every = :every - 1 THEN 'Timed out' END,
                   CASE WHEN i % :every = :every - 1 THEN e.first_seen_at + 1 END,
                   CASE WHEN i % :every = :every - 1 THEN e.first_seen_at + 86401 END,
                   e.first_seen_at + (i % :per) * 0.01,
                   CASE WHEN i % :every != :every - 1 THEN e.first_seen_at + 1 + (i % :per) END,
                   CASE WHEN i % :every != :every - 1 THEN i + 1 END
            FROM n JOIN entries AS e ON e.id = i / :per + 1
            """,
            {
                "low": low,
                "high": min(low + OUTBOX_PER_STATEMENT, sent),
                "first": FIRST_USER_ID,
                "step": CHAT_STEP,
                "per": per,
                "chats": size.chats,
                "every": FAILED_EVERY,
                "priority": PRIORITY[MessageKind.ALERT],
                "topics": TOPICS,
            },
        )
        sql.execute("COMMIT")
        progress(f"    {min(low + OUTBOX_PER_STATEMENT, sent):,} outbox rows")
    # The fan-out: the newest entry, queued to the first chats and not sent yet.
    sql.execute(
        """
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :fanout)
        INSERT INTO outbox (id, chat_id, kind, priority, entry_id, topics, not_before,
                            created_at)
        SELECT :sent + i + 1, :first + i, 'alert', :priority, :entry, :topics, :now, :now
        FROM n
        """,
        {
            "fanout": size.fanout,
            "sent": sent,
            "first": FIRST_USER_ID,
            "entry": size.entries,
            "priority": PRIORITY[MessageKind.ALERT],
            "topics": TOPICS,
            "now": now,
        },
    )
    sql.execute("BEGIN")
    sql.execute(
        "INSERT INTO outbox_items (outbox_id, entry_id, chat_id, story)"
        " SELECT o.id, o.entry_id, o.chat_id, e.story"
        " FROM outbox AS o JOIN entries AS e ON e.id = o.entry_id ORDER BY o.id"
    )
    sql.execute("COMMIT")
    progress("    outbox items stored")
    sql.execute("BEGIN")
    # In the ledger's key order: a WITHOUT ROWID table is its primary key.
    sql.execute(
        "INSERT INTO ledger (chat_id, story, channel, entry_id, kind, outbox_id, delivered_at)"
        " SELECT i.chat_id, i.story, 'push', i.entry_id, o.kind, o.id, o.sent_at"
        " FROM outbox_items AS i JOIN outbox AS o ON o.id = i.outbox_id"
        " WHERE o.state = 'sent' ORDER BY i.chat_id, i.story"
    )
    sql.execute("COMMIT")
    progress("    ledger stored; indexing")
    for _, name, statement in schema:
        sql.execute(statement)
        progress(f"    {name}")


# Herald in its own process


@dataclasses.dataclass(frozen=True)
class PruneReport:
    """What the child measured, on the monotonic clock both processes share."""

    deleted: int
    started_at: float
    ended_at: float
    longest_write: float
    lag_p99: float
    lag_max: float
    # Write transactions while it ran, by kind of task: count, longest and total seconds,
    # and how many held the lock longer than LOCK_TARGET.
    writers: dict[str, tuple[int, float, float, int]]

    @property
    def seconds(self) -> float:
        return self.ended_at - self.started_at


def serve(mode: str, result: Path, cutoff: float) -> None:
    """The child: `herald run`'s application, which prunes when it gets SIGUSR1."""
    settings = load_settings()
    configure_logging(settings.log_level, secrets=[settings.token or ""])
    asyncio.run(_serve(settings, mode, result, cutoff))


async def _serve(settings: Settings, mode: str, result: Path, cutoff: float) -> None:
    application = build_application(settings)
    herald = getattr(application.post_init, "__self__", None)
    assert isinstance(herald, Herald), "build_application's post_init is Herald's"
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks: list[asyncio.Task[None]] = []

    def start() -> None:
        if not tasks:
            tasks.append(asyncio.create_task(_prune(herald, mode, result, cutoff), name="prune"))

    loop.add_signal_handler(signal.SIGUSR1, start)
    try:
        await run_application(application, stop=stop)
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _prune(herald: Herald, mode: str, result: Path, cutoff: float) -> None:
    database = herald.database
    assert database is not None, "the bot is up before the parent asks for the prune"
    lags: list[float] = []
    done = asyncio.Event()
    watcher = asyncio.create_task(_watch_lag(done, lags))
    holds = _time_writers(database)
    database.longest_write = 0.0
    started = time.monotonic()
    try:
        if mode == "herald":
            deleted = await EntryRepository(database).prune(
                published_before=from_epoch(cutoff), now=utc_now()
            )
        else:
            deleted = await _prune_in_one_transaction(database, cutoff)
    except Exception as error:
        logging.getLogger(__name__).exception("The prune failed")
        facts: dict[str, Any] = {"error": repr(error)}
    else:
        ended = time.monotonic()
        done.set()
        await watcher
        ranked = sorted(lags)
        facts = dataclasses.asdict(
            PruneReport(
                deleted,
                started,
                ended,
                database.longest_write,
                _quantile(ranked, 0.99),
                ranked[-1],
                {
                    writer: (
                        len(times),
                        max(times),
                        sum(times),
                        sum(took > LOCK_TARGET for took in times),
                    )
                    for writer, times in sorted(holds.items())
                },
            )
        )
    finally:
        done.set()
    partial = result.with_suffix(".partial")
    partial.write_text(json.dumps(facts))
    partial.rename(result)


def _time_writers(database: Database) -> dict[str, list[float]]:
    """Time every write transaction from here on, by the kind of task that ran it.

    Benchmark instrumentation only: ``Database.longest_write`` says how long the lock was
    held at most, and this says by whom (the prune's batches, sends marked sent, replies).
    """
    holds: dict[str, list[float]] = collections.defaultdict(list)
    transaction = database.transaction

    @contextlib.asynccontextmanager
    async def timed() -> AsyncIterator[aiosqlite.Connection]:
        task = asyncio.current_task()
        writer = re.sub(r"\d+", "#", task.get_name() if task else "?")
        async with transaction() as sql:
            started = time.perf_counter()
            yield sql
        holds[writer].append(time.perf_counter() - started)

    database.transaction = timed  # type: ignore[method-assign]
    return holds


async def _prune_in_one_transaction(database: Database, cutoff: float) -> int:
    """The baseline: the prune before issue 14, one statement in one write transaction."""
    async with database.transaction() as sql:
        await sql.execute(
            "INSERT OR REPLACE INTO pruned_keys (feed_id, key, pruned_at)"
            " SELECT feed_id, key, ? FROM entries WHERE published_at < ?",
            (to_epoch(utc_now()), cutoff),
        )
        cursor = await sql.execute("DELETE FROM entries WHERE published_at < ?", (cutoff,))
        return cursor.rowcount


async def _watch_lag(done: asyncio.Event, lags: list[float]) -> None:
    """How late each short sleep wakes: time the loop was busy with something else."""
    while not done.is_set() and len(lags) < LAG_SAMPLES:
        before = time.perf_counter()
        await asyncio.sleep(LAG_TICK)
        lags.append(max(0.0, time.perf_counter() - before - LAG_TICK))


@contextlib.asynccontextmanager
async def running_child(
    emulator: BotApiEmulator, workdir: Path, mode: str, result: Path, cutoff: float
) -> AsyncIterator[HeraldProcess]:
    """The child against the emulator, polling, with the e2e tests' environment."""
    variables = {
        "HERALD_TELEGRAM_TOKEN": emulator.token,
        "HERALD_TELEGRAM_API_URL": emulator.api_root,
        "HERALD_DATABASE": str(workdir / "herald.db"),
        "HERALD_FEEDS": "",
        "HERALD_SEND_RATE": str(RATE),
        "HERALD_LOG_LEVEL": "INFO",
        # The scheduled prune (at start-up, then every 6 hours) must not touch the store:
        # the prune measured is the one the parent asks for.
        "HERALD_RETENTION_DAYS": "36500",
        "HERALD_OUTBOX_RETENTION_DAYS": "36500",
    }
    log_path = workdir / f"herald-{mode}.log"
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.prune_bench",
            "--serve",
            mode,
            "--result",
            str(result),
            "--cutoff",
            repr(cutoff),
            cwd=workdir,
            env=herald_environment(PYTHONPATH=str(ROOT), **variables),
            stdout=log_file,
            stderr=log_file,
        )
    child = HeraldProcess(process, log_path)
    try:
        await child.wait_until_polling(emulator, within=START_TIMEOUT)
        yield child
    finally:
        await child.kill()


# The parent: users, the fan-out's audience, and the figures


@dataclasses.dataclass(frozen=True)
class Reply:
    command: str
    asked_at: float
    latency: float  # seconds; inf if never answered


class Askers:
    """Users who take turns sending commands, and how long each reply took to arrive."""

    COMMANDS = ("latest", "search", "topic", "filtered", "untopic")

    def __init__(self, emulator: BotApiEmulator, words: Sequence[str], seed: int) -> None:
        self.emulator = emulator
        self.users: list[tuple[Chat, User]] = []
        for n in range(ASKERS):
            user = emulator.add_user(f"Asker {n}")
            self.users.append((emulator.private_chat(user), user))
        self.words = words
        self.rng = random.Random(seed)
        self._followed: dict[int, str] = {}
        self._waiting: dict[int, collections.deque[tuple[str, float]]] = {
            chat.id: collections.deque() for chat, _ in self.users
        }
        self._replies: list[Reply] = []
        self._unsubscribe = emulator.on_message(self._heard)

    def _heard(self, message: SentMessage) -> None:
        waiting = self._waiting.get(message.chat_id)
        if waiting and message.edit_count == 0:
            command, asked_at = waiting.popleft()
            self._replies.append(Reply(command, asked_at, message.sent_at - asked_at))

    def _text(self, command: str, chat_id: int) -> str:
        word = self.rng.choice(self.words)
        if command == "latest":
            return "/latest 20"
        if command == "search":
            return f"/search {word}"
        if command == "filtered":
            return f"/latest 10 {word}"
        if command == "topic":
            self._followed[chat_id] = word
            return f"/topic {word}"
        # Each asker drops what it followed last, so no chat reaches the topic limit.
        return f"/topic remove {self._followed.pop(chat_id, word)}"

    async def run(self, stop: asyncio.Event, *, deadline: float) -> None:
        turn = 0
        while not stop.is_set() and time.monotonic() < deadline:
            chat, user = self.users[turn % ASKERS]
            command = self.COMMANDS[(turn // ASKERS) % len(self.COMMANDS)]
            turn += 1
            text = self._text(command, chat.id)
            # The emulator stamps replies with time.monotonic() too.
            self._waiting[chat.id].append((command, time.monotonic()))
            await self.emulator.user_says(chat, user, text)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), ASK_EVERY)

    async def settle(self) -> None:
        """Give the last questions a few seconds to be answered, then stop listening."""
        with contextlib.suppress(TimeoutError):
            await self.emulator.wait_until(
                lambda: not any(self._waiting.values()), timeout=REPLY_GRACE
            )
        self._unsubscribe()

    def replies(self) -> list[Reply]:
        unanswered = [
            Reply(command, asked_at, math.inf)
            for waiting in self._waiting.values()
            for command, asked_at in waiting
        ]
        return [*self._replies, *unanswered]


class Audience:
    """The fan-out's chats in the emulator, and when each of their alerts arrived."""

    def __init__(self, emulator: BotApiEmulator, chats: int) -> None:
        self.emulator = emulator
        self.ids: set[int] = set()
        for n in range(chats):
            chat = emulator.private_chat(emulator.add_user(f"Reader {n}"))
            # The store's chats are numbered as the emulator numbers its users.
            assert chat.id == FIRST_USER_ID + n, (chat.id, n)
            self.ids.add(chat.id)
        self.arrivals: list[float] = []
        self.per_chat: collections.Counter[int] = collections.Counter()
        self._unsubscribe = emulator.on_message(self._heard)

    def _heard(self, message: SentMessage) -> None:
        if message.chat_id in self.ids and message.edit_count == 0:
            self.arrivals.append(message.sent_at)
            self.per_chat[message.chat_id] += 1

    async def wait_delivered(self, *, deadline: float) -> None:
        """Until every alert arrived, nothing arrived for ``STALL`` s, or the deadline."""
        last_count, last_change = -1, time.monotonic()
        while len(self.arrivals) < len(self.ids):
            now = time.monotonic()
            if len(self.arrivals) != last_count:
                last_count, last_change = len(self.arrivals), now
            if now > deadline or now - last_change > STALL:
                progress(f"  fan-out: gave up at {len(self.arrivals):,}/{len(self.ids):,}")
                break
            # A progress monitor, not a condition wait: it also has to notice a stall.
            await asyncio.sleep(0.2)
        self._unsubscribe()


@dataclasses.dataclass(frozen=True)
class Result:
    name: str
    prune: PruneReport | None  # None: it didn't finish within PRUNE_DEADLINE
    replies: list[Reply]  # asked while the prune ran
    fanout: int
    arrivals: list[float]
    duplicates: int
    counts: dict[str, int]
    problems: list[str]

    def latency(self, quantile: float) -> float:
        return _quantile(sorted(reply.latency for reply in self.replies), quantile)

    @property
    def overlap(self) -> tuple[float, float]:
        """The part of the fan-out that ran while the prune did."""
        if self.prune is None or not self.arrivals:
            return (math.nan, math.nan)
        return (self.prune.started_at, min(self.prune.ended_at, max(self.arrivals)))

    @property
    def rate_during(self) -> float:
        start, end = self.overlap
        if not end > start:
            return math.nan
        return sum(start <= at <= end for at in self.arrivals) / (end - start)

    @property
    def rate_overall(self) -> float:
        if len(self.arrivals) < 2:
            return math.nan
        return (len(self.arrivals) - 1) / (max(self.arrivals) - min(self.arrivals))


async def measure(store: Store, mode: str, words: Sequence[str]) -> Result:
    name = "Herald" if mode == "herald" else "one transaction"
    progress(f"measuring {name}: copying the store ...")
    async with BotApiEmulator(limits=FloodLimits(overall=Rate(RATE, burst=RATE))) as emulator:
        audience = Audience(emulator, store.size.fanout)
        askers = Askers(emulator, words, seed=14)
        with tempfile.TemporaryDirectory(prefix="herald-prune-", dir=CACHE) as folder:
            workdir = Path(folder)
            await asyncio.to_thread(_copy, store.path, workdir / "herald.db")
            result_path = workdir / f"prune-{mode}.json"
            prune: PruneReport | None = None
            async with running_child(emulator, workdir, mode, result_path, store.cutoff) as child:
                stop = asyncio.Event()
                asking = asyncio.create_task(
                    askers.run(stop, deadline=time.monotonic() + PRUNE_DEADLINE + 60)
                )
                await asyncio.sleep(WARM_UP)
                progress(f"  {name}: pruning {store.size.pruned:,} entries")
                child.process.send_signal(signal.SIGUSR1)
                prune = await _wait_for_report(result_path, child, PRUNE_DEADLINE)
                stop.set()
                await asking
                await askers.settle()
                progress(f"  {name}: pruned; waiting for the rest of the fan-out")
                await audience.wait_delivered(deadline=time.monotonic() + FANOUT_DEADLINE)
                exit_code = await child.stop(within=60)
                log = child.log
            problems = [
                line for line in log.splitlines() if " WARNING " in line or " ERROR " in line
            ]
            if exit_code != 0:
                problems.append(f"exit code {exit_code}")
            counts = await asyncio.to_thread(_counts, workdir / "herald.db")
    start, end = (prune.started_at, prune.ended_at) if prune else (math.inf, math.inf)
    return Result(
        name,
        prune,
        [reply for reply in askers.replies() if start <= reply.asked_at <= end],
        store.size.fanout,
        sorted(audience.arrivals),
        sum(max(0, count - 1) for count in audience.per_chat.values()),
        counts,
        problems,
    )


def _copy(source: Path, target: Path) -> None:
    """Copy the store and wait until the copy is on disk.

    Otherwise the first checkpoint's fsync would write back gigabytes of the copy while
    holding the write lock, a cost no running bot pays.
    """
    shutil.copyfile(source, target)
    descriptor = os.open(target, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


async def _wait_for_report(path: Path, child: HeraldProcess, within: float) -> PruneReport | None:
    deadline = time.monotonic() + within
    while not await asyncio.to_thread(path.exists):
        if time.monotonic() > deadline or child.process.returncode is not None:
            progress(f"  no prune report within {within:.0f} s")
            return None
        # The child writes the file when it is done; there is nothing else to wait on.
        await asyncio.sleep(0.1)
    facts = json.loads(await asyncio.to_thread(path.read_text))
    if "error" in facts:
        progress(f"  the prune failed: {facts['error']}")
        return None
    return PruneReport(**facts)


def _counts(path: Path) -> dict[str, int]:
    """Rows left after the run, as an operator would count them."""
    with contextlib.closing(sqlite3.connect(path)) as sql:
        return {
            table: int(sql.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
            for table in ("entries", "outbox", "outbox_items", "ledger", "pruned_keys")
        }


def _quantile(ranked: Sequence[float], quantile: float) -> float:
    """Nearest-rank quantile of sorted values."""
    if not ranked:
        return math.nan
    return ranked[max(0, math.ceil(quantile * len(ranked)) - 1)]


def _ms(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "unanswered"
    return f"{value * 1000:,.0f} ms"


def report(store: Store, results: Sequence[Result]) -> None:
    size = store.size
    print(
        f"Store: {size.chats:,} chats, {size.entries:,} entries (FTS5), {size.outbox:,} outbox"
        f" rows with their items, {size.sent_rows - size.sent_rows // FAILED_EVERY:,} ledger"
        f" rows; {store.mib:,.0f} MiB, built in {store.build_seconds:.0f} s"
        f"{'' if store.built_now else ' (cached)'}."
    )
    print(
        f"Pruning the oldest {size.pruned:,} entries while {ASKERS} users ask every"
        f" {ASK_EVERY:g} s and {size.fanout:,} alerts fan out at {RATE}/s."
    )

    def prune_cell(cell: Callable[[PruneReport], str]) -> Callable[[Result], str]:
        return lambda r: cell(r.prune) if r.prune else "did not finish"

    def share(r: Result) -> str:
        return f"{r.rate_during:.1f} msg/s ({r.rate_during / RATE:.0%})"

    def replies(r: Result) -> str:
        answered = sum(not math.isinf(reply.latency) for reply in r.replies)
        return f"{len(r.replies)}, {answered}"

    rows: list[tuple[str, Callable[[Result], str]]] = [
        ("entries pruned", prune_cell(lambda p: f"{p.deleted:,}")),
        ("prune wall time", prune_cell(lambda p: f"{p.seconds:.1f} s")),
        (
            f"longest write-lock hold (issue 14: ~{_ms(LOCK_TARGET)})",
            prune_cell(lambda p: _ms(p.longest_write)),
        ),
        ("commands asked, answered during the prune", replies),
        ("reply p50", lambda r: _ms(r.latency(0.5))),
        (f"reply p95 (target < {_ms(TARGET_P95)})", lambda r: _ms(r.latency(0.95))),
        (f"reply max (target < {_ms(TARGET_MAX)})", lambda r: _ms(r.latency(1.0))),
        (f"fan-out while pruning (target >= {TARGET_SHARE:.0%})", share),
        ("fan-out overall, first to last", lambda r: f"{r.rate_overall:.1f} msg/s"),
        (
            "fan-out delivered, duplicates",
            lambda r: f"{len(r.arrivals):,}/{r.fanout:,}, {r.duplicates}",
        ),
        ("event-loop lag p99", prune_cell(lambda p: _ms(p.lag_p99))),
        ("event-loop lag max", prune_cell(lambda p: _ms(p.lag_max))),
        (
            "entries, outbox rows left",
            lambda r: f"{r.counts['entries']:,}, {r.counts['outbox']:,}",
        ),
        (
            "items, ledger rows left",
            lambda r: f"{r.counts['outbox_items']:,}, {r.counts['ledger']:,}",
        ),
        ("pruned keys kept", lambda r: f"{r.counts['pruned_keys']:,}"),
    ]
    width = max(len(label) for label, _ in rows)
    print()
    print(f"{'':{width}}  " + "  ".join(f"{r.name:>22}" for r in results))
    for label, cell in rows:
        print(f"{label:{width}}  " + "  ".join(f"{cell(r):>22}" for r in results))
    for result in results:
        by_command: dict[str, list[float]] = collections.defaultdict(list)
        for reply in result.replies:
            by_command[reply.command].append(reply.latency)
        print(
            f"{result.name}, reply p95 by command: "
            + ", ".join(
                f"{command} {_ms(_quantile(sorted(values), 0.95))} (n={len(values)})"
                for command, values in by_command.items()
            )
        )
        if result.prune is not None:
            ranked = sorted(result.prune.writers.items(), key=lambda item: -item[1][1])
            print(
                f"{result.name}, write transactions while pruning: "
                + "; ".join(
                    f"{writer}: {count:,} ({over:,} over {_ms(LOCK_TARGET)}),"
                    f" longest {_ms(longest)}, {total:.1f} s in all"
                    for writer, (count, longest, total, over) in ranked[:4]
                )
            )
        if result.problems:
            print(f"{result.name} logged {len(result.problems)} warnings or errors, the first:")
            print("\n".join(f"    {line}" for line in result.problems[:5]))
    herald = results[0]
    lock = herald.prune.longest_write if herald.prune else math.nan
    print(
        f"prune: reply p95 {herald.latency(0.95) * 1000:.0f} ms,"
        f" max {herald.latency(1.0) * 1000:.0f} ms, lock max {lock * 1000:.0f} ms"
    )


async def main_async(scale: float, fanout: int, sides: Sequence[str]) -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    store = await ensure_store(Size.of(scale, fanout))
    # Words the users look for and follow: the subjects the archive mentions most.
    words = [word for word in Vocabulary.build().subjects[:200] if " " not in word]
    results = [await measure(store, side, words) for side in sides]
    report(store, results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="share of the full store (1.0: 1,000,000 entries)"
    )
    parser.add_argument("--fanout", type=int, default=FANOUT, help="alerts fanned out")
    parser.add_argument(
        "--only", choices=["herald", "baseline"], help="measure one side (default: both)"
    )
    parser.add_argument("--serve", choices=["herald", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cutoff", type=float, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve:
        serve(arguments.serve, arguments.result, arguments.cutoff)
        return
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    sides = [arguments.only] if arguments.only else ["herald", "baseline"]
    asyncio.run(main_async(arguments.scale, arguments.fanout, sides))


if __name__ == "__main__":
    main()
