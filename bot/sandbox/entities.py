"""Message entities as Telegram returns them: UTF-16 offsets, nesting rules, trimming, commands."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

# Telegram counts offsets and lengths in UTF-16 code units, so an emoji outside the BMP counts 2.
ENTITY_TYPES = frozenset(
    {
        "mention",
        "hashtag",
        "cashtag",
        "bot_command",
        "url",
        "email",
        "phone_number",
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "blockquote",
        "expandable_blockquote",
        "code",
        "pre",
        "text_link",
        "text_mention",
        "custom_emoji",
    }
)

# These may nest inside anything except code and pre; Telegram merges touching ones of a type.
FORMATTING_TYPES = frozenset({"bold", "italic", "underline", "strikethrough", "spoiler"})
BLOCKQUOTE_TYPES = frozenset({"blockquote", "expandable_blockquote"})
CODE_TYPES = frozenset({"code", "pre"})

# The order tdlib sorts entities that start and end together: outer blocks first.
_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}

# Telegram trims these from both ends of a message before it checks for emptiness and length.
_TRIMMED = " \t\n\r\x0b\x0c"

_BOT_COMMAND = re.compile(
    r"(?<![\w/<>\\])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>\\@])", re.ASCII
)


@dataclass(frozen=True, slots=True)
class Entity:
    """One MessageEntity; offset and length in UTF-16 code units."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None
    user: dict[str, Any] | None = None

    @property
    def end(self) -> int:
        return self.offset + self.length

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {"offset": self.offset, "length": self.length, "type": self.type}
        if self.url is not None:
            result["url"] = self.url
        if self.language:
            result["language"] = self.language
        if self.custom_emoji_id is not None:
            result["custom_emoji_id"] = self.custom_emoji_id
        if self.user is not None:
            result["user"] = self.user
        return result


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def utf16_slice(text: str, offset: int, length: int) -> str:
    """The part of ``text`` an entity covers."""
    units = text.encode("utf-16-le")
    return units[2 * offset : 2 * (offset + length)].decode("utf-16-le", errors="replace")


def sort_key(entity: Entity) -> tuple[int, int, int]:
    return entity.offset, -entity.length, _PRIORITY.get(entity.type, 50)


def normalize(text: str, entities: Iterable[Entity]) -> tuple[str, list[Entity]]:
    """Applies what Telegram does to a formatted text before storing it.

    Entities are clipped to the text, illegal nestings dropped (nothing nests in code or pre,
    blockquotes don't nest, non-formatting entities don't contain each other, partial overlaps
    are refused), touching formatting entities of one type merged, and whitespace trimmed
    from both ends, shifting the entities with it.
    """
    total = utf16_length(text)
    clipped = [
        replace(entity, length=min(entity.end, total) - entity.offset)
        for entity in entities
        if entity.length > 0 and 0 <= entity.offset < total
    ]
    kept = _drop_illegal_nesting(sorted(clipped, key=sort_key))
    merged = _merge_formatting(kept)
    return _trim(text, merged)


def _drop_illegal_nesting(entities: list[Entity]) -> list[Entity]:
    kept: list[Entity] = []
    open_: list[Entity] = []
    for entity in entities:
        while open_ and open_[-1].end <= entity.offset:
            open_.pop()
        if open_ and entity.end > open_[-1].end:
            continue
        if not _may_nest(entity, open_):
            continue
        kept.append(entity)
        open_.append(entity)
    return kept


def _may_nest(entity: Entity, ancestors: list[Entity]) -> bool:
    for ancestor in ancestors:
        if ancestor.type in CODE_TYPES:
            return False
        if entity.type in BLOCKQUOTE_TYPES and ancestor.type in BLOCKQUOTE_TYPES:
            return False
        if _is_plain_entity(entity) and _is_plain_entity(ancestor):
            return False
    return True


def _is_plain_entity(entity: Entity) -> bool:
    return entity.type not in FORMATTING_TYPES and entity.type not in BLOCKQUOTE_TYPES


def _merge_formatting(entities: list[Entity]) -> list[Entity]:
    others = [entity for entity in entities if entity.type not in FORMATTING_TYPES]
    merged: list[Entity] = []
    for kind in sorted(FORMATTING_TYPES):
        spans = sorted((e for e in entities if e.type == kind), key=lambda e: e.offset)
        for entity in spans:
            previous = merged[-1] if merged and merged[-1].type == kind else None
            if previous is not None and entity.offset <= previous.end:
                union = replace(previous, length=max(previous.end, entity.end) - previous.offset)
                if not any(_partially_overlaps(union, other) for other in others):
                    merged[-1] = union
                    continue
            merged.append(entity)
    return sorted(others + merged, key=sort_key)


def _partially_overlaps(a: Entity, b: Entity) -> bool:
    disjoint = a.end <= b.offset or b.end <= a.offset
    nested = (a.offset <= b.offset and b.end <= a.end) or (b.offset <= a.offset and a.end <= b.end)
    return not disjoint and not nested


def _trim(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    stripped = text.strip(_TRIMMED)
    if stripped == text:
        return text, entities
    left = utf16_length(text[: len(text) - len(text.lstrip(_TRIMMED))])
    total = utf16_length(stripped)
    trimmed: list[Entity] = []
    for entity in entities:
        start = max(entity.offset - left, 0)
        end = min(entity.end - left, total)
        if end > start:
            trimmed.append(replace(entity, offset=start, length=end - start))
    return stripped, trimmed


def bot_commands(text: str) -> list[Entity]:
    """The ``bot_command`` entities Telegram marks in a user's message."""
    return [
        Entity("bot_command", utf16_length(text[: match.start()]), utf16_length(match.group()))
        for match in _BOT_COMMAND.finditer(text)
    ]
