"""Tests of parse_feed: every format, clean text and links, and hostile bodies kept bounded."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.domain import HeraldError, ParsedEntry, ParsedFeed
from bot.feeds.parser import FeedParseError, parse_feed
from tests.feeds import samples
from tests.feeds.conftest import NOW

URL = "https://wire.example/news/feed.xml"


def parse(
    body: bytes,
    *,
    content_type: str | None = "application/rss+xml",
    max_entries: int = 1000,
    max_tags: int = 100_000,
) -> ParsedFeed:
    return parse_feed(
        body,
        url=URL,
        content_type=content_type,
        now=NOW,
        max_entries=max_entries,
        max_tags=max_tags,
    )


def rss(*items: str, title: str = "World Wire", prolog: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{prolog}<rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://wire.example/</link>{''.join(items)}"
        "</channel></rss>"
    ).encode()


def item(
    title: str | None = "Headline",
    *,
    guid: str | None = None,
    link: str | None = None,
    description: str | None = None,
    pub_date: str | None = None,
) -> str:
    parts = [
        f"<title>{title}</title>" if title is not None else "",
        f'<guid isPermaLink="false">{guid}</guid>' if guid is not None else "",
        f"<link>{link}</link>" if link is not None else "",
        f"<description>{description}</description>" if description is not None else "",
        f"<pubDate>{pub_date}</pubDate>" if pub_date is not None else "",
    ]
    return "<item>" + "".join(parts) + "</item>"


@contextlib.contextmanager
def bounded(*, seconds: float, megabytes: float) -> Iterator[None]:
    """Asserts that the block ran within a time and a peak of traced memory."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        yield
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < seconds, f"took {elapsed:.2f} s"
    assert peak < megabytes * 1024 * 1024, f"peaked at {peak / 1024 / 1024:.0f} MiB"


# --- formats ---------------------------------------------------------------------------------


def test_rss_091_is_parsed() -> None:
    feed = parse(samples.RSS_091)

    assert feed == ParsedFeed(
        title="World Wire",
        link="https://wire.example/",
        entries=(
            ParsedEntry(
                key="https://wire.example/2024/ceasefire",
                title="Ceasefire talks resume in Geneva",
                summary="Delegations met for a third day.",
                link="https://wire.example/2024/ceasefire",
                published=None,
                author="",
            ),
            ParsedEntry(
                key="https://wire.example/2024/tariffs",
                title="Café owners protest new tariffs",
                summary="Prices rose 12% in a month.",
                link="https://wire.example/2024/tariffs",
                published=None,
                author="",
            ),
        ),
    )


def test_rss_10_is_parsed() -> None:
    feed = parse(samples.RSS_10, content_type="application/rdf+xml")

    assert feed.title == "World Wire (RDF)"
    assert feed.entries == (
        ParsedEntry(
            key="https://wire.example/2024/sanctions",
            title="New sanctions on shipping firms",
            summary="The measures take effect on Monday.",
            link="https://wire.example/2024/sanctions",
            published=dt.datetime(2024, 3, 5, 8, 30, tzinfo=dt.UTC),
            author="Ana Lima",
        ),
    )


def test_rss_20_is_parsed() -> None:
    feed = parse(samples.RSS_20)

    assert feed.title == "World Wire"
    assert feed.link == "https://wire.example/"
    assert feed.entries == (
        ParsedEntry(
            key="wire-2024-0001",
            title="Kim Jong Un visits Moscow",
            summary="The leader arrived by train on Tuesday.",
            link="https://wire.example/2024/kim-moscow",
            published=dt.datetime(2023, 9, 11, 21, 15, tzinfo=dt.UTC),
            author="Jin Park",
        ),
        ParsedEntry(
            key="https://wire.example/2024/grain",
            title="Russia’s grain exports fall",
            summary="Shipments dropped sharply.",
            link="https://wire.example/2024/grain",
            published=dt.datetime(2023, 9, 13, 10, 0, tzinfo=dt.UTC),
            author="",
        ),
    )


