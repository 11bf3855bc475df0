"""Parsing a fetched body (RSS, Atom, JSON Feed) into clean entries; finding feeds in HTML."""

from __future__ import annotations

import codecs
import collections
import dataclasses
import datetime as dt
import functools
import hashlib
import html
import html.entities
import io
import itertools
import json
import re
import time
import urllib.parse
import xml.sax
from collections.abc import Iterable, Mapping
from typing import Any

import feedparser
import webencodings

from bot.domain import HeraldError, ParsedEntry, ParsedFeed
from bot.feeds import _text

MAX_ENTRIES = 1000
TITLE_LIMIT = 500
SUMMARY_LIMIT = 4000
AUTHOR_LIMIT = 200
LINK_LIMIT = 2048
# Past this an entry key is replaced by its hash, so that storage can index keys.
KEY_LIMIT = 512
# feedparser spends 10-20 µs and up to 400 bytes per XML element, even on elements it
# ignores: 10 MiB of "<p>" costs 50 s and a gigabyte. Entries past this many tags are
# dropped; real feeds carry a few dozen tags an entry (escaped HTML and CDATA are text).
MAX_XML_TAGS = 100_000
# json.loads builds every object and array before we can look at one: 10 MiB of "{}," is
# 300 MB of dicts. A JSON Feed of MAX_ENTRIES items needs a few thousand.
MAX_JSON_CONTAINERS = 200_000
# Clocks drift and servers round; past this a date ahead of first sight is no date at all.
FUTURE_TOLERANCE = dt.timedelta(minutes=10)
UNTITLED = "(untitled)"
# A title made up from an entry's text is kept shorter than a real one.
_DERIVED_TITLE_LIMIT = 100

HTML_PAGE = "this is an HTML page, not a feed"
EMPTY = "empty response"

_FEED_LINK_TYPES = {
    "application/rss+xml": 0,
    "application/atom+xml": 0,
    "application/feed+json": 1,
    "application/json": 2,
}
_DISCOVERY_SCAN_LIMIT = 1024 * 1024


class FeedParseError(HeraldError):
    """The body is not a feed Herald can read; ``user_message`` says why, for an admin."""


