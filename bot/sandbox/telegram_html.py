"""Telegram's HTML parse mode: the plain text and entities it yields, or the error it gives.

The scanner follows tdlib's ``parse_html`` byte for byte, so error details name the same
byte offsets (of the UTF-8 text) and use the same words. Where Telegram is lenient about
``&`` (it keeps an unknown ``&name;`` or a bare ``&`` literally) the strict mode refuses it,
because a bot that forgets to escape ``&`` also forgets ``<``, and the second breaks sends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.sandbox.entities import Entity, normalize

SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}

_NAMED_ENTITIES = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"'}

# tdlib's is_space counts the terminating NUL, which is how "end of text" stops its loops.
_SPACES = frozenset(b" \t\r\n\x0b\x0c\x00")
_SPECIAL = re.compile(rb"[<&]")
_ALPHA = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = frozenset(b"0123456789")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_NAME_TOKEN = _ALPHA | _DIGITS | frozenset(b".-")
_HOST = re.compile(r"^[\w.-]+$")

_LT, _GT, _AMP, _SLASH, _EQ, _SEMI = b"<>&/=;"
_QUOTES = frozenset(b"\"'")


class EntityParseError(ValueError):
    """Unparseable text; ``detail`` is what Telegram writes after "can't parse entities: "."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(slots=True)
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    byte_offset: int


def parse_html(text: str, *, strict_ampersands: bool = True) -> tuple[str, list[Entity]]:
    """Returns the text users see and its entities, normalised as Telegram stores them."""
    plain, entities = _Scanner(text.encode("utf-8"), strict_ampersands).run()
    return normalize(plain, entities)


