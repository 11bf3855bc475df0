"""The feed watcher: which feeds to poll when, politely, and what a poll stores."""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import functools
import hashlib
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol
from urllib.parse import urlsplit

from bot import metrics
from bot.domain import (
    PUSHED_POLL_INTERVAL,
    Clock,
    Feed,
    FeedHealth,
    HeraldError,
    ParsedFeed,
    Subscription,
    first_line,
)
from bot.feeds import (
    FeedFetcher,
    FeedParseError,
    Fetched,
    FetchFailed,
    NotModified,
    discover_feed_links,
    parse_feed,
)
from bot.feeds.fetcher import DEADLINE_SECONDS
from bot.services.schedule import PollQueue
from bot.storage.interfaces import Entries, Feeds, PollSuccess, StoredPoll

log = logging.getLogger(__name__)

MAX_BACKOFF = dt.timedelta(hours=6)
# A server's Cache-Control or Expires can stretch the interval up to this, no further: a
# feed that says "fresh for a day" still gets its news read within the hour.
MAX_SERVER_INTERVAL = dt.timedelta(hours=1)
# Retry-After beyond this is taken as a server misconfiguration, not a wish to be obeyed.
MAX_RETRY_AFTER = dt.timedelta(hours=24)
NOTIFY_AFTER = dt.timedelta(hours=24)
START_UP_SPREAD = dt.timedelta(seconds=60)
MAX_POLLS = 64
MAX_POLLS_PER_HOST = 2
# The scheduler sleeps until the next feed is due or a poll ends; this bounds a sleep taken
# before a wall-clock jump, and is no tick: nothing waits for it.
MAX_IDLE = dt.timedelta(seconds=30)
RETRY_START = dt.timedelta(seconds=1)
LATENESS_SAMPLES = 10_000
# Each process re-reads every feed's next poll time this often: feeds another process added
# or rescheduled get polled here too, and one whose claimer died is taken over.
RELOAD_EVERY = dt.timedelta(seconds=60)
# The slowest parse measured: a feed at the fetcher's 10 MB cap, 0.4 s on a 2-core machine.
SLOWEST_PARSE = dt.timedelta(seconds=0.5)


def claim_lease(concurrency: int) -> dt.timedelta:
    """How long a poll holds its feed's claim, with ``concurrency`` polls at once.

    Longer than the slowest poll, or another process would poll the feed again meanwhile:
    the fetch's whole deadline, then the parse, which may wait behind every other poll's on
    the one parsing thread, then the write; twice that, for a loaded machine. No longer,
    since a process that dies mid-poll leaves its feeds unpolled until their claims run out
    (104 s at the default 64 polls at once).
    """
    slowest_poll = dt.timedelta(seconds=DEADLINE_SECONDS) + concurrency * SLOWEST_PARSE
    return 2 * slowest_poll


def _seconds(moment: dt.datetime) -> float:
    return moment.timestamp()


def _server_floor(fresh_for: float | None) -> dt.timedelta | None:
    """The least interval a response's freshness asks for, capped; None when it asks none."""
    if fresh_for is None or fresh_for <= 0:
        return None
    return min(dt.timedelta(seconds=fresh_for), MAX_SERVER_INTERVAL)


class FeedError(HeraldError):
    """An admin's feed command can't be done; the message says why."""


@dataclasses.dataclass(frozen=True, slots=True)
class PollResult:
    feed_id: int
    stored: StoredPoll | None = None  # None when the poll failed
    not_modified: bool = False
    error: str | None = None
    next_poll_at: dt.datetime | None = None
    moved_to: str | None = None


@dataclasses.dataclass(slots=True)
class PollStats:
    """How the scheduler keeps up: polls started, and how late the recent ones started."""

    started: int = 0
    lateness: collections.deque[float] = dataclasses.field(
        default_factory=lambda: collections.deque(maxlen=LATENESS_SAMPLES)
    )


@dataclasses.dataclass(frozen=True, slots=True)
class AddedFeed:
    feed: Feed
    entries: int
    discovered_from: str | None = None


class PushWatcher(Protocol):
    """What the feed watcher tells the WebSub subscriber, and asks it."""

    def seen(self, feed: Feed, fetched: Fetched) -> None: ...

    def removed(self, feed: Feed) -> None: ...

    def live(self, feed_id: int) -> bool: ...

    def live_until(self, feed_id: int) -> dt.datetime | None: ...

    def poll_with(self, callback: Callable[[int], Awaitable[None]]) -> None: ...

    def subscription(self, feed_id: int) -> Subscription | None: ...