def parse_feed(
    body: bytes,
    *,
    url: str,
    content_type: str | None,
    now: dt.datetime,
    max_entries: int = MAX_ENTRIES,
    max_tags: int = MAX_XML_TAGS,
) -> ParsedFeed:
    """Parse RSS 0.9x/1.0/2.0, Atom 0.3/1.0 or JSON Feed 1.x; pure and CPU-bound.

    ``url`` is where the body came from (the base for relative links); ``now`` (aware)
    decides which dates are too far in the future to believe. At most ``max_entries``
    entries are kept, the first ones in feed order, one per key, and only as many as fit
    in ``max_tags`` XML tags. Raises FeedParseError when nothing usable is there.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    text = _decode(body, content_type).lstrip("\ufeff \t\r\n")
    if not text:
        raise FeedParseError(EMPTY)
    media_type = _media_type(content_type)
    if text.startswith(("{", "[")):
        return _parse_json_feed(text, url=url, now=now, max_entries=max_entries)
    if not text.startswith("<"):
        if media_type in ("application/json", "application/feed+json"):
            return _parse_json_feed(text, url=url, now=now, max_entries=max_entries)
        raise FeedParseError("not a feed: the response is neither XML nor JSON")
    if _HTML_DOCUMENT.match(text[:4096]):
        raise FeedParseError(HTML_PAGE)
    return _parse_xml_feed(
        text, url=url, media_type=media_type, now=now, max_entries=max_entries, max_tags=max_tags
    )


def discover_feed_links(body: bytes, *, url: str) -> list[str]:
    """Absolute URLs of the feeds an HTML page links to with ``<link rel="alternate">``.

    RSS and Atom come first, then JSON Feed, then plain ``application/json`` (which is
    sometimes an API rather than a feed); within a kind, in page order.
    """
    page = _text.strip_hidden(body[:_DISCOVERY_SCAN_LIMIT].decode("utf-8", "replace"))
    base = url
    for tag in _BASE_TAG.finditer(page):
        href = _attributes(tag.group(0)).get("href")
        if href:
            base = _join(url, href) or url
            break
    found: list[tuple[int, str]] = []
    for tag in _LINK_TAG.finditer(page):
        attributes = _attributes(tag.group(0))
        rel = attributes.get("rel", "").lower().split()
        kind = _media_type(attributes.get("type"))
        href = attributes.get("href", "")
        if "alternate" not in rel or kind not in _FEED_LINK_TYPES or not href:
            continue
        link = _resolve_link(href, base)
        if link and all(link != seen for _, seen in found):
            found.append((_FEED_LINK_TYPES[kind], link))
    return [link for _, link in sorted(found, key=lambda pair: pair[0])]


# --- decoding ----------------------------------------------------------------------------

_XML_ENCODING = re.compile(
    rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})"""
)
# Characters XML 1.0 forbids: a single NUL makes expat give up on the whole document.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# A character that valid multi-byte UTF-8 produced.
_DECODED_NON_ASCII = re.compile("[^\x00-\x7f\ufffd]")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _decode(body: bytes, content_type: str | None) -> str:
    """The body as text, whatever its declarations claim, with no character XML forbids.

    Valid UTF-8 is taken as UTF-8 even when declared otherwise: text in a legacy encoding
    almost never happens to be valid UTF-8, and "UTF-8 served as ISO-8859-1" is the most
    common wrong declaration. Otherwise the declared encodings (HTTP charset, then the XML
    declaration) are tried as browsers read their labels, and the first that decodes
    cleanly wins; one that can reject bytes (Shift_JIS, GBK) goes before one that takes
    any byte (windows-1252), whose clean decoding proves nothing. Invalid UTF-8 that is
    mostly UTF-8 gets U+FFFD for its bad bytes rather than turning every accent in the
    feed into mojibake.
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return _NOT_XML.sub("", body[len(bom) :].decode(encoding, "replace"))
    sniffed = _sniff_wide_encoding(body[:4])
    if sniffed is not None:
        return _NOT_XML.sub("", body.decode(sniffed, "replace"))
    try:
        return _NOT_XML.sub("", body.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    declared = sorted(_declared_codecs(body, content_type), key=_takes_any_byte)
    for codec in declared:
        try:
            return _NOT_XML.sub("", body.decode(codec))
        except UnicodeDecodeError:
            continue
    text = body.decode("utf-8", "replace")
    if not _DECODED_NON_ASCII.search(text):
        # Not one valid UTF-8 sequence among the high bytes: the declared encoding with a
        # few bad bytes, or else a legacy single-byte one, and on the web that is
        # windows-1252 far more often than anything else.
        fallback = declared[0] if declared else "windows-1252"
        text = body.decode(fallback, "replace")
    return _NOT_XML.sub("", text)


def _sniff_wide_encoding(head: bytes) -> str | None:
    if len(head) < 4:
        return None
    if head[0] == head[1] == head[2] == 0 and head[3]:
        return "utf-32-be"
    if head[0] and head[1] == head[2] == head[3] == 0:
        return "utf-32-le"
    if head[0] == 0 and head[1] and head[2] == 0:
        return "utf-16-be"
    if head[0] and head[1] == 0 and head[2] and head[3] == 0:
        return "utf-16-le"
    return None


def _declared_codecs(body: bytes, content_type: str | None) -> list[str]:
    """Python codecs for the labels the HTTP charset and the XML declaration give, in order.

    Labels mean what the WHATWG Encoding Standard says, as in browsers: "gb2312" is GBK,
    "shift_jis" Windows-31J, "big5" Big5-HKSCS, "iso-8859-1" and "us-ascii" windows-1252.
    Python's codecs of those names are the narrower originals, which reject the very
    characters publishers' tools write. Unknown labels are skipped, and so are UTF-16
    ones: the bytes were not UTF-16, or the BOM or sniffing above would have said so.
    """
    labels = [_content_type_parameter(content_type, "charset")]
    match = _XML_ENCODING.match(body[:512])
    if match:
        labels.append(match.group(1).decode("ascii"))
    codecs_found: list[str] = []
    for label in labels:
        encoding = webencodings.lookup(label) if label else None
        # "replacement" (ISO-2022-KR and the like) decodes to a single U+FFFD in browsers,
        # for safety in HTML; a feed reader loses nothing by trying the other label.
        if encoding is None or encoding.name in _NOT_DECODABLE:
            continue
        codec = str(encoding.codec_info.name)
        if codec not in codecs_found:
            codecs_found.append(codec)
    return codecs_found


_NOT_DECODABLE = frozenset({"replacement", "x-user-defined", "utf-16le", "utf-16be"})


@functools.cache
def _takes_any_byte(codec: str) -> bool:
    """Whether ``codec`` decodes every byte sequence, so that decoding proves nothing."""
    try:
        bytes(range(256)).decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _content_type_parameter(content_type: str | None, name: str) -> str | None:
    for parameter in (content_type or "").split(";")[1:]:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == name:
            return value.strip().strip("\"'") or None
    return None


# --- XML (RSS and Atom, through feedparser) -------------------------------------------------

_HTML_DOCUMENT = re.compile(
    r"(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])",
    re.IGNORECASE | re.DOTALL,
)
_HTML_ANYWHERE = re.compile(r"<(?:html|head|body)[\s>]", re.IGNORECASE)
_DOCTYPE = re.compile(r"<!DOCTYPE", re.IGNORECASE)
_ENTITY_DECLARATION = re.compile(
    r"""<!ENTITY\s+(%\s+)?[^\s"']+\s+(?:"([^"]*)"|'([^']*)'|)""", re.IGNORECASE
)
_CHARACTER_REFERENCE = re.compile(r"&#(?:[0-9]{1,7}|x[0-9A-Fa-f]{1,6});")
_ITEM_START = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s/>]")
_OPEN_OR_CLOSE_TAG = re.compile(r"<(/?)([A-Za-z_][\w:.-]*+)[^<>]*+>")
_CDATA_START = "<![CDATA["
_CDATA_END = "]]>"


