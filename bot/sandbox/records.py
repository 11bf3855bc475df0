"""What the emulated Telegram keeps for tests to read: messages, answers, commands, requests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.entities import Entity

Keyboard = tuple[tuple["Button", ...], ...]


@dataclass(frozen=True, slots=True)
class Button:
    """An inline keyboard button as a user sees it: its text and what pressing it does."""

    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class MessageVersion:
    """A bot message's content at one point in time."""

    text: str
    html: str
    parse_mode: str | None
    entities: tuple[Entity, ...]
    buttons: Keyboard
    reply_markup: dict[str, Any] | None
    link_preview: dict[str, Any] | None
    date: dt.datetime


@dataclass(eq=False)
class SentMessage:
    """A message the bot sent, kept up to date as the bot edits or deletes it.

    ``text`` is what users read (markup parsed away), ``html`` the text parameter as sent.
    ``history`` holds every version, the original first and the current last.
    """

    chat_id: int
    message_id: int
    history: list[MessageVersion]
    sent_at: float
    reply_to_message_id: int | None = None
    message_thread_id: int | None = None
    disable_notification: bool = False
    protect_content: bool = False
    force_reply: bool = False  # sent with ForceReply: the user's client opens a reply to it
    deleted: bool = False

    @property
    def current(self) -> MessageVersion:
        return self.history[-1]

    @property
    def text(self) -> str:
        return self.current.text

    @property
    def html(self) -> str:
        return self.current.html

    @property
    def parse_mode(self) -> str | None:
        return self.current.parse_mode

    @property
    def entities(self) -> tuple[Entity, ...]:
        return self.current.entities

    @property
    def buttons(self) -> Keyboard:
        return self.current.buttons

    @property
    def link_preview_disabled(self) -> bool:
        preview = self.current.link_preview
        return bool(preview and preview.get("is_disabled"))

    @property
    def date(self) -> dt.datetime:
        return self.history[0].date

    @property
    def edit_count(self) -> int:
        return len(self.history) - 1

    def button(self, text_or_data: str) -> Button:
        """The button with this text, or else with this callback data."""
        buttons = [button for row in self.buttons for button in row]
        for button in buttons:
            if button.text == text_or_data:
                return button
        for button in buttons:
            if button.callback_data == text_or_data:
                return button
        raise LookupError(
            f"message {self.message_id} in chat {self.chat_id} has no button {text_or_data!r}; "
            f"it has {[button.text for button in buttons]}"
        )


@dataclass(frozen=True, slots=True)
class UserMessage:
    """A message a user sent, or a service message they caused (then ``text`` is empty).

    ``delivered`` is False when privacy mode hid the message from the bot.
    """

    chat_id: int
    message_id: int
    user_id: int
    text: str
    entities: tuple[Entity, ...]
    date: dt.datetime
    delivered: bool
    json: dict[str, Any] = field(repr=False)
    thread_id: int | None = None  # the forum thread it was written in; None: General


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    """The bot's answer to a button press: the toast or alert the user saw, if any."""

    query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int


@dataclass(frozen=True, slots=True)
class BotCommand:
    command: str
    description: str


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One Bot API request; ``at`` is on the emulator's monotonic clock, taken on arrival."""

    method: str
    params: dict[str, Any]
    status: int
    at: float
    description: str | None = None
