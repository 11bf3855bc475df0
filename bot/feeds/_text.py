"""Turning feed text, HTML or not, into clean plain text of bounded length."""

from __future__ import annotations

import html
import re

# Hand-written scanning instead of html.parser: on hostile input (``"</" * 32000``) CPython
# 3.11's HTMLParser is quadratic, and ``"<![" * n`` makes it raise AssertionError. Every
# pattern here stops at the next "<" or ">", so the work stays linear in the input.
_HIDDEN_START = re.compile(r"<!--|<(script|style|template)\b", re.IGNORECASE)
_HIDDEN_END = {
    "script": re.compile(r"</script\s*>", re.IGNORECASE),
    "style": re.compile(r"</style\s*>", re.IGNORECASE),
    "template": re.compile(r"</template\s*>", re.IGNORECASE),
}
_COMMENT_END = re.compile(r"-->")
_CDATA_MARKER = re.compile(r"<!\[CDATA\[|\]\]>")
_TAG = re.compile(r"<(?:/?([A-Za-z][\w:.-]*+)|[!?])[^<>]*+>")
# Elements that sit inside a word ("<b>un</b>likely"); any other tag separates words.
_INLINE_TAGS = frozenset(
    {
        "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "del", "dfn", "em", "font",
        "i", "ins", "kbd", "mark", "q", "s", "samp", "small", "span", "strike", "strong",
        "sub", "sup", "time", "tt", "u", "var", "wbr",
    }
)  # fmt: skip
_WHITESPACE = re.compile(r"\s+")
# C0/C1 controls (whitespace among them is collapsed instead), soft hyphen, zero-width
# space, bidi overrides and isolates, BOM and non-characters: invisible, or able to
# scramble how the rest of a line is displayed.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u00ad\u200b\u200e\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufffe\uffff]"
)
_SURROGATE = re.compile("[\ud800-\udfff]")
ELLIPSIS = "…"


def strip_hidden(markup: str) -> str:
    """``markup`` without comments and the contents of script, style and template."""
    pieces: list[str] = []
    position = 0
    while True:
        start = _HIDDEN_START.search(markup, position)
        if start is None:
            pieces.append(markup[position:])
            break
        pieces.append(markup[position : start.start()])
        name = start.group(1)
        closer = _COMMENT_END if name is None else _HIDDEN_END[name.lower()]
        end = closer.search(markup, start.end())
        if end is None:
            break
        pieces.append(" ")
        position = end.end()
    return "".join(pieces)


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment: tags dropped, entities decoded, whitespace collapsed."""
    text = _CDATA_MARKER.sub("", strip_hidden(markup))
    text = _TAG.sub(_tag_replacement, text)
    return normalize(html.unescape(text))


def normalize(text: str) -> str:
    """Invisible and control characters dropped, whitespace (``&nbsp;`` too) collapsed."""
    text = _SURROGATE.sub("\ufffd", text)
    text = _INVISIBLE.sub("", text)
    return _WHITESPACE.sub(" ", text).strip()


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, at a word boundary when there is one."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—") + ELLIPSIS


def clean(raw: object, limit: int, *, html: bool = True) -> str:
    """Clean plain text of at most ``limit`` characters from whatever a feed put in a field.

    ``html``: whether the feed declared the field as markup. Text declared as text keeps
    what looks like tags or entities ("The <template> tag", "AT&amp;T"): the publisher
    wrote those characters, and they are escaped where text meets Telegram's markup.
    """
    if not isinstance(raw, str) or not raw:
        return ""
    # The text kept is short; the markup read to find it need not be much longer.
    raw = raw[: limit * 64]
    return truncate(html_to_text(raw) if html else normalize(raw), limit)


def _tag_replacement(match: re.Match[str]) -> str:
    name = match.group(1)
    return "" if name is not None and name.lower() in _INLINE_TAGS else " "