# An "&" that XML can't read: bare ("AT&T", "Q&A") or naming an HTML entity XML doesn't
# define ("&nbsp;", "&copy;"). Either makes the document ill-formed, and feedparser's
# fallback parser then mangles text ("AT&T;") and links ("?a=1&ampb=2").
_AMPERSAND = re.compile(r"&(?:(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);)?")
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})


def _xml_reference(match: re.Match[str]) -> str:
    name = match[1]
    if name is None:
        return "&amp;"
    if name.startswith("#") or name in _XML_ENTITIES:
        return match[0]
    codepoint = html.entities.name2codepoint.get(name)
    return f"&#{codepoint};" if codepoint is not None else f"&amp;{name};"


def _escape_bare_ampersands(text: str) -> str:
    """Make every "&" outside CDATA sections (where "&" is text already) one XML can read.

    HTML entity names become character references; a bare or unknown one is escaped, so
    it reads as the text it is.
    """
    if "&" not in text:
        return text
    parts, position = [], 0
    while (start := text.find(_CDATA_START, position)) != -1:
        end = text.find(_CDATA_END, start)
        end = len(text) if end == -1 else end + len(_CDATA_END)
        parts.append(_AMPERSAND.sub(_xml_reference, text[position:start]))
        parts.append(text[start:end])
        position = end
    parts.append(_AMPERSAND.sub(_xml_reference, text[position:]))
    return "".join(parts)


