"""The storage seam: what services ask of storage, in the domain's words.

Services depend on these protocols and value types only; ``bot.storage`` holds the SQLite
implementations (``ChatRepository`` for ``Chats`` and so on), whose methods document each
contract, and another backend fills the same protocols. Errors a backend raises for a
service to handle live here too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Protocol

from bot.domain import (
    AlertEdit,
    Broadcast,
    BroadcastProgress,
    Chat,
    ChatKind,
    Entry,
    Feed,
    InactiveReason,
    LinkPreview,
    MessageKind,
    OutboxMessage,
    ParsedEntry,
    PushState,
    Subscription,
    Topic,
    TopicAction,
    TopicChange,
    TopicMode,
)

# Meta keys services name.
FAILURES_REPORTED = "failures_reported_through"  # the last failed outbox id admins were told of


class StorageError(Exception):
    """The database cannot be opened, migrated or read; ``str()`` says why, for the operator."""


class DatabaseInUseError(StorageError):
    """Another Herald process runs on this database; ``str()`` names it."""


class TopicLimitError(Exception):
    """The chat already follows as many topics as it may."""


class DuplicateTopicError(Exception):
    """The chat already follows this query."""

    def __init__(self, existing: Topic) -> None:
        super().__init__(existing.query)
        self.existing = existing


@dataclasses.dataclass(frozen=True, slots=True)
class StoredPoll:
    """What one successful poll changed in the store."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # pruned before, or older than the retention period


@dataclasses.dataclass(frozen=True, slots=True)
class PollSuccess:
    etag: str | None
    last_modified: str | None
    next_poll_at: dt.datetime
    title: str | None = None
    moved_to: str | None = None  # a permanent redirect's target
    content_hash: str | None = None
    not_modified: bool = False  # answered 304
    unchanged_body: bool = False  # answered 200 with the very bytes of the last poll
    min_interval: dt.timedelta | None = None  # the server's own floor on the interval


class Chats(Protocol):
    """The chats table: who Herald talks to, their settings and holds."""

    async def register(
        self,
        chat_id: int,
        kind: ChatKind,
        title: str,
        *,
        timezone: str,
        now: dt.datetime,
        digest_time: dt.time = ...,
    ) -> tuple[Chat, bool]: ...

    async def get(self, chat_id: int) -> Chat | None: ...

    async def set_digest_thread(self, chat_id: int, thread_id: int) -> None: ...

    async def set_link_preview(self, chat_id: int, preview: LinkPreview | None) -> None: ...

    async def add_manager(self, chat_id: int, user_id: int, *, now: dt.datetime) -> None: ...

    async def managed_by(self, user_id: int) -> list[Chat]: ...

    async def set_inactive(
        self, chat_id: int, reason: InactiveReason, now: dt.datetime
    ) -> bool: ...

    async def set_active(self, chat_id: int, now: dt.datetime) -> bool: ...

    async def move(self, old_id: int, new_id: int, *, now: dt.datetime) -> None: ...

    async def delete(self, chat_id: int) -> bool: ...

    async def count(self) -> tuple[int, int]: ...

    async def set_timezone(
        self, chat_id: int, timezone: str, *, next_digest_at: dt.datetime | None
    ) -> None: ...

    async def set_digest(
        self, chat_id: int, *, enabled: bool, at: dt.time, next_digest_at: dt.datetime | None
    ) -> None: ...

    async def due_digests(
        self, *, now: dt.datetime, limit: int
    ) -> list[tuple[Chat, dt.datetime]]: ...

    async def claim_digest(
        self, chat_id: int, *, now: dt.datetime, until: dt.datetime
    ) -> bool: ...

    async def digest_cursor(self, chat_id: int) -> tuple[dt.datetime | None, str | None]: ...

    async def record_digest(
        self,
        chat_id: int,
        *,
        content_until: dt.datetime | None,
        day: str | None,
        next_digest_at: dt.datetime | None,
    ) -> None: ...

    async def set_quiet_hours(
        self,
        chat_id: int,
        hours: tuple[dt.time, dt.time] | None,
        window: tuple[dt.datetime, dt.datetime] | None,
    ) -> None: ...

    async def set_quiet_window(
        self, chat_id: int, window: tuple[dt.datetime, dt.datetime] | None
    ) -> None: ...

    async def set_muted_until(self, chat_id: int, until: dt.datetime | None) -> None: ...

    async def hold(
        self, chat_id: int, *, now: dt.datetime, muted_until: dt.datetime | None = ...
    ) -> int: ...

    async def with_holds(self) -> list[Chat]: ...