class _Scanner:
    def __init__(self, data: bytes, strict_ampersands: bool) -> None:
        self.data = data
        self.strict_ampersands = strict_ampersands
        self.out = bytearray()
        self.utf16 = 0
        self.open: list[_OpenTag] = []
        self.entities: list[Entity] = []

    def at(self, index: int) -> int:
        return self.data[index] if index < len(self.data) else 0

    def run(self) -> tuple[str, list[Entity]]:
        i = 0
        size = len(self.data)
        while i < size:
            match = _SPECIAL.search(self.data, i)
            stop = match.start() if match else size
            if stop > i:
                self._append(self.data[i:stop].decode("utf-8"))
                i = stop
            elif self.data[i] == _AMP:
                i = self._ampersand(i)
            elif self.at(i + 1) == _SLASH:
                i = self._end_tag(i)
            else:
                i = self._start_tag(i)
        if self.open:
            raise EntityParseError(
                f'Can\'t find end tag corresponding to start tag "{self.open[-1].name}"'
            )
        # A language on a <code> that no <pre> claimed is dropped, as Telegram does.
        entities = [
            Entity(e.type, e.offset, e.length) if e.type == "code" else e for e in self.entities
        ]
        return self.out.decode("utf-8"), entities

    def _append(self, chunk: str) -> None:
        self.out += chunk.encode("utf-8")
        self.utf16 += len(chunk.encode("utf-16-le")) // 2

    def _ampersand(self, i: int) -> int:
        decoded = _decode_entity(self.data, i)
        if decoded is not None:
            character, after = decoded
            self._append(character)
            return after
        if self.strict_ampersands:
            raise EntityParseError(_ampersand_detail(self.data, i))
        self._append("&")
        return i + 1

    def _start_tag(self, begin: int) -> int:
        i = begin + 1
        while self.at(i) not in _SPACES and self.at(i) != _GT:
            i += 1
        if self.at(i) == 0:
            raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
        name = self.data[begin + 1 : i].decode("utf-8", errors="replace").lower()
        if name not in SUPPORTED_TAGS:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {begin}')

        argument = ""
        while self.at(i) != _GT:
            while self.at(i) != 0 and self.at(i) in _SPACES:
                i += 1
            if self.at(i) == _GT:
                break
            attribute_begin = i
            while self.at(i) not in _SPACES and self.at(i) not in (_EQ, _GT):
                i += 1
            attribute = self.data[attribute_begin:i]
            if not attribute:
                raise EntityParseError(
                    f'Empty attribute name in the tag "{name}" at byte offset {begin}'
                )
            while self.at(i) != 0 and self.at(i) in _SPACES:
                i += 1
            if self.at(i) != _EQ:
                if name == "blockquote" and attribute == b"expandable":
                    argument = "1"
                continue
            i += 1
            while self.at(i) != 0 and self.at(i) in _SPACES:
                i += 1
            if self.at(i) == 0:
                raise EntityParseError(f'Unclosed start tag "{name}" at byte offset {begin}')
            value, i = self._attribute_value(i)
            if self.at(i) == 0:
                raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
            argument = _tag_argument(name, attribute, value, argument)

        if name == "span" and argument != "spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {begin}'
            )
        self.open.append(_OpenTag(name, argument, self.utf16, len(self.out)))
        return i + 1

    def _attribute_value(self, i: int) -> tuple[str, int]:
        if self.at(i) not in _QUOTES:
            # An unquoted value is an SGML name token: letters, digits, periods and hyphens.
            token_begin = i
            while self.at(i) in _NAME_TOKEN and self.at(i) != 0:
                i += 1
            if self.at(i) not in _SPACES and self.at(i) != _GT:
                raise EntityParseError(
                    f"Unexpected end of name token at byte offset {token_begin}"
                )
            return self.data[token_begin:i].decode("ascii").lower(), i
        quote = self.at(i)
        i += 1
        value = ""
        while self.at(i) != quote and self.at(i) != 0:
            if self.at(i) == _AMP:
                decoded = _decode_entity(self.data, i)
                if decoded is not None:
                    value += decoded[0]
                    i = decoded[1]
                    continue
                if self.strict_ampersands:
                    raise EntityParseError(_ampersand_detail(self.data, i))
            start = i
            i += 1
            while self.at(i) not in (quote, _AMP, 0):
                i += 1
            value += self.data[start:i].decode("utf-8", errors="replace")
        if self.at(i) == quote:
            i += 1
        return value, i

    def _end_tag(self, begin: int) -> int:
        if not self.open:
            raise EntityParseError(f"Unexpected end tag at byte offset {begin}")
        i = begin + 2
        while self.at(i) not in _SPACES and self.at(i) != _GT:
            i += 1
        end_name = self.data[begin + 2 : i].decode("utf-8", errors="replace").lower()
        while self.at(i) != 0 and self.at(i) in _SPACES:
            i += 1
        if self.at(i) != _GT:
            raise EntityParseError(f"Unclosed end tag at byte offset {begin}")
        tag = self.open[-1]
        if end_name and end_name != tag.name:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {begin}, expected "</{tag.name}>", '
                f'found "</{end_name}>"'
            )
        if self.utf16 > tag.utf16_offset:
            self._close(tag)
        self.open.pop()
        return i + 1

    def _close(self, tag: _OpenTag) -> None:
        offset, length = tag.utf16_offset, self.utf16 - tag.utf16_offset
        last = self.entities[-1] if self.entities else None
        same_span = last is not None and last.offset == offset and last.length == length
        if tag.name in _SIMPLE_TAGS:
            self.entities.append(Entity(_SIMPLE_TAGS[tag.name], offset, length))
        elif tag.name == "tg-emoji":
            if not tag.argument.isdigit() or int(tag.argument) == 0 or int(tag.argument) >= 2**63:
                raise EntityParseError("Invalid custom emoji identifier specified")
            self.entities.append(
                Entity("custom_emoji", offset, length, custom_emoji_id=tag.argument)
            )
        elif tag.name == "a":
            target = tag.argument or self.out[tag.byte_offset :].decode("utf-8")
            url = normalize_link(target)
            # Telegram drops a link it can't use and keeps the text, without an error.
            if url is not None:
                self.entities.append(Entity("text_link", offset, length, url=url))
        elif tag.name == "pre":
            if same_span and last is not None and last.type == "code" and last.language:
                self.entities[-1] = Entity("pre", offset, length, language=last.language)
            else:
                self.entities.append(Entity("pre", offset, length))
        elif tag.name == "code":
            if same_span and last is not None and last.type == "pre" and tag.argument:
                self.entities[-1] = Entity("pre", offset, length, language=tag.argument)
            else:
                # The language is kept only until a surrounding <pre> closes and claims it.
                self.entities.append(Entity("code", offset, length, language=tag.argument or None))
        elif tag.name == "blockquote":
            kind = "expandable_blockquote" if tag.argument == "1" else "blockquote"
            self.entities.append(Entity(kind, offset, length))