def _parse_xml_feed(
    text: str, *, url: str, media_type: str, now: dt.datetime, max_entries: int, max_tags: int
) -> ParsedFeed:
    _refuse_entity_declarations(text)
    text = _bounded(text, max_entries, max_tags)
    text = _NUMERIC_REFERENCE.sub(_without_forbidden_character, text)
    text = _escape_bare_ampersands(text)

    try:
        # A file object, never bytes or a string: feedparser treats a string that looks like
        # a URL as one to fetch, and bytes that name a local file as that file. And no
        # Content-Location: feedparser would resolve relative permalink guids against it,
        # and entry keys would change when the feed moves. Links are resolved below.
        result = feedparser.parse(
            io.BytesIO(text.encode("utf-8")),
            response_headers={"content-type": "application/xml; charset=utf-8"},
            resolve_relative_uris=False,
            sanitize_html=False,
        )
    except Exception as error:
        # feedparser's fallback parser can trip over hostile markup in ways nobody listed:
        # that is a bad feed, not a bug of ours.
        raise FeedParseError(
            f"not a feed: the XML parser failed ({type(error).__name__})"
        ) from error

    feed: Mapping[str, Any] = result.get("feed", {})
    # Atom declares what its texts are; RSS can't, and feedparser guesses.
    declared = str(result.get("version", "")).startswith("atom")
    title = _text.clean(
        feed.get("title"), TITLE_LIMIT, html=_is_html(feed.get("title_detail"), declared)
    )
    entries = result.get("entries", [])
    usable = bool(entries) or (bool(result.get("version")) and (not result.get("bozo") or title))
    if not usable:
        if media_type == "text/html" or _HTML_ANYWHERE.search(text[:65536]):
            raise FeedParseError(HTML_PAGE)
        raise FeedParseError(f"not a feed: {_describe_xml_error(result.get('bozo_exception'))}")

    link = _resolve_link(feed.get("link"), url)
    return ParsedFeed(
        title=title,
        link=link,
        entries=_identify(
            (_feedparser_entry(entry, url=url, now=now, declared=declared) for entry in entries),
            homes=(link, url),
            base=url,
            limit=max_entries,
        ),
    )


# A reference to a character XML forbids (&#0;, &#xD800;, &#1114112;) is fatal to expat,
# and feedparser's fallback parser raises on those out of Unicode's range: one such
# reference cost the whole feed.
_NUMERIC_REFERENCE = re.compile(r"&#(?:[xX]0*([0-9A-Fa-f]{1,8})|0*([0-9]{1,10}));")


def _without_forbidden_character(reference: re.Match[str]) -> str:
    hexadecimal, decimal = reference.groups()
    code = int(hexadecimal, 16) if hexadecimal is not None else int(decimal or "0")
    allowed = (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )
    return reference.group(0) if allowed else ""


def _refuse_entity_declarations(text: str) -> None:
    """Refuse any DOCTYPE that declares an entity other than a single character.

    feedparser drops nested entity declarations ("billion laughs") but keeps literal ones,
    and its fallback parser expands them without limit: a 100 KB entity used 1,000 times
    is a 100 MB title. Expat (2.4+) stops amplification at 100 times the input, which for
    a 10 MiB feed is still a gigabyte. Entities can only be declared in a DOCTYPE; a feed
    without one is left alone, and every declaration after one is checked, wherever it
    hides.
    """
    doctype = _DOCTYPE.search(text)
    if doctype is None:
        return
    for declaration in _ENTITY_DECLARATION.finditer(text, doctype.start()):
        parameter, double_quoted, single_quoted = declaration.groups()
        value = double_quoted if double_quoted is not None else single_quoted
        if parameter or value is None or not _CHARACTER_REFERENCE.fullmatch(value):
            raise FeedParseError(
                "not a feed Herald will read: it declares XML entities, which are refused "
                "for safety"
            )


def _bounded(text: str, max_entries: int, max_tags: int) -> str:
    """The document cut before the first entry past ``max_entries`` or ``max_tags``, closed.

    feedparser builds every entry, and every element inside one, before we can drop any:
    cutting first keeps a feed of 100,000 tiny items, or of a million tags, from costing
    seconds and hundreds of megabytes. The cut falls between entries, and the elements
    open there are closed, so the entries before it parse as they would have.
    """
    starts = [
        match.start() for match in itertools.islice(_ITEM_START.finditer(text), max_entries + 1)
    ]
    cut = starts[max_entries] if len(starts) > max_entries else len(text)
    if _count_tags(text, 0, cut) > max_tags:
        over = _tag_position(text, max_tags + 1)
        before = [start for start in starts if start < over]
        if len(before) < 2:
            raise FeedParseError(
                f"not a feed Herald will read: more than {max_tags:,} XML tags "
                "before its second entry"
            )
        cut = before[-1]
    if cut == len(text):
        return text
    return text[:cut] + "".join(
        f"</{name}>" for name in reversed(_open_elements(text[: starts[0]]))
    )


