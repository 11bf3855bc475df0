"""Inline mode as Telegram runs it: inline queries out, ``answerInlineQuery`` checked.

Telegram delivers an ``inline_query`` update when a user types ``@bot words`` in any chat,
only for bots whose owner enabled inline mode with @BotFather (``/setinline``). The bot
answers once, within about 10 seconds, with at most 50 results
(https://core.telegram.org/bots/api#answerinlinequery). The emulator implements the
``article`` result, the one a text answer needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.sandbox.content import formatted_text, inline_keyboard
from bot.sandbox.entities import Entity
from bot.sandbox.errors import QUERY_INVALID, bad_request
from bot.sandbox.parameters import Params

_START_PARAMETER = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_RESULTS = 50
MAX_RESULT_ID_BYTES = 64
MAX_NEXT_OFFSET_BYTES = 64
# How long a query may wait for its answer; Telegram's window is about this long.
ANSWER_WITHIN = 10.0
_RESULT_TYPES = frozenset(
    {
        "article",
        "photo",
        "gif",
        "mpeg4_gif",
        "video",
        "audio",
        "voice",
        "document",
        "location",
        "venue",
        "contact",
        "game",
        "sticker",
    }
)


@dataclass(frozen=True, slots=True)
class InlineResult:
    """One ``article`` result as the user's client shows it, and the message it sends."""

    id: str
    title: str
    description: str | None
    url: str | None
    text: str  # the message chosen from the list would carry, markup parsed away
    entities: tuple[Entity, ...]
    link_preview: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class InlineAnswer:
    query_id: str
    results: tuple[InlineResult, ...]
    cache_time: int
    is_personal: bool
    next_offset: str
    button: str | None = None  # the text of the button above the results, if any


@dataclass(frozen=True, slots=True)
class PendingQuery:
    user_id: int
    query: str
    asked_at: float


def check_answer(
    params: Params,
    pending: dict[str, PendingQuery],
    *,
    now: float,
    strict_ampersands: bool,
) -> InlineAnswer:
    """``answerInlineQuery`` checked as Telegram checks it; the query is answered once.

    Raises the ``ApiError`` Telegram would answer with.
    """
    query_id = params.string("inline_query_id") or ""
    asked = pending.get(query_id)
    if asked is None or now - asked.asked_at > ANSWER_WITHIN:
        pending.pop(query_id, None)
        raise bad_request(QUERY_INVALID)
    raw = params.json("results")
    if not isinstance(raw, list):
        raise bad_request("can't parse inline query results JSON object")
    if len(raw) > MAX_RESULTS:
        raise bad_request("RESULTS_TOO_MUCH")
    results = tuple(_result(item, strict_ampersands=strict_ampersands) for item in raw)
    ids = [result.id for result in results]
    if len(set(ids)) != len(ids):
        raise bad_request("RESULT_ID_DUPLICATE")
    next_offset = params.string("next_offset") or ""
    if len(next_offset.encode()) > MAX_NEXT_OFFSET_BYTES:
        raise bad_request("NEXT_OFFSET_INVALID")
    button = _button(params.json("button"))
    del pending[query_id]
    return InlineAnswer(
        query_id=query_id,
        results=results,
        cache_time=300 if (cache_time := params.integer("cache_time")) is None else cache_time,
        is_personal=params.flag("is_personal"),
        next_offset=next_offset,
        button=button,
    )


def _button(value: Any) -> str | None:
    """An ``InlineQueryResultsButton``: its text, and a start parameter or web app."""
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("text"), str):
        raise bad_request("can't parse InlineQueryResultsButton JSON object")
    start = value.get("start_parameter")
    if start is None and "web_app" not in value:
        raise bad_request("BUTTON_TYPE_INVALID")
    if start is not None and not (isinstance(start, str) and _START_PARAMETER.fullmatch(start)):
        raise bad_request("START_PARAM_INVALID")
    return str(value["text"])


def _result(item: Any, *, strict_ampersands: bool) -> InlineResult:
    if not isinstance(item, dict):
        raise bad_request("can't parse InlineQueryResult: InlineQueryResult must be an Object")
    kind = item.get("type")
    if kind not in _RESULT_TYPES:
        raise bad_request("RESULT_TYPE_INVALID")
    if kind != "article":
        raise bad_request(f"inline query result type {kind} is not supported by this emulator")
    result_id = item.get("id")
    if not isinstance(result_id, str) or not 0 < len(result_id.encode()) <= MAX_RESULT_ID_BYTES:
        raise bad_request("RESULT_ID_INVALID")
    title = item.get("title")
    if not isinstance(title, str) or not title.strip():
        raise bad_request('can\'t parse InlineQueryResultArticle: field "title" must be a String')
    content = item.get("input_message_content")
    if not isinstance(content, dict):
        raise bad_request("can't parse InputMessageContent: InputMessageContent must be an Object")
    if not isinstance(content.get("message_text"), str):
        raise bad_request(
            'can\'t parse InputTextMessageContent: field "message_text" must be a String'
        )
    fields: dict[str, Any] = {"text": content["message_text"]}
    for name in ("parse_mode", "entities", "link_preview_options"):
        if name in content:
            fields[name] = content[name]
    text, entities = formatted_text(Params(fields), strict_ampersands=strict_ampersands)
    if item.get("reply_markup") is not None:
        inline_keyboard(item["reply_markup"], inline_only=True)
    description = item.get("description")
    url = item.get("url")
    preview = content.get("link_preview_options")
    return InlineResult(
        id=result_id,
        title=title,
        description=description if isinstance(description, str) else None,
        url=url if isinstance(url, str) else None,
        text=text,
        entities=tuple(entities),
        link_preview=preview if isinstance(preview, dict) else None,
    )
