"""Herald's vocabulary: the dataclasses and enums every layer above speaks in."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Callable


class HeraldError(Exception):
    """An error the person who caused it should read.

    ``user_message`` is plain text written for a chat; handlers send it as it is.
    """

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class ChatKind(enum.StrEnum):
    PRIVATE = "private"
    GROUP = "group"
    SUPERGROUP = "supergroup"
    CHANNEL = "channel"


class LinkPreview(enum.StrEnum):
    """How a single alert shows its article's link preview (Bot API ``LinkPreviewOptions``)."""

    OFF = "off"
    SMALL = "small"
    LARGE = "large"  # large media, above the text


def default_preview(kind: ChatKind) -> LinkPreview:
    """Large previews in private chats; small in groups and channels, where space is shared."""
    return LinkPreview.LARGE if kind is ChatKind.PRIVATE else LinkPreview.SMALL


@dataclasses.dataclass(frozen=True, slots=True)
class Button:
    """An inline keyboard button that sends ``data`` (at most 64 bytes) back when pressed."""

    label: str
    data: str


Keyboard = tuple[tuple[Button, ...], ...]


class InactiveReason(enum.StrEnum):
    """Why Herald stopped sending to a chat."""

    BLOCKED = "blocked"  # a user blocked the bot or deleted their account
    REMOVED = "removed"  # the bot was kicked from, or left, a group or channel
    NOT_FOUND = "not_found"  # Telegram no longer knows the chat
    # The bot may not post there (restricted in a group, not an admin of a channel): the
    # chat is paused, its queue kept, until an update shows the bot may post again.
    NO_RIGHTS = "no_rights"


@dataclasses.dataclass(frozen=True, slots=True)
class Chat:
    id: int
    kind: ChatKind
    title: str
    timezone: str
    created_at: dt.datetime
    inactive_reason: InactiveReason | None = None
    digest_enabled: bool = False
    digest_time: dt.time = dt.time(8, 0)  # local to ``timezone``
    quiet_hours: tuple[dt.time, dt.time] | None = None  # local; may cross midnight
    muted_until: dt.datetime | None = None
    held_since: dt.datetime | None = None
    # The current or next quiet-hours window in UTC, while quiet hours are set.
    quiet_window: tuple[dt.datetime, dt.datetime] | None = None
    # The forum thread digests, catch-ups and breaking pushes go to; 0: General.
    digest_thread_id: int = 0
    link_preview: LinkPreview | None = None  # None: the default for the chat's kind

    @property
    def active(self) -> bool:
        return self.inactive_reason is None

    @property
    def preview(self) -> LinkPreview:
        """The link preview single alerts carry here: the chat's choice or its kind's default."""
        return self.link_preview or default_preview(self.kind)


@dataclasses.dataclass(frozen=True, slots=True)
class ParsedEntry:
    """One entry as read from a feed, cleaned, before it is stored.

    ``title`` and ``summary`` are plain text (no markup, entities decoded, whitespace
    collapsed); ``link`` is absolute or empty; ``published`` is aware UTC or None when the
    feed gave no usable date, and midnight UTC of the day when ``date_only`` (the feed
    gave a date without a time). ``content_key`` is the key derived from the content, for
    storage to use instead of ``key`` if ``key`` turns out to name another story stored
    before; empty when ``key`` is that already. It follows from the fields above, so
    equality ignores it.
    """

    key: str
    title: str
    summary: str
    link: str
    published: dt.datetime | None
    author: str
    date_only: bool = False
    content_key: str = dataclasses.field(default="", compare=False)


@dataclasses.dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str
    link: str
    entries: tuple[ParsedEntry, ...]


Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclasses.dataclass(frozen=True, slots=True)
class Entry:
    """A stored feed entry; ``published_at`` falls back to when Herald first saw it.

    ``date_only``: the feed gave a day without a time, stored as midnight UTC of that day.
    """

    id: int
    feed_id: int
    feed_title: str
    key: str
    title: str
    summary: str
    link: str
    author: str
    published_at: dt.datetime
    first_seen_at: dt.datetime
    # story_key(), or the story of the cluster the entry joined (bot.services.stories): the
    # same for every entry that tells the same story.
    story: str = ""
    date_only: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class Feed:
    id: int
    url: str
    title: str
    etag: str | None
    last_modified: str | None
    content_hash: str | None
    next_poll_at: dt.datetime
    last_polled_at: dt.datetime | None
    last_success_at: dt.datetime | None
    last_error: str | None
    last_error_at: dt.datetime | None
    failing_since: dt.datetime | None
    consecutive_failures: int
    failure_notified: bool
    polls: int
    polls_not_modified: int
    baseline_done: bool
    created_at: dt.datetime
    # The least interval the server asked for (Cache-Control max-age or Expires), if any.
    min_interval: dt.timedelta | None = None
    # Until when a process polling the feed holds it (None: nobody polls it now).
    claimed_until: dt.datetime | None = None

    @property
    def name(self) -> str:
        return self.title or self.url