def _open_elements(head: str) -> list[str]:
    """The elements still open at the end of ``head``, outermost first."""
    open_elements: list[str] = []
    for tag in _OPEN_OR_CLOSE_TAG.finditer(_without_cdata(_text.strip_hidden(head))):
        closing, name = tag.groups()
        if tag.group(0).endswith("/>"):
            continue
        if not closing:
            open_elements.append(name)
        elif name in open_elements:
            del open_elements[len(open_elements) - 1 - open_elements[::-1].index(name) :]
    return open_elements


def _without_cdata(text: str) -> str:
    pieces = []
    position = 0
    while (start := text.find(_CDATA_START, position)) != -1:
        pieces.append(text[position:start])
        end = text.find(_CDATA_END, start)
        if end == -1:
            return "".join(pieces)
        position = end + len(_CDATA_END)
    pieces.append(text[position:])
    return "".join(pieces)


def _count_tags(text: str, start: int, end: int) -> int:
    """How many "<" in ``text[start:end]`` start markup: those inside CDATA are text."""
    count = text.count("<", start, end)
    position = start
    while (section := text.find(_CDATA_START, position, end)) != -1:
        close = text.find(_CDATA_END, section, end)
        close = end if close == -1 else close
        count -= text.count("<", section + 1, close)
        position = close
    return count


def _tag_position(text: str, number: int) -> int:
    """Where the ``number``-th "<" that starts markup is (the caller knows there is one)."""
    seen = 0
    position = 0
    while (found := text.find("<", position)) != -1:
        seen += 1
        if seen == number:
            return found
        if text.startswith(_CDATA_START, found):
            close = text.find(_CDATA_END, found)
            position = len(text) if close == -1 else close
        else:
            position = found + 1
    return len(text)


def _describe_xml_error(error: object) -> str:
    if isinstance(error, xml.sax.SAXParseException):
        return f"{error.getMessage()} at line {error.getLineNumber()}"
    if isinstance(error, Exception):
        return str(error)[:200] or type(error).__name__
    return "no RSS, Atom or JSON Feed content"


def _feedparser_entry(
    entry: dict[str, Any], *, url: str, now: dt.datetime, declared: bool
) -> ParsedEntry | None:
    # dict.get, not FeedParserDict.get: that one maps keys onto others and warns
    # (DeprecationWarning) when asked for an updated_parsed the entry lacks.
    text, text_detail = dict.get(entry, "summary"), dict.get(entry, "summary_detail")
    if not text:
        contents = dict.get(entry, "content") or []
        text_detail = next((c for c in contents if c.get("value")), None)
        text = text_detail.get("value") if text_detail else None
    author_detail = dict.get(entry, "author_detail") or {}
    date_field = next(
        (field for field in ("published", "updated") if dict.get(entry, f"{field}_parsed")), None
    )
    published = (
        _from_struct_time(dict.get(entry, f"{date_field}_parsed"), now) if date_field else None
    )
    return _make_entry(
        raw_key=dict.get(entry, "id"),
        link=_feedparser_link(entry, url),
        title=_text.clean(
            dict.get(entry, "title"),
            TITLE_LIMIT,
            html=_is_html(dict.get(entry, "title_detail"), declared),
        ),
        summary=_text.clean(text, SUMMARY_LIMIT, html=_is_html(text_detail, declared)),
        published=published,
        raw_date=dict.get(entry, date_field) if date_field else None,
        raw_author=author_detail.get("name") or dict.get(entry, "author"),
    )


_HTML_LINK_TYPES = frozenset({"", "text/html", "application/xhtml+xml"})