def test_atom_03_is_parsed() -> None:
    feed = parse(samples.ATOM_03, content_type="application/atom+xml")

    assert feed.title == "World Wire (Atom 0.3)"
    assert feed.entries == (
        ParsedEntry(
            key="tag:wire.example,2004:old",
            title="Old-style Atom entry",
            summary="Written before Atom 1.0 existed.",
            link="https://wire.example/2004/old",
            published=dt.datetime(2004, 5, 2, 10, 0, tzinfo=dt.UTC),
            author="Old Timer",
        ),
    )


def test_atom_10_is_parsed() -> None:
    feed = parse(samples.ATOM_10, content_type="application/atom+xml")

    assert feed.title == "World Wire (Atom)"
    assert feed.link == "https://wire.example/"
    assert feed.entries == (
        ParsedEntry(
            key="urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a",
            title="Putin & Xi meet in Beijing",
            summary="Talks covered trade.",
            link="https://wire.example/2024/putin-xi",
            published=dt.datetime(2024, 3, 5, 5, 0, tzinfo=dt.UTC),
            author="Li Wei",
        ),
    )


def test_json_feed_10_is_parsed() -> None:
    feed = parse(samples.JSON_FEED_10, content_type="application/json")

    assert feed == ParsedFeed(
        title="World Wire (JSON 1.0)",
        link="https://wire.example/",
        entries=(
            ParsedEntry(
                key="2024-0042",
                title="Summit ends without a deal",
                summary="Leaders left early.",
                link="https://wire.example/2024/summit",
                published=dt.datetime(2024, 3, 5, 14, 30, tzinfo=dt.UTC),
                author="Sam Reed",
            ),
        ),
    )


def test_json_feed_11_is_parsed() -> None:
    feed = parse(samples.JSON_FEED_11, content_type="application/feed+json")

    assert feed.title == "World Wire (JSON 1.1)"
    assert feed.entries == (
        ParsedEntry(
            key="https://wire.example/2024/vote",
            title="Parliament votes on aid package",
            summary="A narrow majority is expected.",
            link="https://wire.example/2024/vote",
            published=dt.datetime(2024, 3, 6, 12, 0, tzinfo=dt.UTC),
            author="Eva Stone",
        ),
        ParsedEntry(
            key="7",
            title="Numeric ids are accepted",
            summary="Some feeds use numbers.",
            link="",
            published=None,
            author="",
        ),
    )


def test_feed_with_no_entries_is_an_empty_feed() -> None:
    feed = parse(rss())

    assert feed == ParsedFeed(title="World Wire", link="https://wire.example/", entries=())


def test_feed_served_with_a_wrong_content_type_is_still_parsed() -> None:
    feed = parse(samples.RSS_20, content_type="text/html; charset=iso-8859-1")

    assert [entry.title for entry in feed.entries] == [
        "Kim Jong Un visits Moscow",
        "Russia’s grain exports fall",
    ]


def test_parse_error_is_a_herald_error_with_a_message_for_admins() -> None:
    with pytest.raises(HeraldError) as raised:
        parse(b"")

    assert raised.value.user_message == "empty response"


# --- not feeds --------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"", b"  \r\n\t ", b"\xef\xbb\xbf"])
def test_empty_body_is_refused_as_an_empty_response(body: bytes) -> None:
    with pytest.raises(FeedParseError, match=r"^empty response$"):
        parse(body)


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html><html><head><title>Wire</title></head><body>News</body></html>",
        b"<?xml version='1.0'?>\n<!-- generated -->\n<html xmlns='http://www.w3.org/1999/xhtml'>"
        b"<body><p>x</p></body></html>",
        b"<HTML><BODY>Old school</BODY></HTML>",
    ],
)
def test_html_page_is_refused_as_an_html_page(body: bytes) -> None:
    with pytest.raises(FeedParseError, match=r"^this is an HTML page, not a feed$"):
        parse(body, content_type="text/html")


def test_html_fragment_served_as_html_is_refused_as_an_html_page() -> None:
    with pytest.raises(FeedParseError, match=r"^this is an HTML page, not a feed$"):
        parse(b"<div><p>Nothing to see</p></div>", content_type="text/html; charset=utf-8")


