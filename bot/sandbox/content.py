"""Message content as Telegram checks it: text and entities, inline keyboards, link previews."""

from __future__ import annotations

from typing import Any, TypeGuard
from urllib.parse import urlsplit

from bot.sandbox.entities import ENTITY_TYPES, Entity, normalize, utf16_length
from bot.sandbox.errors import MESSAGE_TEXT_EMPTY, MESSAGE_TOO_LONG, ApiError, bad_request
from bot.sandbox.parameters import Params
from bot.sandbox.records import Button, Keyboard
from bot.sandbox.telegram_html import EntityParseError, normalize_link, parse_html

MAX_TEXT_LENGTH = 4096
MAX_CALLBACK_DATA_BYTES = 64

_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_LINK_PREVIEW_FIELDS = (
    "is_disabled",
    "url",
    "prefer_small_media",
    "prefer_large_media",
    "show_above_text",
)


def formatted_text(params: Params, *, strict_ampersands: bool) -> tuple[str, list[Entity]]:
    """The ``text`` parameter parsed by ``parse_mode`` (or read with ``entities``) and checked.

    Emptiness and length are judged after parsing and trimming, as Telegram judges them, so
    4096 characters of text may take many more bytes of HTML.
    """
    source = params.string("text")
    if source is None:
        raise bad_request(MESSAGE_TEXT_EMPTY)
    mode = (params.string("parse_mode") or "").strip()
    if mode.lower() == "html":
        try:
            text, entities = parse_html(source, strict_ampersands=strict_ampersands)
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error.detail}") from error
    elif mode.lower() in ("markdown", "markdownv2"):
        raise bad_request(f"parse_mode {mode} is not supported by this emulator, use HTML")
    elif mode:
        raise bad_request("unsupported parse_mode")
    else:
        text, entities = normalize(source, _explicit_entities(params.json("entities")))
    if not text:
        raise bad_request(MESSAGE_TEXT_EMPTY)
    if utf16_length(text) > MAX_TEXT_LENGTH:
        raise bad_request(MESSAGE_TOO_LONG)
    return text, entities


def _explicit_entities(value: Any) -> list[Entity]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad_request("can't parse entities JSON object")
    return [_explicit_entity(item) for item in value]


def _explicit_entity(item: Any) -> Entity:
    if not isinstance(item, dict):
        raise _entity_error("MessageEntity must be an Object")
    kind, offset, length = item.get("type"), item.get("offset"), item.get("length")
    if not isinstance(kind, str) or kind not in ENTITY_TYPES:
        raise _entity_error(f"unsupported entity type {kind!r}")
    if not (_is_int(offset) and _is_int(length)) or offset < 0 or length < 0:
        raise _entity_error('fields "offset" and "length" must be non-negative integers')
    url = item.get("url")
    if kind == "text_link":
        url = normalize_link(url) if isinstance(url, str) else None
        if url is None:
            raise _entity_error(f"wrong URL in text_link {item.get('url')!r}")
    language = item.get("language") if kind == "pre" else None
    custom_emoji_id = item.get("custom_emoji_id") if kind == "custom_emoji" else None
    if kind == "custom_emoji" and not (
        isinstance(custom_emoji_id, str) and custom_emoji_id.isdigit()
    ):
        raise _entity_error("invalid custom emoji identifier specified")
    user = item.get("user") if kind == "text_mention" else None
    if kind == "text_mention" and not (isinstance(user, dict) and _is_int(user.get("id"))):
        raise _entity_error('field "user" must be a User')
    return Entity(
        kind,
        offset,
        length,
        url=url if kind == "text_link" else None,
        language=language if isinstance(language, str) and language else None,
        custom_emoji_id=custom_emoji_id,
        user=user,
    )


def _entity_error(detail: str) -> ApiError:
    return bad_request(f"can't parse MessageEntity: {detail}")


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def inline_keyboard(value: Any, *, inline_only: bool) -> dict[str, Any] | None:
    """The ``reply_markup`` a message will carry, checked like Telegram checks it.

    Reply keyboards are accepted for sending but, as in Telegram, don't appear on the message;
    edits take inline keyboards only. An empty inline keyboard is no keyboard.
    """
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in value:
        if inline_only:
            raise bad_request("can't parse inline keyboard markup JSON object")
        if not any(key in value for key in ("keyboard", "remove_keyboard", "force_reply")):
            raise bad_request('can\'t find field "inline_keyboard"')
        return None
    rows = value["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    checked = [[_inline_button(button) for button in row] for row in rows]
    nonempty = [row for row in checked if row]
    return {"inline_keyboard": nonempty} if nonempty else None


def _inline_button(button: Any) -> dict[str, Any]:
    if not isinstance(button, dict):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    text = button.get("text")
    if not isinstance(text, str) or not text.strip():
        raise bad_request("can't parse inline keyboard button: text must be a non-empty String")
    actions = [name for name in _BUTTON_ACTIONS if button.get(name) is not None]
    if not actions:
        raise bad_request("text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise bad_request(
            "can't parse inline keyboard button: exactly one of the optional fields must be used, "
            f"found {', '.join(actions)}"
        )
    if "callback_data" in actions:
        data = button["callback_data"]
        size = len(data.encode("utf-8")) if isinstance(data, str) else 0
        if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in actions:
        _check_button_url(button["url"])
    return dict(button)


def _check_button_url(url: Any) -> None:
    if not isinstance(url, str):
        raise bad_request("can't parse inline keyboard button: url must be a String")
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https", "tg"):
        raise bad_request(
            f"inline keyboard button URL '{url}' is invalid: Unsupported URL protocol"
        )
    target = parts.netloc if scheme != "tg" else parts.netloc or parts.path
    if not target:
        raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def buttons_of(markup: dict[str, Any] | None) -> Keyboard:
    if markup is None:
        return ()
    return tuple(
        tuple(
            Button(button["text"], button.get("callback_data"), button.get("url"))
            for button in row
        )
        for row in markup["inline_keyboard"]
    )


def link_preview(params: Params) -> dict[str, Any] | None:
    """``link_preview_options`` as the message will report them; the old flag maps onto it."""
    options = params.json("link_preview_options")
    if options is not None:
        if not isinstance(options, dict):
            raise bad_request("can't parse link preview options JSON object")
        return {key: options[key] for key in _LINK_PREVIEW_FIELDS if options.get(key)}
    if params.flag("disable_web_page_preview"):
        return {"is_disabled": True}
    return None