def _feedparser_link(entry: dict[str, Any], base: str) -> str:
    # Not feedparser's own "link": that is whichever <link> it saw last, and for an Atom
    # <link rel="enclosure"> written with its URL as text instead of href, the image.
    links = [link for link in dict.get(entry, "links") or [] if isinstance(link, Mapping)]
    alternates = [link for link in links if _relation(link) == "alternate"]
    identifier = dict.get(entry, "id")
    if not _is_absolute_http(identifier) and (
        dict.get(entry, "link") != identifier or _is_placeholder(identifier)
    ):
        # A relative id is a link only where feedparser took it for one: an RSS guid that
        # is a permalink (isPermaLink="true", the default) of an item without <link>, and
        # not "0" or "none".
        identifier = None
    return _story_link(
        html=[
            link.get("href")
            for link in alternates
            if _media_type(link.get("type")) in _HTML_LINK_TYPES
        ],
        alternates=[link.get("href") for link in alternates],
        identifier=identifier,
        enclosures=[link.get("href") for link in links if _relation(link) == "enclosure"],
        base=base,
    )


def _relation(link: Mapping[str, Any]) -> str:
    # Atom allows a registered relation by its full IANA URI as well as by its name.
    rel = str(link.get("rel") or "alternate").strip().lower()
    return rel.removeprefix("http://www.iana.org/assignments/relation/")


def _is_absolute_http(value: object) -> bool:
    return isinstance(value, str) and value.strip().lower().startswith(("http://", "https://"))


# A closing tag or an entity reference: what markup has and plain text almost never does.
_LOOKS_LIKE_MARKUP = re.compile(
    r"</[A-Za-z][\w:.-]*\s*>|&(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#[xX][0-9A-Fa-f]+);"
)


def _is_html(detail: object, declared: bool) -> bool:
    """Whether a text, by feedparser's detail of it, is markup to strip.

    Atom declares it (``declared``: type="text", "html" or "xhtml"). RSS can't, and
    feedparser calls a text HTML only if all its tags are ones it deems safe, so escaped
    markup with a <script> in it would be shown as tags; here a closing tag of any name or
    an entity reference makes an RSS text HTML, and "Q3 results for <ACME>" stays text.
    A text without a detail is taken as HTML, as RSS descriptions are.
    """
    if not isinstance(detail, Mapping):
        return True
    if detail.get("type") != "text/plain":
        return True
    value = detail.get("value")
    return not declared and isinstance(value, str) and bool(_LOOKS_LIKE_MARKUP.search(value))


def _from_struct_time(value: object, now: dt.datetime) -> dt.datetime | None:
    if not isinstance(value, time.struct_time):
        return None
    try:
        published = dt.datetime(*value[:6], tzinfo=dt.UTC)
    except (ValueError, OverflowError):
        return None
    return _believable(published, now)


# --- JSON Feed ------------------------------------------------------------------------------

_JSON_FEED_VERSION = re.compile(r"https?://jsonfeed\.org/version/1(?:\.\d+)?/?")


def _parse_json_feed(text: str, *, url: str, now: dt.datetime, max_entries: int) -> ParsedFeed:
    if text.count("{") + text.count("[") > MAX_JSON_CONTAINERS:
        raise FeedParseError(
            f"not a feed Herald will read: more than {MAX_JSON_CONTAINERS:,} JSON objects"
        )
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise FeedParseError("not a feed: invalid JSON") from error
    version = document.get("version") if isinstance(document, dict) else None
    if not isinstance(version, str) or not _JSON_FEED_VERSION.fullmatch(version.strip()):
        raise FeedParseError("not a feed: JSON, but not a JSON Feed (no jsonfeed.org version)")
    items = document.get("items")
    if not isinstance(items, list):
        raise FeedParseError("not a feed: a JSON Feed without an items list")

    link = _resolve_link(document.get("home_page_url"), url)
    return ParsedFeed(
        title=_text.clean(document.get("title"), TITLE_LIMIT, html=False),
        link=link,
        entries=_identify(
            (_json_feed_entry(item, url=url, now=now) for item in items if isinstance(item, dict)),
            homes=(link, url),
            base=url,
            limit=max_entries,
        ),
    )


