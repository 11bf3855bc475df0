"""The outbox's sender: every waiting message delivered, paced, in order per chat, none lost."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import functools
import logging
import time
from collections.abc import Awaitable, Sequence
from typing import Protocol

from bot import formatting, metrics
from bot.delivery.pacing import Pacer
from bot.domain import (
    AlertEdit,
    ChatKind,
    Clock,
    InactiveReason,
    Keyboard,
    LinkPreview,
    MessageKind,
    OutboxMessage,
)

log = logging.getLogger(__name__)

# At most this many sends in flight: enough to keep a loopback or real Bot API busy at a
# few hundred messages a second, and the bound on duplicates after a crash (a message sent
# but not yet marked sent is sent again on restart).
CONCURRENCY = 8
BATCH = 500
# Three or more alerts waiting for one chat go out as one list, this many at most.
MERGE_FROM = 3
MERGE_AT_MOST = 15
MAX_RETRY_DELAY = dt.timedelta(minutes=10)
# A message is given up on after this many failed attempts, and only once they span
# GIVE_UP_AFTER: a Bot API outage of a few hours loses nothing.
MAX_ATTEMPTS = 20
GIVE_UP_AFTER = dt.timedelta(days=1)
IDLE_RECHECK = 1.0
# An alert's next edit naming other outlets waits this long after its last one began, so
# outlets arriving close together are named in one edit of the few an alert may have.
EDIT_SPACING = dt.timedelta(seconds=10)
# While sends Telegram confirmed can't be recorded, delivery pauses and retries the write
# after this long, doubling up to the maximum.
RECORD_RETRY = 0.5
MAX_RECORD_RETRY = 30.0


class ChatGoneError(Exception):
    """Telegram says the chat can't receive anything from the bot any more."""

    def __init__(self, reason: InactiveReason, description: str) -> None:
        super().__init__(description)
        self.reason = reason


