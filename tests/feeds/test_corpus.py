"""The parser over a corpus of awkward feeds: nothing crashes, feeds with entries yield them."""

from __future__ import annotations

import datetime as dt
import unicodedata
import urllib.parse
from pathlib import Path

import pytest

from bot.domain import ParsedFeed
from bot.feeds.parser import FeedParseError, parse_feed
from tests.feeds.conftest import NOW

# Small files of our own covering what the feedparser and W3C feed validator test suites
# cover: every RSS version, RDF, CDF, Atom 0.3 and 1.0, JSON Feed 1.0 and 1.1, text
# constructs, links, xml:base, namespaces, dates, encodings, ill-formed XML and hostile
# documents. entries/ must yield entries (some are ill-formed but recoverable),
# no_entries/ is well-formed with none, illformed/ is past repair (entries or a reason,
# nothing else), and refused/ is no feed Herald will read.
CORPUS = Path(__file__).parent / "corpus"


def corpus(kind: str) -> list[Path]:
    return sorted((CORPUS / kind).iterdir())


def parse(path: Path) -> ParsedFeed:
    content_type = "application/feed+json" if path.suffix == ".json" else "application/xml"
    return parse_feed(
        path.read_bytes(),
        url=f"https://corpus.example/{path.name}",
        content_type=content_type,
        now=NOW,
    )


def assert_clean(feed: ParsedFeed) -> None:
    """What every entry Herald stores must be, whatever the feed was like."""
    assert len({entry.key for entry in feed.entries}) == len(feed.entries)
    for entry in feed.entries:
        assert 0 < len(entry.key) <= 512
        assert 0 < len(entry.title) <= 500
        assert len(entry.summary) <= 4000
        for text in (entry.title, entry.summary, entry.author):
            assert text == text.strip()
            assert not any(unicodedata.category(c) in ("Cc", "Cs") for c in text), text
        if entry.link:
            assert urllib.parse.urlsplit(entry.link).scheme in ("http", "https")
        if entry.published is not None:
            assert entry.published.utcoffset() == dt.timedelta(0)
            assert entry.published <= NOW + dt.timedelta(minutes=10)
        assert not entry.date_only or entry.published is not None


@pytest.mark.parametrize("path", corpus("entries"), ids=lambda path: path.name)
def test_a_feed_with_entries_yields_clean_entries(path: Path) -> None:
    feed = parse(path)

    assert feed.entries
    assert_clean(feed)
    if path.name.startswith("enc_") and "bad_byte" not in path.name:
        assert "\ufffd" not in "".join(entry.title for entry in feed.entries)


@pytest.mark.parametrize("path", corpus("no_entries"), ids=lambda path: path.name)
def test_a_well_formed_feed_without_entries_is_an_empty_feed(path: Path) -> None:
    feed = parse(path)

    assert feed.entries == ()


@pytest.mark.parametrize("path", corpus("refused"), ids=lambda path: path.name)
def test_a_document_that_is_no_feed_is_refused_with_a_reason(path: Path) -> None:
    with pytest.raises(FeedParseError) as refused:
        parse(path)

    assert refused.value.user_message


@pytest.mark.parametrize("path", corpus("illformed"), ids=lambda path: path.name)
def test_a_feed_past_repair_yields_clean_entries_or_a_reason(path: Path) -> None:
    try:
        feed = parse(path)
    except FeedParseError:
        # A reason an admin can read: all that a document past repair can get.
        return

    assert_clean(feed)