def _json_feed_entry(item: Mapping[str, Any], *, url: str, now: dt.datetime) -> ParsedEntry | None:
    raw_key = item.get("id")
    if isinstance(raw_key, int | float) and not isinstance(raw_key, bool):
        raw_key = str(raw_key)
    # JSON Feed's fields say what they hold: only content_html is HTML.
    text_field = next(
        (field for field in ("summary", "content_text", "content_html") if item.get(field)), None
    )
    authors = item.get("authors")
    author = authors[0] if isinstance(authors, list) and authors else item.get("author")
    raw_date = next(
        (
            item[field]
            for field in ("date_published", "date_modified")
            if _from_iso(item.get(field))
        ),
        None,
    )
    published = _from_iso(raw_date)
    return _make_entry(
        raw_key=raw_key,
        link=_story_link(
            html=[item.get("url")],
            alternates=[item.get("external_url")],
            identifier=raw_key if _is_absolute_http(raw_key) else None,
            enclosures=[
                attachment.get("url")
                for attachment in item.get("attachments") or []
                if isinstance(attachment, dict)
            ],
            base=url,
        ),
        title=_text.clean(item.get("title"), TITLE_LIMIT, html=False),
        summary=_text.clean(
            item.get(text_field) if text_field else None,
            SUMMARY_LIMIT,
            html=text_field == "content_html",
        ),
        published=_believable(published, now) if published else None,
        raw_date=raw_date,
        raw_author=author.get("name") if isinstance(author, dict) else None,
    )


def _from_iso(value: object) -> dt.datetime | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError:
        return None


# --- entries -------------------------------------------------------------------------------


def _make_entry(
    *,
    raw_key: object,
    link: str,
    title: str,
    summary: str,
    published: dt.datetime | None,
    raw_date: object,
    raw_author: object,
) -> ParsedEntry | None:
    """One clean entry, or None when the feed gave nothing to identify or show.

    Its ``key`` is the publisher's (the id, else the link, else empty) until ``_identify``
    has seen the whole document and decided whether to trust it.
    """
    key = _text.normalize(raw_key) if isinstance(raw_key, str) else ""
    if not key:
        key = link
    if not (key or title or summary):
        return None
    written_date = _text.normalize(raw_date) if isinstance(raw_date, str) else ""
    # What tells one story from another when the publisher's key can't: its title, link
    # and date. Without a link: title and text, as entries with neither id nor link have
    # always been keyed, so that an upgrade doesn't make them new again.
    content = f"{title}\n{link}\n{written_date}" if link else f"{title}\n{summary}"
    if not title:
        title = _text.truncate(summary, _DERIVED_TITLE_LIMIT) if summary else UNTITLED
    return ParsedEntry(
        key=key,
        title=title,
        summary=summary,
        link=link,
        published=published,
        author=_text.clean(raw_author, AUTHOR_LIMIT),
        date_only=published is not None and _without_time(raw_date),
        content_key=_hashed(content),
    )


# Ids that feeds put on every item when their software has none to give.
_PLACEHOLDER_KEYS = frozenset({"0", "-1", "-", "none", "null", "nil", "undefined", "n/a"})