def test_plain_text_is_not_a_feed() -> None:
    with pytest.raises(
        FeedParseError, match=r"^not a feed: the response is neither XML nor JSON$"
    ):
        parse(b"Service temporarily unavailable", content_type="text/plain")


def test_xml_that_is_not_a_feed_says_what_is_wrong() -> None:
    with pytest.raises(FeedParseError, match=r"^not a feed: "):
        parse(b"<?xml version='1.0'?><svg><g></svg>", content_type="image/svg+xml")


def test_json_that_is_not_a_json_feed_is_refused() -> None:
    with pytest.raises(FeedParseError, match="not a JSON Feed"):
        parse(b'{"version": "2", "items": []}', content_type="application/json")


@pytest.mark.parametrize("body", [b'{"version": ', b"[" * 100_000, b'{"a": 1e999999x}'])
def test_invalid_json_is_refused(body: bytes) -> None:
    with pytest.raises(FeedParseError, match=r"^not a feed: invalid JSON$"):
        parse(body, content_type="application/feed+json")


def test_json_feed_without_items_is_refused() -> None:
    body = b'{"version": "https://jsonfeed.org/version/1.1", "title": "x"}'

    with pytest.raises(FeedParseError, match="without an items list"):
        parse(body, content_type="application/feed+json")


# --- hostile bodies ---------------------------------------------------------------------------


def test_truncated_xml_keeps_the_entries_before_the_cut() -> None:
    whole = rss(
        item("First", guid="1", description="Complete."),
        item("Second", guid="2", description="Also complete."),
        item("Third", guid="3", description="This one is cut off in the mid"),
    )
    truncated = whole[: whole.index(b"in the mid") + len(b"in the mid")]

    feed = parse(truncated)

    assert [entry.title for entry in feed.entries][:2] == ["First", "Second"]
    assert feed.entries[0].summary == "Complete."


def test_xml_cut_before_any_entry_is_not_a_feed() -> None:
    with pytest.raises(FeedParseError, match=r"^not a feed: "):
        parse(b'<?xml version="1.0"?><rss version="2.0"><chan')


def test_wrong_encoding_declaration_is_overridden_by_valid_utf8() -> None:
    body = rss(item("Russia’s café, Kim Jong-un", guid="1")).replace(
        b'encoding="utf-8"', b'encoding="iso-8859-1"'
    )

    feed = parse(body, content_type="application/rss+xml; charset=iso-8859-1")

    assert feed.entries[0].title == "Russia’s café, Kim Jong-un"


def test_legacy_encoding_without_a_declaration_is_read_as_windows_1252() -> None:
    body = (
        b'<rss version="2.0"><channel><title>Caf\xe9</title>'
        b"<item><title>\x93Quoted\x94 \x96 Russia\x92s</title><guid>1</guid></item>"
        b"</channel></rss>"
    )

    feed = parse(body, content_type="text/xml")

    assert feed.title == "Café"
    assert feed.entries[0].title == "“Quoted” – Russia’s"


def test_declared_legacy_encoding_is_honoured() -> None:
    body = rss(item("Путин и Кремль", guid="1")).decode().replace("utf-8", "koi8-r")

    feed = parse(body.encode("koi8-r"))

    assert feed.entries[0].title == "Путин и Кремль"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_wide_encodings_are_detected(encoding: str) -> None:
    body = rss(item("Путин и Кремль", guid="1")).decode().replace("utf-8", "utf-16")

    feed = parse(body.encode(encoding), content_type=None)

    assert feed.entries[0].title == "Путин и Кремль"


def test_nul_bytes_are_dropped_and_the_feed_still_parses() -> None:
    body = rss(item("Sanctions\x00 widen", guid="1", description="More\x00\x00 firms\x01 named."))

    feed = parse(body)

    assert feed.entries[0].title == "Sanctions widen"
    assert feed.entries[0].summary == "More firms named."


def test_a_reference_to_a_character_xml_forbids_costs_only_that_character() -> None:
    title = "&#1114112;&#xD800;&#0;&#xFFFE;Kim Jong Un &#128512;"

    feed = parse(rss(item(title, guid="1", link="https://wire.example/a")))

    assert feed.entries[0].title == "Kim Jong Un 😀"