def _tag_argument(tag: str, attribute: bytes, value: str, current: str) -> str:
    if tag == "a" and attribute == b"href":
        return value
    if tag == "code" and attribute == b"class" and value.startswith("language-"):
        return value.removeprefix("language-")
    if tag == "span" and attribute == b"class" and value.startswith("tg-"):
        return value.removeprefix("tg-")
    if tag == "tg-emoji" and attribute == b"emoji-id":
        return value
    if tag == "blockquote" and attribute == b"expandable":
        return "1"
    return current


def _decode_entity(data: bytes, pos: int) -> tuple[str, int] | None:
    """The character an ``&...`` reference at ``pos`` stands for and the index after it."""

    def at(index: int) -> int:
        return data[index] if index < len(data) else 0

    end = pos + 1
    code = 0
    if at(end) == ord("#"):
        end += 1
        hexadecimal = at(end) == ord("x")
        if hexadecimal:
            end += 1
        digits = _HEX if hexadecimal else _DIGITS
        while at(end) in digits and at(end) != 0:
            code = code * (16 if hexadecimal else 10) + int(chr(at(end)), 16)
            end += 1
            if code >= 0x10FFFF:
                return None
        if code == 0 or end - pos >= 10 or 0xD800 <= code <= 0xDFFF:
            return None
        character = chr(code)
    else:
        while at(end) in _ALPHA and at(end) != 0:
            end += 1
        named = _NAMED_ENTITIES.get(data[pos + 1 : end])
        if named is None:
            return None
        character = named
    return character, end + 1 if at(end) == _SEMI else end


def _ampersand_detail(data: bytes, pos: int) -> str:
    match = re.match(rb"&#?[A-Za-z0-9]+;", data[pos:])
    if match:
        reference = match.group().decode("ascii")
        return f'Unsupported HTML entity "{reference}" at byte offset {pos}'
    return f'Character "&" must be escaped as "&amp;" at byte offset {pos}'


def normalize_link(url: str) -> str | None:
    """The URL Telegram stores for a text link, or None when it drops the link."""
    url = url.strip()
    scheme, separator, rest = url.partition(":")
    has_scheme = bool(separator) and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme) is not None
    if has_scheme and scheme.lower() in {"tg", "ton", "tonsite"}:
        return url if rest else None
    if has_scheme and scheme.lower() not in {"http", "https"}:
        # "host:port/path" has no scheme even though it contains a colon.
        if not re.fullmatch(r"\d+(/.*)?", rest):
            return None
        has_scheme = False
    if not has_scheme:
        url = f"http://{url}"
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port that isn't a number in range
    except ValueError:
        return None
    host = parts.hostname or ""
    if not (_HOST.match(host) or ":" in host):
        return None
    if not has_scheme and "." not in host:
        return None
    normalized = f"{parts.scheme.lower()}://{parts.netloc}{parts.path or '/'}"
    if parts.query:
        normalized += f"?{parts.query}"
    if parts.fragment:
        normalized += f"#{parts.fragment}"
    return normalized