class ThrottledError(Exception):
    """429: send this chat nothing for ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after:g} s")
        self.retry_after = retry_after


class ChatMigratedError(Exception):
    """The group became a supergroup with a new id."""

    def __init__(self, new_chat_id: int) -> None:
        super().__init__(f"migrated to {new_chat_id}")
        self.new_chat_id = new_chat_id


class ThreadGoneError(Exception):
    """The forum thread was deleted or closed; the chat itself still takes messages."""


class RejectedError(Exception):
    """Telegram refused this message's content (bad markup, too long); retrying won't help."""


class TransientError(Exception):
    """A server error, a timeout or a network failure: worth trying again later."""


@dataclasses.dataclass(frozen=True, slots=True)
class Outgoing:
    """One message as it will be sent: HTML, and what goes with it."""

    text: str
    preview: tuple[str, LinkPreview] | None = None  # the link to preview, and how
    buttons: Keyboard = ()
    silent: bool = False  # no sound (``disable_notification``)


class MessageSender(Protocol):
    async def send(
        self,
        chat_id: int,
        text: str,
        *,
        html: bool = True,
        thread_id: int | None = None,
        preview: tuple[str, LinkPreview] | None = None,
        buttons: Keyboard = (),
        silent: bool = False,
    ) -> int:
        """Send ``text`` (HTML unless told otherwise) and return the message id.

        ``thread_id`` is a forum thread of the chat; None sends to General. ``preview``
        is a link to show a preview of, and its size; without it, no preview. Raises one
        of the errors above for every failure Telegram reports.
        """

    async def edit(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        preview: tuple[str, LinkPreview] | None = None,
        buttons: Keyboard = (),
    ) -> None:
        """Replace a sent message's text (HTML), preview and buttons; ``send``'s errors.

        Telegram's "message is not modified" is no error: the message says ``text``.
        """


class OutboxStore(Protocol):
    async def due_heads(self, *, now: dt.datetime, limit: int) -> list[OutboxMessage]: ...
    async def waiting_alerts(
        self, chat_id: int, *, now: dt.datetime, limit: int, thread_id: int = 0
    ) -> list[OutboxMessage]: ...
    async def still_pending(self, outbox_ids: Sequence[int]) -> set[int]: ...
    async def next_due_at(self) -> dt.datetime | None: ...
    async def due_edits(self, *, limit: int) -> list[AlertEdit]: ...
    async def edited(self, outbox_id: int, *, shown: int) -> None: ...
    async def edit_given_up(self, outbox_id: int) -> None: ...
    async def mark_sent(
        self, outbox_ids: Sequence[int], *, now: dt.datetime, message_id: int | None
    ) -> None: ...
    async def defer(
        self,
        outbox_id: int,
        *,
        until: dt.datetime,
        error: str,
        count_attempt: bool = True,
        now: dt.datetime | None = None,
    ) -> None: ...
    async def mark_failed(
        self, outbox_ids: Sequence[int], *, error: str, now: dt.datetime
    ) -> None: ...
    async def chat_gone(
        self, chat_id: int, reason: InactiveReason, *, now: dt.datetime
    ) -> int: ...
    async def move_chat(self, old_id: int, new_id: int, *, now: dt.datetime) -> None: ...
    async def thread_gone(
        self, chat_id: int, thread_id: int, *, notice: str, now: dt.datetime
    ) -> bool: ...


@dataclasses.dataclass
class DeliveryStats:
    """Counts since start-up, for /stats."""

    sent: int = 0
    throttled: int = 0
    errors: int = 0
    chats_gone: int = 0
    rejected: int = 0
    given_up: int = 0


class Deliverer:
    """Runs for the life of the bot, sending what the outbox holds as fast as pacing allows.

    Each pass reads every chat's oldest pending message, skips chats already being sent to
    or still out of budget, and sends the rest with at most ``CONCURRENCY`` in flight. A
    message is marked sent only after Telegram confirms it, so a crash re-sends at most the
    few in flight: at-least-once, never lost. A send Telegram confirmed but the database
    could not record is kept in memory and its write retried, with delivery paused
    meanwhile, so this process never sends it again.
    """

    def __init__(
        self,
        store: OutboxStore,
        sender: MessageSender,
        pacer: Pacer,
        *,
        clock: Clock,
        concurrency: int = CONCURRENCY,
    ) -> None:
        self._store = store
        self._sender = sender
        self._pacer = pacer
        self._clock = clock
        self._slots = asyncio.Semaphore(concurrency)
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        # Alerts edited lately: outbox id → when the edit began (also keeps an edit read
        # just before the last one ended from going out twice).
        self._edited_at: dict[int, dt.datetime] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        # Confirmed sends not yet recorded: outbox ids → (message id, when Telegram took it).
        self._unrecorded: dict[tuple[int, ...], tuple[int | None, dt.datetime]] = {}
        self._record_retry = RECORD_RETRY
        self._unrecorded_since: float | None = None
        self.stats = DeliveryStats()

    def wake(self) -> None:
        """Something was queued: look now rather than at the next idle recheck."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="deliver outbox")

    def halt(self) -> None:
        """Stop at once: no new message, and those in flight cancelled (this process may
        no longer send; a cancelled send Telegram took is sent again by the next sender)."""
        self._stopping = True
        self._wake.set()
        for task in [*self._in_flight.values(), *([self._task] if self._task else [])]:
            task.cancel()

    async def stop(self, *, grace: float = 5.0) -> None:
        """Stop taking new messages; give those in flight ``grace`` seconds to finish."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        tasks = list(self._in_flight.values())
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    async def run(self) -> None:
        while not self._stopping:
            try:
                launched, soonest = await self._pass()
            except Exception:
                log.exception("Delivery pass failed; retrying shortly")
                launched, soonest = 0, IDLE_RECHECK
            if launched == 0 and not self._stopping:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=soonest)

    async def drain(self) -> None:
        """Deliver until nothing is due or in flight (for tests and the demo's one-shots)."""
        while True:
            launched, _ = await self._pass()
            if self._in_flight:
                await asyncio.gather(*self._in_flight.values(), return_exceptions=True)
            elif launched == 0:
                return

    async def _pass(self) -> tuple[int, float]:
        """Launch what may go now; returns how many, and how long until more may."""
        if self._unrecorded and not await self._record_unrecorded():
            return 0, self._record_retry
        now = self._clock()
        heads = await self._store.due_heads(now=now, limit=BATCH)
        launched = 0
        soonest = IDLE_RECHECK
        for head in heads:
            if self._stopping:
                break
            if head.chat_id in self._in_flight:
                continue
            wait = self._pacer.chat_wait(head.chat_id)
            if wait > 0:
                soonest = min(soonest, wait)
                continue
            await self._slots.acquire()
            task = asyncio.create_task(self._deliver(head), name=f"deliver {head.id}")
            self._in_flight[head.chat_id] = task
            task.add_done_callback(functools.partial(self._done, head.chat_id))
            launched += 1
        # Edits naming a story's other outlets come after what is new, through the same
        # pacing: each is a message's worth of the chat's and the bot's budget.
        # A clock set back lets an edit go rather than hold it until the clock catches up.
        self._edited_at = {
            alert: began
            for alert, began in self._edited_at.items()
            if dt.timedelta(0) <= now - began < EDIT_SPACING
        }
        for edit in await self._store.due_edits(limit=BATCH) if not self._stopping else []:
            chat_id = edit.alert.chat_id
            if chat_id in self._in_flight:
                continue
            began = self._edited_at.get(edit.alert.id)
            if began is not None:
                soonest = min(soonest, (began + EDIT_SPACING - now).total_seconds())
                continue
            wait = self._pacer.chat_wait(chat_id)
            if wait > 0:
                soonest = min(soonest, wait)
                continue
            await self._slots.acquire()
            task = asyncio.create_task(self._edit(edit), name=f"edit {edit.alert.id}")
            self._in_flight[chat_id] = task
            task.add_done_callback(functools.partial(self._done, chat_id))
            launched += 1
        if not heads:
            next_due = await self._store.next_due_at()
            if next_due is not None:
                soonest = min(soonest, max(0.05, (next_due - now).total_seconds()))
        return launched, soonest

    def _done(self, chat_id: int, _: asyncio.Task[None]) -> None:
        self._in_flight.pop(chat_id, None)
        self._slots.release()
        # The chat may have more waiting; the next pass looks.
        self._wake.set()

    async def _record_unrecorded(self) -> bool:
        """Retry recording confirmed sends; True once every one is recorded."""
        for ids, (message_id, sent_at) in list(self._unrecorded.items()):
            try:
                await self._store.mark_sent(ids, now=sent_at, message_id=message_id)
            except Exception:
                self._record_retry = min(self._record_retry * 2, MAX_RECORD_RETRY)
                return False
            del self._unrecorded[ids]
        if self._unrecorded_since is not None:
            log.warning(
                "The database takes writes again; delivery resumes after %.0f s",
                time.monotonic() - self._unrecorded_since,
            )
        self._unrecorded_since = None
        self._record_retry = RECORD_RETRY
        return True

    async def _record_sent(self, ids: Sequence[int], message_id: int | None) -> None:
        now = self._clock()
        self.stats.sent += 1
        try:
            await self._store.mark_sent(ids, now=now, message_id=message_id)
        except Exception as error:
            # Telegram has the message: sending it again would be a duplicate. Keep the
            # fact in memory and pause delivery until the database can record it.
            self._unrecorded[tuple(ids)] = (message_id, now)
            if self._unrecorded_since is None:
                self._unrecorded_since = time.monotonic()
                log.warning(
                    "Telegram accepted outbox message %s but the database could not record"
                    " it (%s); delivery pauses until it can",
                    ids[0],
                    error,
                )

    async def _deliver(self, head: OutboxMessage) -> None:
        try:
            rows, outgoing = await self._render(head)
            if not rows:
                return
            await self._send(head, rows, outgoing)
        except Exception:
            # Whatever went wrong, the message stays queued and is tried again.
            self.stats.errors += 1
            log.exception("Delivering outbox message %s to chat %s failed", head.id, head.chat_id)
            with contextlib.suppress(Exception):
                await self._retry_later(head, "internal error")

    async def _edit(self, edit: AlertEdit) -> None:
        """Edit a sent alert to name its story's other outlets; one try, as it is only a
        courtesy: a failure other than a 429 gives the edit up."""
        alert = edit.alert
        self._edited_at[alert.id] = self._clock()
        outgoing = self._card(alert, self._edited_at[alert.id])
        try:
            await self._sender.edit(
                alert.chat_id,
                edit.message_id,
                formatting.with_sources(outgoing.text, edit.sources),
                preview=outgoing.preview,
                buttons=outgoing.buttons,
            )
        except ThrottledError as error:
            self.stats.throttled += 1
            self._pacer.hold(alert.chat_id, error.retry_after)
            return
        except (
            ChatGoneError,
            ChatMigratedError,
            RejectedError,
            ThreadGoneError,
            TransientError,
        ) as error:
            log.info("Alert %s not edited to name other sources: %s", alert.id, error)
            await self._store.edit_given_up(alert.id)
            return
        await self._store.edited(alert.id, shown=len(edit.sources))

    async def _retry_later(self, head: OutboxMessage, error: str) -> None:
        """Defer a failed message, or give up on it once its failures are many and old."""
        now = self._clock()
        since = head.failing_since or now
        if head.attempts + 1 >= MAX_ATTEMPTS and now - since >= GIVE_UP_AFTER:
            self.stats.given_up += 1
            log.error(
                "Giving up on outbox message %s for chat %s after %d attempts since %s: %s",
                head.id,
                head.chat_id,
                head.attempts + 1,
                since.isoformat(timespec="seconds"),
                error,
            )
            await self._store.mark_failed([head.id], error=error, now=now)
            return
        await self._store.defer(head.id, until=now + self._retry_delay(head), error=error, now=now)

    async def _render(self, head: OutboxMessage) -> tuple[list[OutboxMessage], Outgoing]:
        """The rows one message will carry, and the message; no rows if none is pending."""
        now = self._clock()
        rows = [head]
        if head.kind is MessageKind.ALERT:
            # One message lists alerts bound for one thread only.
            waiting = await self._store.waiting_alerts(
                head.chat_id, now=now, limit=MERGE_AT_MOST, thread_id=head.thread_id
            )
            if len(waiting) >= MERGE_FROM:
                rows = waiting
        pending = await self._store.still_pending([row.id for row in rows])
        rows = [row for row in rows if row.id in pending]
        if not rows:
            return [], Outgoing("")
        missing = [row for row in rows if row.kind in _CARDS and row.entry is None]
        if missing:
            await self._store.mark_failed(
                [row.id for row in missing], error="entry pruned", now=now
            )
            rows = [row for row in rows if row not in missing]
            if not rows:
                return [], Outgoing("")
        if len(rows) >= MERGE_FROM:
            rows, merged = self._merged(rows, now)
            if len(rows) > 1:
                return rows, Outgoing(merged, silent=all(row.silent for row in rows))
        row = rows[0]
        if row.kind in _CARDS:
            return [row], self._card(row, now)
        return [row], Outgoing(formatting.fit(row.text or ""))

    @staticmethod
    def _card(row: OutboxMessage, now: dt.datetime) -> Outgoing:
        """A single alert or breaking push as its own message, with its preview and buttons."""
        assert row.entry is not None
        card = formatting.alert_card(
            row.entry,
            topics=row.topics,
            timezone=row.timezone,
            now=now,
            breaking=row.kind is MessageKind.BREAKING,
        )
        preview = None
        if row.entry.link and row.preview is not LinkPreview.OFF:
            preview = (row.entry.link, row.preview)
        buttons: Keyboard = ()
        # No buttons in a channel: anyone reading it could press them.
        if (
            row.kind is MessageKind.ALERT
            and row.topic_ids
            and row.chat_kind is not ChatKind.CHANNEL
        ):
            buttons = formatting.alert_buttons(row.id, unfollow=row.chat_kind is ChatKind.PRIVATE)
        return Outgoing(card, preview, buttons, row.silent)

    @staticmethod
    def _merged(rows: list[OutboxMessage], now: dt.datetime) -> tuple[list[OutboxMessage], str]:
        """The first rows that fit one list message, and that message.

        Only the rows the message lists are marked sent with it; the rest stay queued for
        the next message.
        """
        while True:
            items = [(row.entry, row.topics) for row in rows if row.entry is not None]
            messages = formatting.alert_list(items, timezone=rows[0].timezone, now=now)
            if len(messages) == 1 or len(rows) == 1:
                return rows, messages[0]
            rows = rows[:-1]

    async def _send(
        self, head: OutboxMessage, rows: list[OutboxMessage], outgoing: Outgoing
    ) -> None:
        ids = [row.id for row in rows]
        try:
            message_id = await self._timed(
                self._sender.send(
                    head.chat_id,
                    outgoing.text,
                    thread_id=head.thread_id or None,
                    preview=outgoing.preview,
                    buttons=outgoing.buttons,
                    silent=outgoing.silent,
                )
            )
        except ThrottledError as error:
            self.stats.throttled += 1
            self._pacer.hold(head.chat_id, error.retry_after)
            until = self._clock() + dt.timedelta(seconds=error.retry_after)
            await self._store.defer(head.id, until=until, error=str(error), count_attempt=False)
            return
        except ChatGoneError as error:
            self.stats.chats_gone += 1
            cancelled = await self._store.chat_gone(head.chat_id, error.reason, now=self._clock())
            if error.reason is InactiveReason.NO_RIGHTS:
                log.info("Chat %s is paused: the bot may not post there (%s)", head.chat_id, error)
            else:
                log.info(
                    "Chat %s is gone (%s); %d waiting messages cancelled",
                    head.chat_id,
                    error,
                    cancelled,
                )
            return
        except ChatMigratedError as error:
            log.info("Chat %s moved to %s; resending there", head.chat_id, error.new_chat_id)
            await self._store.move_chat(head.chat_id, error.new_chat_id, now=self._clock())
            return
        except ThreadGoneError as error:
            await self._thread_gone(head, error)
            return
        except RejectedError as error:
            self.stats.rejected += 1
            log.warning(
                "Telegram refused outbox message %s for chat %s (%s); resending as plain text",
                head.id,
                head.chat_id,
                error,
            )
            await self._send_plain(head, ids, outgoing)
            return
        except TransientError as error:
            self.stats.errors += 1
            delay = self._retry_delay(head)
            log.warning(
                "Sending outbox message %s failed (%s); retrying in %.0f s",
                head.id,
                error,
                delay.total_seconds(),
            )
            await self._retry_later(head, str(error))
            return
        await self._record_sent(ids, message_id)
        self._observe_publication(rows)

    @staticmethod
    async def _timed(send: Awaitable[int]) -> int:
        """One send, its latency and outcome counted on /metrics."""
        started = time.perf_counter()
        outcome = "other"
        try:
            message_id = await send
        except ThrottledError:
            outcome = "429"
            raise
        except ChatGoneError:
            outcome = "403"
            raise
        else:
            outcome = "ok"
            return message_id
        finally:
            metrics.SEND_LATENCY.observe(time.perf_counter() - started)
            metrics.SENDS.labels(outcome).inc()

    def _observe_publication(self, rows: Sequence[OutboxMessage]) -> None:
        """Publication → alert latency of each alert a sent message carried.

        Entries with only a date, or whose stated time lies ahead, say nothing about latency.
        """
        now = self._clock()
        for row in rows:
            entry = row.entry
            if row.kind is MessageKind.ALERT and entry is not None and not entry.date_only:
                waited = (now - entry.published_at).total_seconds()
                if waited >= 0:
                    metrics.PUBLISH_TO_ALERT.observe(waited)

    async def _send_plain(self, head: OutboxMessage, ids: list[int], outgoing: Outgoing) -> None:
        plain = formatting.shorten(formatting.plain_text(outgoing.text), formatting.MAX_MESSAGE)
        try:
            message_id = await self._timed(
                self._sender.send(
                    head.chat_id,
                    plain,
                    html=False,
                    thread_id=head.thread_id or None,
                    buttons=outgoing.buttons,
                    silent=outgoing.silent,
                )
            )
        except RejectedError as error:
            log.error(
                "Outbox message %s refused as plain text too (%s); giving up", head.id, error
            )
            await self._store.mark_failed(ids, error=f"refused: {error}", now=self._clock())
            return
        except (
            ThrottledError,
            TransientError,
            ChatGoneError,
            ChatMigratedError,
            ThreadGoneError,
        ) as error:
            # The next attempt starts over from the HTML; it is refused again only if the
            # content is at fault, and then ends here as plain text.
            await self._retry_later(head, str(error))
            return
        await self._record_sent(ids, message_id)

    async def _thread_gone(self, head: OutboxMessage, error: ThreadGoneError) -> None:
        """Send what went to a gone thread to General instead, with a notice, once."""
        if not head.thread_id:
            # General itself can't be closed away from the bot like this; try again later.
            await self._retry_later(head, str(error))
            return
        moved = await self._store.thread_gone(
            head.chat_id, head.thread_id, notice=formatting.THREAD_GONE, now=self._clock()
        )
        if moved:
            log.info(
                "Thread %s of chat %s is gone (%s); its alerts go to General",
                head.thread_id,
                head.chat_id,
                error,
            )

    @staticmethod
    def _retry_delay(head: OutboxMessage) -> dt.timedelta:
        return min(dt.timedelta(seconds=2 ** min(head.attempts + 1, 20)), MAX_RETRY_DELAY)


_CARDS = frozenset({MessageKind.ALERT, MessageKind.BREAKING})