def test_invalid_utf8_is_replaced_without_garbling_the_rest() -> None:
    body = rss(item("Café talks", guid="1", description="broken BYTES here")).replace(
        b"BYTES", b"\xff\xfe"
    )

    feed = parse(body)

    assert feed.entries[0].title == "Café talks"
    assert feed.entries[0].summary == "broken \ufffd\ufffd here"


def test_ten_thousand_items_are_cut_to_the_first_thousand_quickly() -> None:
    items = [
        item(f"Item {n}", guid=f"g{n}", description=f"Text of item {n}.") for n in range(10_000)
    ]
    body = rss(*items)

    with bounded(seconds=5, megabytes=80):
        feed = parse(body)

    assert len(feed.entries) == 1000
    assert (feed.entries[0].key, feed.entries[-1].key) == ("g0", "g999")


def test_entry_cap_is_a_parameter() -> None:
    feed = parse(rss(*(item(f"n{n}", guid=f"g{n}") for n in range(10))), max_entries=3)

    assert [entry.key for entry in feed.entries] == ["g0", "g1", "g2"]


def test_json_feed_of_ten_thousand_items_is_cut_to_the_first_thousand() -> None:
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "items": [{"id": str(n), "title": f"Item {n}"} for n in range(10_000)],
        }
    ).encode()

    with bounded(seconds=5, megabytes=80):
        feed = parse(body, content_type="application/feed+json")

    assert len(feed.entries) == 1000
    assert feed.entries[-1].key == "999"


def test_billion_laughs_is_refused_quickly() -> None:
    levels = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)
    ]
    body = rss(
        item("&lol9;", guid="1"),
        title="&lol9;",
        prolog="\n<!DOCTYPE rss [\n" + "\n".join(levels) + "\n]>\n",
    )

    with bounded(seconds=1, megabytes=20), pytest.raises(FeedParseError, match="XML entities"):
        parse(body)


def test_one_big_entity_used_many_times_is_refused_quickly() -> None:
    # feedparser lets a literal entity through and its fallback parser expands it: this
    # 100 KB body would become a 100 MB title.
    body = rss(
        item("&big;" * 1000, guid="1"),
        prolog=f'\n<!DOCTYPE rss [\n<!ENTITY big "{"x" * 100_000}">\n]>\n',
    )

    with bounded(seconds=1, megabytes=20), pytest.raises(FeedParseError, match="XML entities"):
        parse(body)


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>',
        "<!-- <x --><!DOCTYPE rss [\n<!ENTITY a 'aaaaaaaaaa'>\n]>",
        '<!DOCTYPE rss [\n<!ENTITY % p "aaaa">\n]>',
        '<!DOCTYPE rss [\n<!ENTITY secret SYSTEM "file:///etc/passwd">\n]>',
        '<!DOCTYPE rss [\n<!ENTITY remote SYSTEM "http://127.0.0.1:9/x.dtd">\n]>',
    ],
    ids=["one-line", "behind-a-comment", "parameter", "external-file", "external-url"],
)
def test_entity_declarations_in_any_shape_are_refused(doctype: str) -> None:
    body = rss(item("&a;", guid="1"), prolog="\n" + doctype + "\n")

    with pytest.raises(FeedParseError, match="XML entities"):
        parse(body)


def test_character_entity_declarations_are_allowed() -> None:
    body = rss(
        item("Kim&nbsp;Jong&mdash;un", guid="1"),
        prolog='\n<!DOCTYPE rss [\n<!ENTITY nbsp "&#160;">\n<!ENTITY mdash "&#x2014;">\n]>\n',
    )

    feed = parse(body)

    assert feed.entries[0].title == "Kim Jong—un"


def test_million_tags_in_one_entry_are_refused_quickly() -> None:
    body = rss(item("Tags", guid="1", description="<p>" * 1_000_000))

    with bounded(seconds=5, megabytes=80), pytest.raises(FeedParseError, match="XML tags"):
        parse(body)


def test_entries_past_the_tag_budget_are_dropped_not_the_feed() -> None:
    body = rss(*(item(f"n{n}", guid=f"g{n}", description="<x/>" * 100) for n in range(40)))

    feed = parse(body, max_tags=1_000)

    assert [entry.key for entry in feed.entries] == [f"g{n}" for n in range(9)]