class Entries(Protocol):
    """The archive of entries: reading, searching and pruning it."""

    async def get(self, entry_id: int) -> Entry | None: ...

    async def by_link(self, link: str) -> Entry | None: ...

    async def many(self, entry_ids: Sequence[int]) -> list[Entry]: ...

    async def latest(
        self, *, limit: int, before: tuple[dt.datetime, int] | None = ...
    ) -> list[Entry]: ...

    async def unrouted(self, *, limit: int) -> list[Entry]: ...

    async def other_sources(self, entries: Sequence[Entry]) -> dict[int, tuple[str, ...]]: ...

    async def recent(
        self, *, after_id: int, seen_since: dt.datetime, limit: int
    ) -> list[tuple[Entry, bool]]: ...

    async def count(self) -> int: ...

    async def prune(self, *, published_before: dt.datetime, now: dt.datetime) -> int: ...

    async def index_pending(self) -> int: ...

    async def newest_matches(
        self,
        expression: str,
        *,
        limit: int,
        before_id: int | None = ...,
        published_since: dt.datetime | None = ...,
        seen_since: dt.datetime | None = ...,
        seen_before: dt.datetime | None = ...,
    ) -> list[Entry]: ...

    async def ranked_matches(self, expression: str, *, window: int) -> list[tuple[int, str]]: ...

    async def save_search(
        self, chat_id: int, query: str, *, now: dt.datetime, results: Sequence[int] | None = ...
    ) -> int: ...

    async def saved_search(self, search_id: int, chat_id: int) -> str | None: ...

    async def saved_results(self, search_id: int, chat_id: int) -> list[int] | None: ...


class Feeds(Protocol):
    """Feeds and what each poll stores."""

    async def record_push(
        self,
        feed: Feed,
        entries: Sequence[ParsedEntry],
        *,
        title: str,
        now: dt.datetime,
        keep_after: dt.datetime,
    ) -> StoredPoll | None: ...

    async def add(self, url: str, *, now: dt.datetime, next_poll_at: dt.datetime) -> Feed: ...

    async def get(self, feed_id: int) -> Feed | None: ...

    async def by_url(self, url: str) -> Feed | None: ...

    async def add_alias(self, url: str, feed_id: int) -> None: ...

    async def all(self) -> list[Feed]: ...

    async def schedule(self) -> list[tuple[int, str, dt.datetime]]: ...

    async def due(self, now: dt.datetime, *, limit: int) -> list[Feed]: ...

    async def next_due_at(self) -> dt.datetime | None: ...

    async def claim(
        self, feed_id: int, *, now: dt.datetime, until: dt.datetime
    ) -> Feed | None: ...

    async def release(self, feed_id: int, *, until: dt.datetime) -> bool: ...

    async def remove(self, feed_id: int) -> bool: ...

    async def spread_overdue(self, *, now: dt.datetime, window: dt.timedelta) -> int: ...

    async def record_failure(
        self, feed_id: int, error: str, *, now: dt.datetime, next_poll_at: dt.datetime
    ) -> Feed | None: ...

    async def mark_failure_notified(self, feed_id: int) -> None: ...

    async def record_success(
        self,
        feed: Feed,
        poll: PollSuccess,
        entries: Sequence[ParsedEntry],
        *,
        now: dt.datetime,
        keep_after: dt.datetime,
    ) -> StoredPoll: ...

    async def entries_per_day(self, *, now: dt.datetime) -> dict[int, float]: ...


class Meta(Protocol):
    """Small named facts about the running bot."""

    async def beat(self, now: dt.datetime) -> None: ...

    async def clear_beat(self) -> None: ...

    async def last_beat(self) -> dt.datetime | None: ...

    async def get_int(self, key: str, default: int = ...) -> int: ...

    async def set_int(self, key: str, value: int) -> None: ...

    async def get_text(self, key: str) -> str | None: ...

    async def set_text_once(self, key: str, value: str) -> str: ...


