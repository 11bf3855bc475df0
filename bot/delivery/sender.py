"""The Telegram edge of delivery: every Bot API call is paced here before it is made."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.delivery.pacing import Pacer

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
