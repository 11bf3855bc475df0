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

    @property
    def is_group(self) -> bool:
        return self is not ChatKind.PRIVATE


class InactiveReason(enum.StrEnum):
    """Why Herald stopped sending to a chat."""

    BLOCKED = "blocked"  # a user blocked the bot or deleted their account
    REMOVED = "removed"  # the bot was kicked from, or left, a group or channel
    NOT_FOUND = "not_found"  # Telegram no longer knows the chat


@dataclasses.dataclass(frozen=True, slots=True)
class Chat:
    id: int
    kind: ChatKind
    title: str
    timezone: str
    created_at: dt.datetime
    inactive_reason: InactiveReason | None = None

    @property
    def active(self) -> bool:
        return self.inactive_reason is None


@dataclasses.dataclass(frozen=True, slots=True)
class ParsedEntry:
    """One entry as read from a feed, cleaned, before it is stored.

    ``title`` and ``summary`` are plain text (no markup, entities decoded, whitespace
    collapsed); ``link`` is absolute or empty; ``published`` is aware UTC or None when the
    feed gave no usable date.
    """

    key: str
    title: str
    summary: str
    link: str
    published: dt.datetime | None
    author: str


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
    """A stored feed entry; ``published_at`` falls back to when Herald first saw it."""

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