def test_escaped_markup_does_not_count_against_the_tag_budget() -> None:
    escaped = "&lt;p&gt;" * 50_000
    cdata = "<![CDATA[" + "<p>" * 50_000 + "]]>"

    feed = parse(rss(item("a", guid="1", description=escaped), item("b", guid="2"), cdata))

    assert [entry.key for entry in feed.entries] == ["1", "2"]


def test_json_with_a_million_objects_is_refused_quickly() -> None:
    body = (
        b'{"version":"https://jsonfeed.org/version/1.1","items":[' + b"{}," * 1_000_000 + b"{}]}"
    )

    with bounded(seconds=2, megabytes=40), pytest.raises(FeedParseError, match="JSON objects"):
        parse(body, content_type="application/feed+json")


def test_body_naming_a_local_file_is_never_read_from_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # feedparser.parse(bytes) reads the file the bytes name, when there is one.
    body = b'<rss version="2.0"><channel><title>Not a whole feed'
    (tmp_path / body.decode()).write_bytes(rss(title="From a local file"))
    monkeypatch.chdir(tmp_path)

    with pytest.raises(FeedParseError, match=r"^not a feed: "):
        parse(body)


# --- entries ---------------------------------------------------------------------------------


def test_key_falls_back_to_the_link_then_to_a_hash_of_the_text() -> None:
    feed = parse(
        rss(
            item("Linked", link="https://wire.example/a"),
            item("Bare", description="Only text."),
        )
    )

    linked, bare = feed.entries
    assert linked.key == "https://wire.example/a"
    assert bare.key.startswith("sha256:")
    assert parse(rss(item("Bare", description="Only text."))).entries[0].key == bare.key


def test_entry_with_nothing_in_it_is_skipped() -> None:
    feed = parse(rss(item(None), item("Real", guid="1")))

    assert [entry.title for entry in feed.entries] == ["Real"]


def test_very_long_key_is_replaced_by_its_hash() -> None:
    feed = parse(rss(item("Long", guid="k" * 5000)))

    assert feed.entries[0].key.startswith("sha256:")
    assert len(feed.entries[0].key) < 100


@pytest.mark.parametrize("date", ["yesterday", "32 Foo 2024", "", "Tue, 99 Sep 2023 99:99:99"])
def test_unparseable_date_is_none(date: str) -> None:
    feed = parse(rss(item("Undated", guid="1", pub_date=date)))

    assert feed.entries[0].published is None


def test_dates_are_converted_to_utc() -> None:
    feed = parse(rss(item("Tokyo", guid="1", pub_date="Tue, 12 Sep 2023 06:15:00 +0900")))

    published = feed.entries[0].published
    assert published == dt.datetime(2023, 9, 11, 21, 15, tzinfo=dt.UTC)
    assert published is not None
    assert published.utcoffset() == dt.timedelta(0)


def test_json_feed_dates_without_offset_are_utc_and_future_ones_dropped() -> None:
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "items": [
                {"id": "1", "title": "naive", "date_published": "2024-03-05T09:30:00"},
                {"id": "2", "title": "future", "date_published": "2030-01-01T00:00:00Z"},
                {"id": "3", "title": "junk", "date_published": "last Tuesday"},
            ],
        }
    ).encode()

    feed = parse(body, content_type="application/feed+json")

    assert [entry.published for entry in feed.entries] == [
        dt.datetime(2024, 3, 5, 9, 30, tzinfo=dt.UTC),
        None,
        None,
    ]


def test_entry_without_a_title_gets_one_from_its_text() -> None:
    words = "Talks between the two delegations continued late into the night " * 5

    feed = parse(rss(item(None, guid="1", description=words), item("", guid="2", description="x")))

    derived, short = feed.entries
    assert derived.title.startswith("Talks between the two delegations")
    assert derived.title.endswith("…")
    assert len(derived.title) <= 100
    assert short.title == "x"


def test_entry_without_title_or_text_is_untitled() -> None:
    feed = parse(rss(item(None, guid="1", link="https://wire.example/a")))

    assert feed.entries[0].title == "(untitled)"