@dataclasses.dataclass(frozen=True, slots=True)
class FeedHealth:
    feed: Feed
    entries_per_day: float
    polling_now: bool = False
    poll_interval: dt.timedelta = dt.timedelta(0)  # Herald's own, to compare the server's to
    push: Subscription | None = None  # its WebSub subscription, if it names a hub


class MessageKind(enum.StrEnum):
    """What an outbox message is; the order of PRIORITY says which go first across chats."""

    NOTICE = "notice"  # to admins: a feed failing, and the like
    BREAKING = "breaking"
    ALERT = "alert"
    CATCHUP = "catchup"  # alerts held by quiet hours or mute, summarised
    DIGEST = "digest"
    BROADCAST = "broadcast"


PRIORITY = {
    MessageKind.NOTICE: 0,
    MessageKind.BREAKING: 1,
    MessageKind.ALERT: 2,
    MessageKind.CATCHUP: 2,
    MessageKind.DIGEST: 3,
    MessageKind.BROADCAST: 4,
}


@dataclasses.dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One message waiting to be sent: an entry to render as a card, or ready HTML."""

    id: int
    chat_id: int
    kind: MessageKind
    attempts: int
    timezone: str  # the chat's, for rendering times
    failing_since: dt.datetime | None = None  # the first failed attempt, while failing
    entry: Entry | None = None
    topics: tuple[str, ...] = ()
    text: str | None = None
    broadcast_id: int | None = None
    thread_id: int = 0  # the forum thread it goes to; 0: General, or no threads
    chat_kind: ChatKind = ChatKind.PRIVATE
    preview: LinkPreview = LinkPreview.OFF  # the chat's, for a single alert's link
    topic_ids: tuple[int, ...] = ()  # an alert's matched topics, for its buttons
    silent: bool = False  # sent without a sound: every topic that matched is silent


@dataclasses.dataclass(frozen=True, slots=True)
class AlertEdit:
    """A sent alert to edit so that it names the other outlets its story came from."""

    alert: OutboxMessage  # as it was queued: rendered again, with the sources under it
    message_id: int  # Telegram's, in the alert's chat
    sources: tuple[str, ...]  # the other outlets, in arrival order
    edits: int  # edits made so far


class BroadcastState(enum.StrEnum):
    DRAFT = "draft"
    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"


@dataclasses.dataclass(frozen=True, slots=True)
class Broadcast:
    id: int
    admin_chat_id: int
    text: str  # HTML, as the chats will see it
    state: BroadcastState
    audience: int
    progress_message_id: int | None
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class BroadcastProgress:
    broadcast: Broadcast
    queued: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    cancelled: int = 0

    @property
    def finished(self) -> bool:
        return self.queued == 0 and self.broadcast.state is not BroadcastState.DRAFT


@dataclasses.dataclass(frozen=True, slots=True)
class Stats:
    active_chats: int
    inactive_chats: int
    topics: int
    entries: int
    outbox: dict[MessageKind, int]
    sent_last_minute: int
    sent_last_hour: int
    failed_last_day: int
    throttled: int  # 429s since start-up
    errors: int  # send errors since start-up
    chats_gone: int  # chats found blocked, removed or deleted since start-up
    refused: int  # messages Telegram refused as sent (bad markup, too long)
    since: dt.datetime


class TopicMode(enum.StrEnum):
    INSTANT = "instant"  # an alert as each entry arrives, and in the digest
    DIGEST = "digest"  # only in the digest


@dataclasses.dataclass(frozen=True, slots=True)
class Topic:
    id: int
    chat_id: int
    query: str  # as the person wrote it
    canonical: str
    mode: TopicMode
    created_at: dt.datetime
    thread_id: int = 0  # the forum thread its alerts go to; 0: General, or no threads
    silent: bool = False  # alerts arrive without a sound
    muted_until: dt.datetime | None = None  # no alerts before then

    def muted(self, now: dt.datetime) -> bool:
        return self.muted_until is not None and self.muted_until > now


class TopicAction(enum.StrEnum):
    """What a button under an alert or on the /topic list does to topics."""

    MUTE = "mute"  # no alerts for a day
    DIGEST = "digest"  # digest only
    UNFOLLOW = "unfollow"  # removed


@dataclasses.dataclass(frozen=True, slots=True)
class TopicChange:
    """What one press changed, and the Undo that puts it back."""

    action: TopicAction
    topics: tuple[Topic, ...]  # the topics acted on, as they were before
    undo_id: int
    until: dt.datetime | None = None  # a mute's end


@dataclasses.dataclass(frozen=True, slots=True)
class AddedTopic:
    topic: Topic
    recent_matches: int  # entries of the last PREVIEW_DAYS days it would have matched
    examples: tuple[Entry, ...]
    more_than_counted: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class SearchHit:
    """A search result: the entry, and a snippet as (text, matched) segments."""

    entry: Entry
    snippet: tuple[tuple[str, bool], ...]
    also: tuple[str, ...] = ()  # the other feeds that told its story


@dataclasses.dataclass(frozen=True, slots=True)
class DigestSection:
    topic: str
    entries: tuple[Entry, ...]  # newest first
    more: int  # matching entries not listed


def story_key(
    *, feed_id: int, key: str, link: str, link_shared: bool = False, known: str | None = None
) -> str:
    """The story an entry tells, as the delivery ledger names it; a chat is pushed each once.

    Decided when Herald first stores the entry and kept through its edits. Two entries with
    the same link (one story carried by two feeds) are one story: ``known`` is the story of
    an entry already stored under this link, if any, so a story whose link was edited
    keeps its name. An entry without a link, or whose link other entries of its own feed
    share (``link_shared``: a site's front page, a live blog), is a story of its own. The
    router may then give a new entry the story of a recent one it repeats (a cluster).
    """
    if not link or link_shared:
        return f"entry:{feed_id}:{key}"
    if known is not None and not known.startswith("entry:"):
        return known
    return f"link:{link}"


# An entry whose own date is this much older than the moment Herald first saw it is a feed
# dumping its archive: stored and searchable, never alerted.
ARCHIVE_DUMP_AGE = dt.timedelta(days=2)


def alertable_until(entry: Entry) -> dt.datetime | None:
    """The alert rule: a topic alerts an entry if it was added at or before this moment.

    That moment is when Herald first stored the entry, whatever date the feed claims: feeds
    list stories minutes or hours after the date they stamp on them. None for an archive
    dump (an entry dated more than ``ARCHIVE_DUMP_AGE`` before Herald first saw it), which
    alerts nobody. Alerts, catch-ups and digests all ask this.
    """
    if entry.published_at < entry.first_seen_at - ARCHIVE_DUMP_AGE:
        return None
    return entry.first_seen_at


# While a WebSub hub pushes a feed, polling is only the safety net: this often (or at
# HERALD_POLL_INTERVAL, if that is longer).
PUSHED_POLL_INTERVAL = dt.timedelta(minutes=30)


class PushState(enum.StrEnum):
    """Where a feed's WebSub subscription stands (W3C WebSub §5)."""

    REQUESTED = "requested"  # asked the hub; its verification of intent is awaited
    ACTIVE = "active"  # verified: the hub pushes until the lease ends
    UNSUBSCRIBING = "unsubscribing"  # the feed is gone; the hub's confirmation is awaited
    DENIED = "denied"  # the hub refused the subscription
    FAILED = "failed"  # the hub could not be asked (unreachable, refused the request)


@dataclasses.dataclass(frozen=True, slots=True)
class Subscription:
    """A feed's WebSub subscription; ``expires_at`` is the lease's end once verified."""

    feed_id: int
    hub: str
    topic: str
    callback_token: str
    secret: str
    state: PushState
    requested_at: dt.datetime
    lease_seconds: int | None = None
    expires_at: dt.datetime | None = None
    last_push_at: dt.datetime | None = None
    pushes: int = 0
    error: str | None = None

    def live(self, now: dt.datetime) -> bool:
        """Whether the hub pushes this feed now: verified, and the lease not over."""
        expires = self.expires_at
        return self.state is PushState.ACTIVE and expires is not None and now < expires


def first_line(error: BaseException) -> str:
    """The first line of an error's message (database errors run over several), for one
    log line or reply; the error's type name when it has no message."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
