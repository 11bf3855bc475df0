"""Tests of discover_feed_links: the feeds an HTML page points to, as absolute URLs."""

from __future__ import annotations

import time

from bot.feeds.parser import discover_feed_links

PAGE_URL = "https://wire.example/world/index.html"


def discover(head: str) -> list[str]:
    page = f"<!DOCTYPE html><html><head><title>Wire</title>{head}</head><body>x</body></html>"
    return discover_feed_links(page.encode(), url=PAGE_URL)


def test_rss_atom_and_json_feed_links_are_found_rss_and_atom_first() -> None:
    links = discover(
        '<link rel="alternate" type="application/feed+json" href="/feed.json">'
        '<link rel="alternate" type="application/rss+xml" title="RSS" href="/rss.xml">'
        '<link rel="alternate" type="application/json" href="/api/page.json">'
        '<link rel="alternate" type="application/atom+xml" href="https://wire.example/atom">'
    )

    assert links == [
        "https://wire.example/rss.xml",
        "https://wire.example/atom",
        "https://wire.example/feed.json",
        "https://wire.example/api/page.json",
    ]


def test_relative_hrefs_are_resolved_against_the_page() -> None:
    links = discover('<link rel="alternate" type="application/rss+xml" href="feed.xml">')

    assert links == ["https://wire.example/world/feed.xml"]


def test_base_element_changes_what_links_resolve_against() -> None:
    links = discover(
        '<base href="https://cdn.wire.example/static/">'
        '<link rel="alternate" type="application/rss+xml" href="feed.xml">'
    )

    assert links == ["https://cdn.wire.example/static/feed.xml"]


def test_attributes_in_any_case_order_and_quoting_are_read() -> None:
    links = discover(
        "<LINK HREF=/a.xml TYPE='Application/RSS+XML; charset=utf-8' REL='Alternate'>"
        '<link href="/b.xml?x=1&amp;y=2" rel="home alternate" type="application/atom+xml" />'
    )

    assert links == ["https://wire.example/a.xml", "https://wire.example/b.xml?x=1&y=2"]


def test_other_links_are_ignored() -> None:
    links = discover(
        '<link rel="stylesheet" type="text/css" href="/style.css">'
        '<link rel="alternate" hreflang="fr" href="/fr/">'
        '<link rel="alternate" type="text/html" href="/mobile/">'
        '<link rel="alternate" type="application/rss+xml">'
        '<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">'
        '<!-- <link rel="alternate" type="application/rss+xml" href="/old.xml"> -->'
        '<script>var s = \'<link rel="alternate" type="application/rss+xml" href="/js.xml">\';'
        "</script>"
    )

    assert links == []


def test_the_same_feed_linked_twice_is_listed_once() -> None:
    links = discover(
        '<link rel="alternate" type="application/rss+xml" href="/rss.xml">'
        '<link rel="alternate" type="application/rss+xml" href="https://wire.example/rss.xml">'
    )

    assert links == ["https://wire.example/rss.xml"]


def test_page_without_feed_links_gives_none() -> None:
    assert discover("") == []
    assert discover_feed_links(b"", url=PAGE_URL) == []
    assert discover_feed_links(b"\xff\xfe\x00garbage<link", url=PAGE_URL) == []


def test_huge_page_is_scanned_quickly() -> None:
    page = b"<html><head>" + b"<link rel=x " * 1_000_000 + b"</head></html>"

    started = time.perf_counter()
    links = discover_feed_links(page, url=PAGE_URL)

    assert links == []
    assert time.perf_counter() - started < 2