def test_markup_in_titles_becomes_plain_text() -> None:
    title = (
        "&lt;b&gt;Breaking&lt;/b&gt;: Tom &amp;amp; Jerry&amp;nbsp;sign "
        "&lt;script&gt;alert('x')&lt;/script&gt;&lt;style&gt;b{}&lt;/style&gt;a deal"
    )

    feed = parse(rss(item(title, guid="1")))

    assert feed.entries[0].title == "Breaking: Tom & Jerry sign a deal"


def test_summary_html_becomes_plain_text_with_words_kept_apart() -> None:
    html = (
        "<![CDATA[<p>First&nbsp;paragraph.</p><p>Second<br>line with <em>em</em>phasis."
        "</p><!-- hidden --><script>var x = '<p>';</script><ul><li>One</li><li>Two</li></ul>]]>"
    )

    feed = parse(rss(item("t", guid="1", description=html)))

    assert feed.entries[0].summary == "First paragraph. Second line with emphasis. One Two"


def test_control_and_invisible_characters_are_dropped() -> None:
    title = "Kim\u200b Jong\u202e Un\ufeff\u0007 &#x202E;says &#128512;"

    feed = parse(rss(item(title, guid="1")))

    assert feed.entries[0].title == "Kim Jong Un says 😀"


def test_long_title_and_summary_are_cut_at_a_word() -> None:
    feed = parse(rss(item("word " * 200, guid="1", description="lorem ipsum " * 1000)))

    entry = feed.entries[0]
    assert len(entry.title) <= 500
    assert entry.title.endswith("word…")
    assert len(entry.summary) <= 4000
    assert entry.summary.endswith(("lorem…", "ipsum…"))


def test_feed_title_is_cleaned() -> None:
    feed = parse(rss(title="  World &amp;amp; &lt;i&gt;Wire&lt;/i&gt;\n\n"))

    assert feed.title == "World & Wire"


def test_relative_links_are_resolved_against_the_feed_url() -> None:
    feed = parse(
        rss(
            item("Root-relative", guid="1", link="/world/1"),
            item("Path-relative", guid="2", link="2.html"),
            item("Scheme-relative", guid="3", link="//cdn.wire.example/3"),
        )
    )

    assert [entry.link for entry in feed.entries] == [
        "https://wire.example/world/1",
        "https://wire.example/news/2.html",
        "https://cdn.wire.example/3",
    ]


def test_key_from_a_relative_guid_does_not_change_when_the_feed_moves() -> None:
    body = rss("<item><title>Moved</title><guid>s/42</guid></item>")

    before = parse_feed(body, url="https://old.example/feed", content_type=None, now=NOW)
    after = parse_feed(body, url="https://new.example/rss/feed", content_type=None, now=NOW)

    assert before.entries[0].key == after.entries[0].key == "s/42"
    assert before.entries[0].link == "https://old.example/s/42"


def test_atom_xml_base_is_honoured_for_relative_links() -> None:
    body = b"""<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://other.example/base/">
      <title>t</title>
      <entry><id>1</id><title>a</title><link href="a.html"/></entry>
      <entry xml:base="/deep/"><id>2</id><title>b</title><link href="b.html"/></entry>
    </feed>"""

    feed = parse(body, content_type="application/atom+xml")

    assert [entry.link for entry in feed.entries] == [
        "https://other.example/base/a.html",
        "https://other.example/deep/b.html",
    ]


@pytest.mark.parametrize(
    "link", ["javascript:alert(1)", "mailto:desk@wire.example", "ftp://wire.example/x", "http://"]
)
def test_non_http_links_are_dropped(link: str) -> None:
    feed = parse(rss(item("t", guid="1", link=link)))

    assert feed.entries[0].link == ""


def test_json_feed_relative_url_is_resolved_against_the_feed_url() -> None:
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1",
            "items": [{"id": "1", "url": "/world/1", "content_text": "t"}],
        }
    ).encode()

    feed = parse(body, content_type="application/feed+json")

    assert feed.entries[0].link == "https://wire.example/world/1"


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_feed(samples.RSS_20, url=URL, content_type=None, now=dt.datetime(2025, 1, 1))