class Outbox(Protocol):
    """Every pushed message, the holds and digests that feed it, and broadcasts."""

    async def enqueue_alerts(
        self, alerts: Iterable[tuple[int, int, Sequence[str]]], *, now: dt.datetime
    ) -> int: ...

    async def enqueue_text(
        self, chat_ids: Iterable[int], kind: MessageKind, text: str, *, now: dt.datetime
    ) -> int: ...

    async def enqueue_texts(
        self, chat_id: int, kind: MessageKind, texts: Sequence[str], *, now: dt.datetime
    ) -> None: ...

    async def enqueue_breaking(self, entry_id: int, *, now: dt.datetime) -> tuple[int, int]: ...

    async def due_heads(self, *, now: dt.datetime, limit: int) -> list[OutboxMessage]: ...

    async def waiting_alerts(
        self, chat_id: int, *, now: dt.datetime, limit: int, thread_id: int = ...
    ) -> list[OutboxMessage]: ...

    async def alert_topics(
        self, outbox_id: int, *, chat_id: int, message_id: int
    ) -> tuple[int, ...] | None: ...

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
        count_attempt: bool = ...,
        now: dt.datetime | None = ...,
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

    async def prune_sent(self, *, before: dt.datetime) -> int: ...

    async def depth_by_kind(self) -> dict[MessageKind, int]: ...

    async def sent_since(self, moment: dt.datetime) -> int: ...

    async def failures_after(self, outbox_id: int) -> tuple[int, int]: ...

    async def failed_since(self, moment: dt.datetime) -> int: ...

    async def create_broadcast(
        self, admin_chat_id: int, text: str, *, now: dt.datetime
    ) -> Broadcast: ...

    async def broadcast(self, broadcast_id: int) -> Broadcast | None: ...

    async def set_progress_message(self, broadcast_id: int, message_id: int) -> None: ...

    async def start_broadcast(
        self, broadcast_id: int, *, now: dt.datetime
    ) -> Broadcast | None: ...

    async def cancel_broadcast(self, broadcast_id: int) -> Broadcast | None: ...

    async def active_broadcasts(self) -> list[BroadcastProgress]: ...

    async def progress_text(self, broadcast_id: int) -> str | None: ...

    async def record_progress(self, broadcast_id: int, text: str, *, final: bool) -> None: ...

    async def held(self, chat_id: int) -> list[tuple[int, Entry, tuple[str, ...]]]: ...

    async def release_held(
        self,
        chat_id: int,
        *,
        listed: Sequence[tuple[int, int]],
        texts: Sequence[str],
        for_digest: Sequence[int],
        now: dt.datetime,
    ) -> None: ...

    async def for_digest(self, chat_id: int) -> list[tuple[int, Entry, tuple[str, ...]]]: ...

    async def enqueue_digest(
        self,
        chat_id: int,
        texts: Sequence[str],
        *,
        entry_ids: Sequence[int],
        from_held: Sequence[int],
        now: dt.datetime,
        cursor: dt.datetime,
        day: str | None,
        next_digest_at: dt.datetime | None,
    ) -> None: ...

    async def digested(self, chat_id: int, entry_ids: Sequence[int]) -> set[int]: ...


class Topics(Protocol):
    """What each chat follows, and routing entries to it."""

    async def add(
        self,
        chat_id: int,
        query: str,
        canonical: str,
        *,
        limit: int,
        now: dt.datetime,
        thread_id: int = ...,
    ) -> Topic: ...

    async def for_chat(self, chat_id: int) -> list[Topic]: ...

    async def get(self, topic_id: int) -> Topic | None: ...

    async def remove(self, topic_id: int) -> bool: ...

    async def set_mode(self, topic_id: int, mode: TopicMode) -> bool: ...

    async def unmute(self, chat_id: int, topic_id: int | None = None) -> list[Topic]: ...

    async def set_silent(self, topic_id: int, silent: bool) -> bool: ...

    async def change(
        self,
        chat_id: int,
        topic_ids: Sequence[int],
        action: TopicAction,
        *,
        now: dt.datetime,
        until: dt.datetime,
        undo_for: dt.timedelta,
    ) -> TopicChange | None: ...

    async def undo(
        self, chat_id: int, undo_id: int, *, now: dt.datetime
    ) -> list[Topic] | None: ...

    async def count(self) -> int: ...

    def every(self, *, batch: int = ...) -> AsyncIterator[list[Topic]]: ...

    async def ids_for_chat(self, chat_id: int) -> list[int]: ...

    async def route(
        self, entry: Entry, topic_ids: Sequence[int], *, now: dt.datetime, again: bool = False
    ) -> tuple[int, int]: ...


class Subscriptions(Protocol):
    """Each pushed feed's WebSub subscription: hub, topic, callback token, secret, lease."""

    async def requested(
        self,
        feed_id: int,
        *,
        hub: str,
        topic: str,
        callback_token: str,
        secret: str,
        now: dt.datetime,
    ) -> Subscription: ...

    async def for_feed(self, feed_id: int) -> Subscription | None: ...

    async def by_token(self, callback_token: str) -> Subscription | None: ...

    async def all(self) -> list[Subscription]: ...

    async def verified(self, feed_id: int, *, lease_seconds: int, now: dt.datetime) -> None: ...

    async def set_state(
        self, feed_id: int, state: PushState, *, error: str | None = None
    ) -> None: ...

    async def pushed(self, feed_id: int, *, now: dt.datetime) -> None: ...

    async def delete(self, feed_id: int) -> None: ...


class Leases(Protocol):
    """Named leases that processes sharing one database take in turn."""

    async def claim(
        self, name: str, holder: str, *, until: dt.datetime, now: dt.datetime
    ) -> bool: ...

    async def release(self, holder: str) -> None: ...