def _identify(
    candidates: Iterable[ParsedEntry | None], *, homes: Iterable[str], base: str, limit: int
) -> tuple[ParsedEntry, ...]:
    """The entries of one document with their final keys: the first ``limit``, one per key.

    The publisher's key is kept only when it identifies one story: not empty, not a
    placeholder, not the feed's own page, and not shared with an item whose content
    differs (every item of a shop's feed with the guid "0" or the front page as link).
    Otherwise the key is derived from the content, and where even that is shared by
    items that differ, from all of it. Items that agree on everything are one entry.
    The trusted key's ``content_key`` stays, for storage to fall back on if the key
    named another story before.
    """
    entries = [entry for entry in itertools.islice(candidates, limit) if entry is not None]
    pages = {_page(home) for home in homes if home}
    stories: dict[str, set[str]] = collections.defaultdict(set)
    for entry in entries:
        stories[entry.key].add(entry.content_key)

    def trusted(key: str) -> bool:
        return (
            bool(key)
            and not _is_placeholder(key)
            and _page(_resolve_link(key, base)) not in pages
            and len(stories[key]) == 1
        )

    identified = [
        dataclasses.replace(
            entry, key=_hashed(entry.key) if len(entry.key) > KEY_LIMIT else entry.key
        )
        if trusted(entry.key)
        else dataclasses.replace(entry, key=entry.content_key, content_key="")
        for entry in entries
    ]
    texts: dict[str, set[str]] = collections.defaultdict(set)
    for entry in identified:
        if not entry.content_key:
            texts[entry.key].add(_everything(entry))
    kept: dict[str, ParsedEntry] = {}
    for entry in identified:
        if not entry.content_key and len(texts[entry.key]) > 1:
            entry = dataclasses.replace(entry, key=_hashed(_everything(entry)))
        kept.setdefault(entry.key, entry)
    return tuple(kept.values())


def _is_placeholder(key: object) -> bool:
    return isinstance(key, str) and _text.normalize(key).casefold() in _PLACEHOLDER_KEYS


def _everything(entry: ParsedEntry) -> str:
    return f"{entry.key}\n{entry.summary}\n{entry.author}"


def _page(url: str) -> tuple[str, str, str, str] | None:
    """What makes two URLs the same page, loosely: host case and a final "/" don't."""
    if not url:
        return None
    parts = urllib.parse.urlsplit(url)
    return (parts.scheme, parts.netloc.lower(), parts.path.rstrip("/"), parts.query)


def _hashed(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()


# A time of day as feeds write one ("10:30", "T10:30:00Z"); "1030" without a colon is rare.
_TIME_OF_DAY = re.compile(r"\d:\d\d")


def _without_time(written: object) -> bool:
    """Whether a date the feed wrote gives a day but no time ("2026-03-14", "14 Mar 2026")."""
    return isinstance(written, str) and not _TIME_OF_DAY.search(written)


def _believable(published: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    """None for a date too far ahead to be true, so that the caller uses first-seen time."""
    return None if published > now + FUTURE_TOLERANCE else published


_URL_WHITESPACE = re.compile(r"\s")


def _story_link(
    *,
    html: Iterable[object],
    alternates: Iterable[object],
    identifier: object,
    enclosures: Iterable[object],
    base: str,
) -> str:
    """The story's link, which alerts give: the first usable candidate, in this order.

    Alternate web pages, other alternates (a PDF, say), the id when it is a web address,
    then enclosures (a podcast's episode file), so that every entry with any address at
    all can be named by /breaking.
    """
    for candidate in itertools.chain(html, alternates, [identifier], enclosures):
        link = _resolve_link(candidate, base)
        if link:
            return link
    return ""


def _resolve_link(raw: object, base: str) -> str:
    """``raw`` made absolute against ``base``; empty unless it is a usable http(s) URL."""
    if not isinstance(raw, str):
        return ""
    return _join(base, raw) or ""


def _join(base: str, raw: str) -> str | None:
    raw = _URL_WHITESPACE.sub(lambda m: urllib.parse.quote(m.group()), raw.strip())
    if not raw:
        return None
    try:
        joined = urllib.parse.urljoin(base, raw)
        parts = urllib.parse.urlsplit(joined)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or len(joined) > LINK_LIMIT:
        return None
    return joined


# --- HTML attributes, for discovery ---------------------------------------------------------

_LINK_TAG = re.compile(r"<link\b[^<>]*+>", re.IGNORECASE)
_BASE_TAG = re.compile(r"<base\b[^<>]*+>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'<>]+)))?""")


def _attributes(tag: str) -> dict[str, str]:
    attributes: dict[str, str] = {}
    # Skip "<link" / "<base" itself.
    for match in _ATTRIBUTE.finditer(tag, 5):
        name = match.group(1).lower()
        value = next((group for group in match.groups()[1:] if group is not None), "")
        attributes.setdefault(name, html.unescape(value))
    return attributes
