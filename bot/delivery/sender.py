"""The Telegram edge of delivery: every Bot API call is paced here before it is made."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter, ExtBot

from bot.delivery.pacing import Pacer
from bot.delivery.worker import (
    ChatGoneError,
    ChatMigratedError,
    RejectedError,
    ThreadGoneError,
    ThrottledError,
    TransientError,
)
from bot.domain import InactiveReason, Keyboard, LinkPreview

log = logging.getLogger(__name__)

JSONDict = dict[str, Any]

# Methods that put something in a chat count against Telegram's flood limits; reads, callback
# answers and getUpdates don't.
PACED_METHODS = frozenset(
    {
        "sendMessage",
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageCaption",
        "sendPhoto",
        "sendDocument",
        "forwardMessage",
        "copyMessage",
    }
)
# A reply that still meets 429 after this many waits is given up (and the error handler
# apologises); by then Telegram is telling us something is badly wrong.
REPLY_ATTEMPTS = 3


def retry_seconds(error: RetryAfter) -> float:
    """``retry_after`` in seconds, whether PTB gives it as int or timedelta."""
    value: object = error.retry_after
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return float(value)  # type: ignore[arg-type]


class PacedRateLimiter(BaseRateLimiter[JSONDict]):
    """Spends the Pacer's budgets before each send or edit.

    Calls made with ``rate_limit_args={"bulk": True}`` (the outbox sender) queue behind
    everything else for the overall rate and hand 429s back to their caller; other calls
    (command replies, button answers) go first and wait out a 429 themselves.
    """

    def __init__(self, pacer: Pacer) -> None:
        self.pacer = pacer

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: JSONDict | None,
    ) -> bool | JSONDict | list[JSONDict]:
        chat_id = _chat_id(data.get("chat_id"))
        if endpoint not in PACED_METHODS or chat_id is None:
            return await callback(*args, **kwargs)
        bulk = bool(rate_limit_args and rate_limit_args.get("bulk"))
        attempt = 0
        while True:
            attempt += 1
            await self.pacer.wait_for_chat(chat_id)
            await self.pacer.acquire(urgent=not bulk)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                seconds = retry_seconds(error)
                self.pacer.hold(chat_id, seconds)
                log.warning(
                    "Telegram asked to wait %.0f s before %s to chat %s",
                    seconds,
                    endpoint,
                    chat_id,
                )
                if bulk or attempt >= REPLY_ATTEMPTS:
                    raise


def _chat_id(value: object) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


class TelegramSender:
    """Sends outbox messages through the bot, as bulk, turning Telegram's answers into types."""

    def __init__(self, bot: ExtBot[Any]) -> None:
        self._bot = bot

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
        try:
            message = await self._bot.send_message(
                chat_id,
                text,
                message_thread_id=thread_id,
                parse_mode=ParseMode.HTML if html else None,
                link_preview_options=link_preview_options(preview),
                reply_markup=inline_keyboard(buttons),
                disable_notification=silent,
                rate_limit_args={"bulk": True},
            )
        except RetryAfter as error:
            raise ThrottledError(retry_seconds(error)) from error
        except ChatMigrated as error:
            raise ChatMigratedError(error.new_chat_id) from error
        except Forbidden as error:
            raise ChatGoneError(_forbidden_reason(error.message), error.message) from error
        except BadRequest as error:
            raise _bad_request(error.message) from error
        except TelegramError as error:  # TimedOut, NetworkError and the rest
            raise TransientError(f"{type(error).__name__}: {error.message}") from error
        return message.message_id

    async def edit(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        preview: tuple[str, LinkPreview] | None = None,
        buttons: Keyboard = (),
    ) -> None:
        try:
            await self._bot.edit_message_text(
                text,
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=ParseMode.HTML,
                link_preview_options=link_preview_options(preview),
                reply_markup=inline_keyboard(buttons),
                rate_limit_args={"bulk": True},
            )
        except RetryAfter as error:
            raise ThrottledError(retry_seconds(error)) from error
        except ChatMigrated as error:
            raise ChatMigratedError(error.new_chat_id) from error
        except Forbidden as error:
            raise ChatGoneError(_forbidden_reason(error.message), error.message) from error
        except BadRequest as error:
            if "message is not modified" in error.message.lower():
                return
            raise _bad_request(error.message) from error
        except TelegramError as error:
            raise TransientError(f"{type(error).__name__}: {error.message}") from error


def link_preview_options(preview: tuple[str, LinkPreview] | None) -> LinkPreviewOptions:
    """Bot API ``LinkPreviewOptions`` for a link and size; no link, no preview.

    A large preview shows its media above the text, as an article's picture leads it.
    """
    if preview is None or preview[1] is LinkPreview.OFF:
        return LinkPreviewOptions(is_disabled=True)
    url, size = preview
    large = size is LinkPreview.LARGE
    # Every field is given: the bot's defaults (no previews) fill in any left out.
    return LinkPreviewOptions(
        is_disabled=False,
        url=url,
        prefer_large_media=large,
        prefer_small_media=not large,
        show_above_text=large,
    )


def inline_keyboard(buttons: Keyboard) -> InlineKeyboardMarkup | None:
    """The Bot API ``InlineKeyboardMarkup`` of callback buttons; None for no buttons."""
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in buttons]
    )


def _forbidden_reason(description: str) -> InactiveReason:
    lowered = description.lower()
    if "blocked" in lowered or "deactivated" in lowered:
        return InactiveReason.BLOCKED
    return InactiveReason.REMOVED  # kicked, not a member, can't initiate, and the like


def _bad_request(description: str) -> Exception:
    lowered = description.lower()
    if "message thread not found" in lowered or "topic_closed" in lowered:
        return ThreadGoneError(description)
    if "chat not found" in lowered or "peer_id_invalid" in lowered:
        return ChatGoneError(InactiveReason.NOT_FOUND, description)
    if (
        "not enough rights" in lowered
        or "have no rights" in lowered
        or "need administrator rights" in lowered
    ):
        return ChatGoneError(InactiveReason.NO_RIGHTS, description)
    return RejectedError(description)