NotifyFailing = Callable[[Feed], Awaitable[None]]
# Told, never awaited: routing runs in its own worker, and its failures are not the feed's.
OnNewEntries = Callable[[], None]


class FeedService:
    """Polls feeds when they are due, as many at once as the limits allow.

    ``run()`` starts a poll the moment a feed is due and a slot is free (at most
    ``concurrency`` at once and ``MAX_POLLS_PER_HOST`` to one host), each as its own task so
    one slow or hanging feed never delays the others. A feed is never polled twice at once.
    The database holds each feed's next poll time; the queue in memory mirrors it, read
    again every ``RELOAD_EVERY``.

    Several processes (several services) may poll the feeds of one database: a poll first
    claims its feed in the database, for ``claim_lease``, and one that finds the feed
    claimed, or polled since the queue was read, leaves it to the process that has it. So
    each due poll happens once, and a feed whose claimer died is polled once its claim runs
    out.
    """

    def __init__(
        self,
        feeds: Feeds,
        entries: Entries,
        fetcher: FeedFetcher,
        *,
        poll_interval: dt.timedelta,
        retention: dt.timedelta,
        clock: Clock,
        on_new_entries: OnNewEntries | None = None,
        notify_failing: NotifyFailing | None = None,
        rng: random.Random | None = None,
        concurrency: int = MAX_POLLS,
    ) -> None:
        self._feeds = feeds
        self._entries = entries
        self._fetcher = fetcher
        self._interval = poll_interval
        self._retention = retention
        self._clock = clock
        self._on_new_entries = on_new_entries
        self._notify_failing = notify_failing
        self._rng = rng or random.Random()
        self._queue = PollQueue(concurrency=concurrency, per_host=MAX_POLLS_PER_HOST)
        self.claim_lease = claim_lease(concurrency)
        self._loaded_at: dt.datetime | None = None
        # Feeds whose time this process set while a load read the database: the load's
        # copy of their time is older than the one queued.
        self._loads: list[set[int]] = []
        # Feeds asked to be polled now (poll_soon), however far off their next poll is.
        self._asked: set[int] = set()
        self._polling: dict[int, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        # feedparser holds the GIL while it works. One parsing thread costs the event loop at
        # most a switch interval (5 ms) per turn; six at once delayed it by up to 150 ms
        # (measured). A process would spare the loop even that, for a second interpreter.
        self._parser = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="parse")
        self.stats = PollStats()
        self._push: PushWatcher | None = None

    def watch_pushes(self, push: PushWatcher) -> None:
        """Tell ``push`` of every feed fetched and removed; poll pushed feeds less often,
        and as usual again at once when their push ends."""
        self._push = push
        push.poll_with(self.poll_soon)

    async def poll_soon(self, feed_id: int) -> None:
        """Poll the feed now (a hub stopped pushing it, or hinted at new content); a poll
        under way is left alone."""
        feed = await self._feeds.get(feed_id)
        if feed is None or feed_id in self._polling:
            return
        self._asked.add(feed.id)
        self._touched(feed.id)
        self._queue.set(feed.id, feed.url, _seconds(self._clock()))
        self._wake.set()

    # Scheduling

    async def ensure(self, urls: Iterable[str]) -> None:
        """Add the configured feeds that are missing and spread out those already due."""
        now = self._clock()
        for url in urls:
            if await self._feeds.by_url(url) is None:
                await self._feeds.add(url, now=now, next_poll_at=now)
                log.info("Watching %s", url)
        window = min(self._interval, START_UP_SPREAD)
        await self._feeds.spread_overdue(now=now, window=window)
        if self._loaded_at is not None:
            await self._load()

    def start(self) -> None:
        """Start polling in the background until close()."""
        if self._runner is None:
            self._runner = asyncio.create_task(self.run(), name="poll feeds")

    def wake(self) -> None:
        """Look at the queue again now (a feed was added, or a test moved the clock)."""
        self._wake.set()

    async def run(self) -> None:
        """Start each poll as soon as its feed is due and a slot is free; never returns."""
        while True:
            self._wake.clear()
            delay = MAX_IDLE.total_seconds()
            try:
                await self.poll_due()
            except Exception:
                # A database error must not end polling for good, nor spin: retry shortly.
                log.exception("Starting due polls failed")
                delay = RETRY_START.total_seconds()
            else:
                due = self._queue.next_due()
                if due is not None and self._queue.flying < self._queue.concurrency:
                    delay = min(delay, due - _seconds(self._clock()))
                    if delay <= 0:
                        # It came due while this round looked: start it now, not after a nap.
                        continue
                if self._loaded_at is not None:
                    reload_at = self._loaded_at + RELOAD_EVERY
                    delay = max(min(delay, _seconds(reload_at) - _seconds(self._clock())), 0.0)
            # With every slot taken, the next poll to end wakes this up.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()

    async def poll_due(self) -> int:
        """Start polls for due feeds, as many as the limits allow; returns how many started
        (a started poll may find its feed claimed by another process, and leave it)."""
        loaded_at = self._loaded_at
        if loaded_at is None or not loaded_at <= self._clock() < loaded_at + RELOAD_EVERY:
            await self._load()
        now = self._clock()
        taken = self._queue.take(_seconds(now))
        for feed_id, due in taken:
            task = asyncio.create_task(self._poll_queued(feed_id, due), name=f"poll {feed_id}")
            self._polling[feed_id] = task
        return len(taken)

    async def _load(self) -> None:
        """Queue every feed at its next poll time in the database, which other processes
        may have added or moved; a feed being polled, asked for, or queued anew meanwhile
        keeps the time it has here."""
        started = self._clock()
        touched: set[int] = set()
        self._loads.append(touched)
        try:
            schedule = await self._feeds.schedule()
        finally:
            self._loads.remove(touched)
        for feed_id, url, next_poll_at in schedule:
            if feed_id in self._polling or feed_id in self._asked or feed_id in touched:
                continue
            self._queue.set(feed_id, url, _seconds(next_poll_at))
        self._loaded_at = started

    def _touched(self, feed_id: int) -> None:
        for touched in self._loads:
            touched.add(feed_id)

    async def _poll_queued(self, feed_id: int, due: float) -> None:
        next_due: float | None = None
        url: str | None = None
        asked = feed_id in self._asked
        self._asked.discard(feed_id)
        claimed_until: dt.datetime | None = None
        try:
            now = self._clock()
            claimed_until = now + self.claim_lease
            feed = await self._feeds.claim(feed_id, now=now, until=claimed_until)
            if feed is None:
                claimed_until = None
                next_due = await self._polled_elsewhere(feed_id, now)
                return
            url = feed.url
            if feed.next_poll_at > now and not asked:
                # Another process polled it after this one read its time: not due yet.
                await self._feeds.release(feed_id, until=claimed_until)
                claimed_until = None
                next_due = _seconds(feed.next_poll_at)
                return
            self.stats.started += 1
            self.stats.lateness.append(max(_seconds(self._clock()) - due, 0.0))
            result = await self._poll_guarded(feed)
            # Recorded (which freed the claim), or merged into another feed and removed.
            claimed_until = None
            if result.next_poll_at is not None:
                next_due = _seconds(result.next_poll_at)
            url = result.moved_to
        except Exception as error:
            # The database failed (a restart, say): tried again after the poll interval.
            log.warning("Feed %s: its poll could not start: %s", feed_id, first_line(error))
        finally:
            if claimed_until is not None:
                # Cancelled (close(), remove()), or the outcome could not be recorded.
                await self._release(feed_id, claimed_until)
            if next_due is None:
                next_due = _seconds(self._clock() + self._interval)
            self._touched(feed_id)
            self._queue.done(feed_id, next_due, url)
            self._polling.pop(feed_id, None)
            self._wake.set()

    async def _polled_elsewhere(self, feed_id: int, now: dt.datetime) -> float | None:
        """When to look again at a feed another process has claimed (epoch seconds), or
        None when the feed is gone (and leaves the queue)."""
        feed = await self._feeds.get(feed_id)
        if feed is None:
            self._queue.discard(feed_id)
            return None
        if feed.next_poll_at > now:
            return _seconds(feed.next_poll_at)
        if feed.claimed_until is not None and feed.claimed_until > now:
            # Its claimer is polling it: by the claim's end its result is in, or it died.
            # Looked at again after a poll interval at most, so that a feed whose poller
            # died between polls is taken up within one interval.
            return _seconds(min(feed.claimed_until, now + self._interval))
        # Claimed and freed again while this process looked: look again soon.
        return _seconds(now + RETRY_START)

    async def _release(self, feed_id: int, claimed_until: dt.datetime) -> None:
        try:
            await self._feeds.release(feed_id, until=claimed_until)
        except Exception:
            # The database is gone or failing: the claim runs out by itself.
            log.warning(
                "Could not free feed %s for other processes; its claim ends at %s",
                feed_id,
                claimed_until.isoformat(),
                exc_info=True,
            )

    async def wait_idle(self) -> None:
        """Wait for the polls under way to finish."""
        while self._polling:
            await asyncio.gather(*self._polling.values(), return_exceptions=True)

    async def close(self) -> None:
        """Stop polling; each poll's transaction rolls back, nothing half-stored."""
        tasks = list(self._polling.values())
        if self._runner is not None:
            tasks.append(self._runner)
            self._runner = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._parser.shutdown(wait=False, cancel_futures=True)

    async def _poll_guarded(self, feed: Feed) -> PollResult:
        try:
            result = await self.poll(feed)
        except asyncio.CancelledError:
            raise
        except Exception:
            # A bug or a database error must not leave the feed due every second.
            log.exception("Polling feed %s (%s) failed unexpectedly", feed.id, feed.url)
            metrics.POLLS.labels("error").inc()
            return await self._failed(feed, "internal error while polling (see the log)")
        outcome = "error" if result.error else "304" if result.not_modified else "200"
        metrics.POLLS.labels(outcome).inc()
        return result

    # One poll

    async def poll(self, feed: Feed) -> PollResult:
        now = self._clock()
        result = await self._fetcher.fetch(
            feed.url, etag=feed.etag, last_modified=feed.last_modified
        )
        if isinstance(result, FetchFailed):
            return await self._failed(feed, result.reason, retry_after=result.retry_after)
        if result.moved_to is not None and await self._merged_into(feed, result.moved_to):
            return PollResult(feed.id)
        floor = _server_floor(result.fresh_for)
        if isinstance(result, NotModified):
            success = PollSuccess(
                etag=feed.etag,
                last_modified=feed.last_modified,
                next_poll_at=self._next_poll(now, floor, pushed_until=self._pushed_until(feed.id)),
                moved_to=result.moved_to,
                not_modified=True,
                min_interval=floor,
            )
            return await self._unchanged(feed, success, now)
        digest = hashlib.sha256(result.body).hexdigest()
        if digest == feed.content_hash and feed.baseline_done:
            # Many servers ignore conditional requests; the same bytes again are a 304
            # in all but name, and cost no parsing.
            success = PollSuccess(
                etag=result.etag,
                last_modified=result.last_modified,
                next_poll_at=self._next_poll(now, floor, pushed_until=self._pushed_until(feed.id)),
                moved_to=result.moved_to,
                content_hash=digest,
                unchanged_body=True,
                min_interval=floor,
            )
            if self._push is not None:
                # A lease that lapsed is renewed from here too: the feed needn't change.
                self._push.seen(feed, result)
            return await self._unchanged(feed, success, now)
        try:
            parsed = await self._parse(result, now)
        except FeedParseError as error:
            metrics.PARSE_FAILURES.inc()
            return await self._failed(feed, error.user_message)
        next_poll_at = self._next_poll(now, floor, pushed_until=self._pushed_until(feed.id))
        stored = await self._store(feed, result, parsed, now, next_poll_at, digest)
        if self._push is not None:
            self._push.seen(feed, result)
        if stored.new or stored.updated:
            log.info(
                "Feed %s: %d new, %d edited, %d unchanged entries",
                feed.id,
                stored.new,
                stored.updated,
                stored.unchanged,
            )
        if stored.new and feed.baseline_done and self._on_new_entries is not None:
            try:
                self._on_new_entries()
            except Exception:
                # The entries are stored and wait to be routed; the feed itself is fine.
                log.exception("Could not hand feed %s's new entries to the router", feed.id)
        return PollResult(feed.id, stored, next_poll_at=next_poll_at, moved_to=result.moved_to)

    async def _merged_into(self, feed: Feed, moved_to: str) -> bool:
        """A feed that moved for good onto one already watched becomes that feed's alias.

        Otherwise both would poll the same address and list every story twice. Returns
        whether the feed was merged (and so removed).
        """
        other = await self._feeds.by_url(moved_to)
        if other is None or other.id == feed.id:
            return False
        await self._feeds.add_alias(feed.url, other.id)
        await self._feeds.remove(feed.id)
        self._touched(feed.id)
        self._queue.discard(feed.id)
        log.info(
            "Feed %s (%s) moved to %s, which feed %s already is: one feed now",
            feed.id,
            feed.url,
            moved_to,
            other.id,
        )
        return True

    def _next_poll(
        self,
        started: dt.datetime,
        floor: dt.timedelta | None,
        *,
        pushed_until: dt.datetime | None = None,
    ) -> dt.datetime:
        """One interval (or the server's longer ``floor``, or the safety-net interval of a
        pushed feed) after the poll started, not after it ended: a poll that starts on time
        keeps the feed's place in the spread, and one that started late moves the feed's
        turn instead of leaving it behind for good. A pushed feed is polled no later than
        its lease's end ``pushed_until`` (or one usual interval after the poll)."""
        interval = max(self._interval, floor) if floor is not None else self._interval
        usual = started + interval
        if pushed_until is None:
            return usual
        return min(started + max(interval, PUSHED_POLL_INTERVAL), max(usual, pushed_until))

    def _pushed_until(self, feed_id: int) -> dt.datetime | None:
        return None if self._push is None else self._push.live_until(feed_id)

    async def _unchanged(self, feed: Feed, success: PollSuccess, now: dt.datetime) -> PollResult:
        await self._feeds.record_success(
            feed, success, (), now=now, keep_after=now - self._retention
        )
        return PollResult(
            feed.id,
            StoredPoll(),
            not_modified=success.not_modified,
            next_poll_at=success.next_poll_at,
            moved_to=success.moved_to,
        )

    async def _parse(self, fetched: Fetched, now: dt.datetime) -> ParsedFeed:
        parse = functools.partial(
            parse_feed, fetched.body, url=fetched.url, content_type=fetched.content_type, now=now
        )
        return await asyncio.get_running_loop().run_in_executor(self._parser, parse)

    async def _store(
        self,
        feed: Feed,
        fetched: Fetched,
        parsed: ParsedFeed,
        now: dt.datetime,
        next_poll_at: dt.datetime,
        content_hash: str | None = None,
    ) -> StoredPoll:
        stored = await self._feeds.record_success(
            feed,
            PollSuccess(
                etag=fetched.etag,
                last_modified=fetched.last_modified,
                next_poll_at=next_poll_at,
                title=parsed.title,
                moved_to=fetched.moved_to,
                content_hash=content_hash,
                min_interval=_server_floor(fetched.fresh_for),
            ),
            parsed.entries,
            now=now,
            keep_after=now - self._retention,
        )
        metrics.ENTRIES_STORED.inc(stored.new)
        return stored

    async def _failed(
        self, feed: Feed, reason: str, *, retry_after: float | None = None
    ) -> PollResult:
        now = self._clock()
        delay = self.backoff(feed.consecutive_failures + 1)
        if retry_after is not None:
            delay = max(delay, min(dt.timedelta(seconds=retry_after), MAX_RETRY_AFTER))
        log.warning(
            "Feed %s (%s) failed: %s; next try in %.0f s",
            feed.id,
            feed.url,
            reason,
            delay.total_seconds(),
        )
        updated = await self._feeds.record_failure(
            feed.id, reason, now=now, next_poll_at=now + delay
        )
        if (
            updated is not None
            and updated.failing_since is not None
            and now - updated.failing_since >= NOTIFY_AFTER
            and not updated.failure_notified
            and self._notify_failing is not None
        ):
            await self._notify_failing(updated)
            await self._feeds.mark_failure_notified(feed.id)
        return PollResult(feed.id, error=reason, next_poll_at=now + delay)

    def backoff(self, failures: int) -> dt.timedelta:
        """Delay before the next try after ``failures`` in a row: doubling, jittered, capped."""
        doubled: dt.timedelta = self._interval * (2 ** min(failures, 20))
        jittered: dt.timedelta = min(doubled * self._rng.uniform(0.8, 1.2), MAX_BACKOFF)
        return max(self._interval, jittered)

    # Admin commands

    async def add(self, url: str) -> AddedFeed:
        """Fetch ``url`` once and watch it; an HTML page that links to a feed adds that feed."""
        url = url.strip()
        if urlsplit(url).scheme not in {"http", "https"} or not urlsplit(url).netloc:
            raise FeedError("That isn't an http(s) URL. Example: /feeds add https://site/rss")
        await self._refuse_known(url)
        now = self._clock()
        fetched = await self._fetch_for_add(url)
        discovered_from = None
        try:
            parsed = await self._parse(fetched, now)
        except FeedParseError as error:
            links = discover_feed_links(fetched.body, url=fetched.url)
            if not links:
                raise FeedError(f"{url} is not a feed: {error.user_message}.") from None
            discovered_from, url = url, links[0]
            await self._refuse_known(url)
            fetched = await self._fetch_for_add(url)
            try:
                parsed = await self._parse(fetched, now)
            except FeedParseError as inner:
                raise FeedError(
                    f"{discovered_from} links to {url}, which is not a readable feed: "
                    f"{inner.user_message}."
                ) from None
        if fetched.moved_to is not None and fetched.moved_to != url:
            known = await self._feeds.by_url(fetched.moved_to)
            if known is not None:
                await self._feeds.add_alias(url, known.id)
                await self._refuse_known(url)
        next_poll_at = now + self._interval
        feed = await self._feeds.add(fetched.moved_to or url, now=now, next_poll_at=next_poll_at)
        if fetched.moved_to is not None and fetched.moved_to != url:
            await self._feeds.add_alias(url, feed.id)
        stored = await self._store(feed, fetched, parsed, now, next_poll_at)
        self._touched(feed.id)
        self._queue.set(feed.id, feed.url, _seconds(next_poll_at))
        self._wake.set()
        refreshed = await self._feeds.get(feed.id)
        log.info("Feed %s added: %s (%d entries)", feed.id, feed.url, stored.new)
        if self._push is not None:
            self._push.seen(refreshed or feed, fetched)
        return AddedFeed(refreshed or feed, stored.new, discovered_from)

    async def _refuse_known(self, url: str) -> None:
        known = await self._feeds.by_url(url)
        if known is not None:
            raise FeedError(f"Already watching that feed: #{known.id} {known.name}.")

    async def _fetch_for_add(self, url: str) -> Fetched:
        result = await self._fetcher.fetch(url)
        if isinstance(result, FetchFailed):
            raise FeedError(f"Couldn't fetch {url}: {result.reason}.")
        if isinstance(result, NotModified):
            raise FeedError(f"Couldn't fetch {url}: the server answered 304 Not Modified.")
        return result

    async def get(self, feed_id: int) -> Feed | None:
        return await self._feeds.get(feed_id)

    async def remove(self, feed_id: int) -> Feed:
        feed = await self._feeds.get(feed_id)
        if feed is None:
            raise FeedError(f"There is no feed #{feed_id}. /feeds lists them with their ids.")
        task = self._polling.get(feed_id)
        if task is not None:
            task.cancel()
        self._touched(feed_id)
        self._asked.discard(feed_id)
        self._queue.discard(feed_id)
        await self._feeds.remove(feed_id)
        log.info("Feed %s removed: %s", feed.id, feed.url)
        if self._push is not None:
            self._push.removed(feed)
        return feed

    async def health(self) -> list[FeedHealth]:
        per_day = await self._feeds.entries_per_day(now=self._clock())
        return [
            FeedHealth(
                feed,
                per_day.get(feed.id, 0.0),
                polling_now=feed.id in self._polling,
                poll_interval=self._interval,
                push=None if self._push is None else self._push.subscription(feed.id),
            )
            for feed in await self._feeds.all()
        ]

    async def ingest_push(
        self, feed_id: int, body: bytes, content_type: str | None, url: str
    ) -> StoredPoll | None:
        """Store and route what a WebSub hub pushed for a feed, as a poll's body would be
        (W3C WebSub §7: the body is the topic's content). None when the feed is gone (even
        while the push was parsed) or the body is not a feed (logged)."""
        feed = await self._feeds.get(feed_id)
        if feed is None:
            return None
        now = self._clock()
        headers = {"content-type": content_type} if content_type else {}
        pushed = Fetched(url=url, body=body, headers=headers, etag=None, last_modified=None)
        try:
            parsed = await self._parse(pushed, now)
        except FeedParseError as error:
            metrics.PARSE_FAILURES.inc()
            log.warning("Feed %s: ignored a push that is not a feed: %s", feed.id, error)
            return None
        stored = await self._feeds.record_push(
            feed, parsed.entries, title=parsed.title, now=now, keep_after=now - self._retention
        )
        if stored is None:
            log.info("Feed %s: ignored a push that came as the feed was removed", feed.id)
            return None
        metrics.ENTRIES_STORED.inc(stored.new)
        if stored.new and feed.baseline_done and self._on_new_entries is not None:
            self._on_new_entries()
        return stored

    async def prune(self) -> int:
        now = self._clock()
        deleted = await self._entries.prune(published_before=now - self._retention, now=now)
        if deleted:
            log.info("Pruned %d entries older than %d days", deleted, self._retention.days)
        return deleted
