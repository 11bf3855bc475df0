"""Fetching and parsing over real loopback HTTP, against the sandbox feed server misbehaving."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import time
import tracemalloc

import httpx
import pytest

from bot.feeds.fetcher import USER_AGENT, Fetched, FetchFailed, HttpFeedFetcher, NotModified
from bot.feeds.parser import FeedParseError, discover_feed_links, parse_feed
from bot.sandbox.feedserver import ATOM, Encoding, FeedItem, FeedServer
from tests.feeds.conftest import NOW

KIM = FeedItem(
    title="Kim Jong Un visits Moscow",
    link="https://wire.example/kim",
    summary="<p>He arrived by <b>train</b>.</p>",
    published=dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC),
    author="Jin Park",
)
GRAIN = FeedItem(
    title="Russia’s grain exports fall",
    link="https://wire.example/grain",
    id="wire-grain",
    published=dt.datetime(2025, 3, 1, 10, 0, tzinfo=dt.UTC),
)
MIB = 1024 * 1024


async def fetch_new(fetcher: HttpFeedFetcher, url: str) -> Fetched:
    result = await fetcher.fetch(url)
    assert isinstance(result, Fetched), result
    return result


def parse(fetched: Fetched) -> list[str]:
    feed = parse_feed(fetched.body, url=fetched.url, content_type=fetched.content_type, now=NOW)
    return [entry.title for entry in feed.entries]


async def test_request_names_herald_and_asks_for_feeds(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.publish_rss("/world.xml", [KIM])

    await fetch_new(HttpFeedFetcher(client), feed_server.url("/world.xml"))

    [request] = feed_server.requests("/world.xml")
    assert request.headers["user-agent"] == USER_AGENT
    assert request.headers["accept"].startswith("application/rss+xml")
    assert request.headers["accept-encoding"] == "gzip, deflate, br, zstd"
    assert not request.conditional


async def test_repoll_is_conditional_and_answered_304(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.publish_rss("/world.xml", [KIM])
    fetcher = HttpFeedFetcher(client)
    first = await fetch_new(fetcher, feed_server.url("/world.xml"))

    again = await fetcher.fetch(
        feed_server.url("/world.xml"), etag=first.etag, last_modified=first.last_modified
    )

    assert again == NotModified(url=feed_server.url("/world.xml"))
    initial, repoll = feed_server.requests("/world.xml")
    assert (initial.conditional, initial.status) == (False, 200)
    assert (repoll.if_none_match, repoll.status) == (first.etag, 304)
    assert repoll.if_modified_since == first.last_modified


async def test_last_modified_alone_makes_a_conditional_get(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.publish_rss("/world.xml", [KIM], etag=False)
    fetcher = HttpFeedFetcher(client)
    first = await fetch_new(fetcher, feed_server.url("/world.xml"))

    again = await fetcher.fetch(feed_server.url("/world.xml"), last_modified=first.last_modified)

    assert first.etag is None
    assert isinstance(again, NotModified)
    assert feed_server.requests("/world.xml")[-1].status == 304


async def test_added_entry_is_seen_on_the_next_poll(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.publish_rss("/world.xml", [KIM])
    fetcher = HttpFeedFetcher(client)
    first = await fetch_new(fetcher, feed_server.url("/world.xml"))

    feed_server.publish_rss("/world.xml", [GRAIN, KIM])
    again = await fetcher.fetch(
        feed_server.url("/world.xml"), etag=first.etag, last_modified=first.last_modified
    )

    assert isinstance(again, Fetched)
    assert again.etag != first.etag
    assert parse(again) == ["Russia’s grain exports fall", "Kim Jong Un visits Moscow"]
    assert feed_server.requests("/world.xml")[-1].status == 200


async def test_feeds_rendered_by_the_server_parse_back_alike(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.publish_rss("/rss", [GRAIN, KIM])
    feed_server.publish_atom("/atom", [GRAIN, KIM])
    feed_server.publish_json_feed("/json", [GRAIN, KIM])
    fetcher = HttpFeedFetcher(client)

    feeds = []
    for path in ("/rss", "/atom", "/json"):
        fetched = await fetch_new(fetcher, feed_server.url(path))
        feeds.append(
            parse_feed(fetched.body, url=fetched.url, content_type=fetched.content_type, now=NOW)
        )

    rss, atom, json_feed = feeds
    assert rss.entries == atom.entries == json_feed.entries
    assert [(e.key, e.summary, e.author) for e in rss.entries] == [
        ("wire-grain", "", ""),
        ("https://wire.example/kim", "He arrived by train.", "Jin Park"),
    ]


async def test_feed_served_gzipped_is_decoded(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.publish_rss("/world.xml", [KIM], gzipped=True)

    fetched = await fetch_new(HttpFeedFetcher(client), feed_server.url("/world.xml"))

    assert fetched.headers["content-encoding"] == "gzip"
    assert parse(fetched) == ["Kim Jong Un visits Moscow"]


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
async def test_feed_served_in_every_content_coding_is_decoded(
    feed_server: FeedServer, client: httpx.AsyncClient, encoding: Encoding
) -> None:
    feed_server.publish_rss("/world.xml", [KIM], encoding=encoding)

    fetched = await fetch_new(HttpFeedFetcher(client), feed_server.url("/world.xml"))

    assert fetched.headers["content-encoding"] == encoding
    assert parse(fetched) == ["Kim Jong Un visits Moscow"]


async def test_feed_served_with_a_wrong_content_type_is_parsed(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.publish_atom("/feed", [KIM])
    body = (await fetch_new(HttpFeedFetcher(client), feed_server.url("/feed"))).body
    feed_server.publish("/feed", body, content_type="text/plain; charset=us-ascii")

    fetched = await fetch_new(HttpFeedFetcher(client), feed_server.url("/feed"))

    assert fetched.content_type == "text/plain; charset=us-ascii"
    assert parse(fetched) == ["Kim Jong Un visits Moscow"]


async def test_empty_200_is_fetched_and_then_refused_as_an_empty_response(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.publish("/empty.xml", b"")

    fetched = await fetch_new(HttpFeedFetcher(client), feed_server.url("/empty.xml"))

    assert fetched.body == b""
    with pytest.raises(FeedParseError, match=r"^empty response$"):
        parse(fetched)


async def test_server_that_never_answers_times_out_at_the_deadline(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.hang("/slow.xml")
    fetcher = HttpFeedFetcher(client, deadline=1.0)

    started = time.monotonic()
    result = await fetcher.fetch(feed_server.url("/slow.xml"))

    assert result == FetchFailed("timed out after 1 s")
    assert time.monotonic() - started < 3
    assert feed_server.requests("/slow.xml")[0].status is None


async def test_body_that_trickles_forever_times_out_at_the_deadline(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    # Each byte arrives well within any read timeout: only a deadline stops this.
    feed_server.trickle("/drip.xml", interval=0.02)
    fetcher = HttpFeedFetcher(client, deadline=1.0)

    started = time.monotonic()
    result = await fetcher.fetch(feed_server.url("/drip.xml"))

    assert result == FetchFailed("timed out after 1 s")
    assert time.monotonic() - started < 3


async def test_deadline_covers_all_redirect_hops(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.redirect("/a", "/b", status=301)
    feed_server.redirect("/b", "/slow", status=302)
    feed_server.hang("/slow")

    started = time.monotonic()
    result = await HttpFeedFetcher(client, deadline=1.0).fetch(feed_server.url("/a"))

    assert result == FetchFailed("timed out after 1 s")
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "chunked"])
async def test_50_mb_body_is_cut_off_at_10_mib(
    feed_server: FeedServer, client: httpx.AsyncClient, declare_length: bool
) -> None:
    feed_server.huge("/huge.xml", 50 * 1000 * 1000, declare_length=declare_length)

    tracemalloc.start()
    try:
        result = await HttpFeedFetcher(client).fetch(feed_server.url("/huge.xml"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert result == FetchFailed("response larger than 10 MiB", status=200)
    assert peak < 32 * MIB


async def test_gzip_bomb_is_stopped_without_inflating_it(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.gzip_bomb("/bomb.xml", decoded_size=1024 * MIB)

    tracemalloc.start()
    try:
        result = await HttpFeedFetcher(client, max_bytes=MIB).fetch(feed_server.url("/bomb.xml"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert result == FetchFailed("response larger than 1 MiB", status=200)
    # Inflating each network chunk whole, as httpx's own decoder does, would peak near
    # 1,000 times the chunk size.
    assert peak < 8 * MIB


async def test_retry_after_seconds_from_a_429_is_reported(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.fail("/busy.xml", 429, retry_after=90)

    result = await HttpFeedFetcher(client).fetch(feed_server.url("/busy.xml"))

    assert result == FetchFailed("HTTP 429", retry_after=90.0, status=429)


async def test_retry_after_date_from_a_503_is_reported_in_seconds(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    when = email.utils.format_datetime(NOW + dt.timedelta(hours=1), usegmt=True)
    feed_server.fail("/down.xml", 503, retry_after=when)
    fetcher = HttpFeedFetcher(client, clock=lambda: NOW)

    result = await fetcher.fetch(feed_server.url("/down.xml"))

    assert result == FetchFailed("HTTP 503", retry_after=3600.0, status=503)


async def test_missing_feed_is_http_404(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    result = await HttpFeedFetcher(client).fetch(feed_server.url("/gone.xml"))

    assert result == FetchFailed("HTTP 404", status=404)


@pytest.mark.parametrize("status", [301, 308])
async def test_permanent_redirect_reports_where_the_feed_moved(
    feed_server: FeedServer, client: httpx.AsyncClient, status: int
) -> None:
    feed_server.publish_rss("/new.xml", [KIM])
    feed_server.redirect("/old.xml", "/new.xml", status=status)

    fetched = await fetch_new(HttpFeedFetcher(client), feed_server.url("/old.xml"))

    assert fetched.moved_to == feed_server.url("/new.xml")
    assert parse(fetched) == ["Kim Jong Un visits Moscow"]


@pytest.mark.parametrize("status", [302, 307])
async def test_temporary_redirect_leaves_the_stored_url_alone(
    feed_server: FeedServer, client: httpx.AsyncClient, status: int
) -> None:
    feed_server.publish_rss("/today.xml", [KIM])
    feed_server.redirect("/feed.xml", feed_server.url("/today.xml"), status=status)

    fetched = await fetch_new(HttpFeedFetcher(client), feed_server.url("/feed.xml"))

    assert fetched.url == feed_server.url("/today.xml")
    assert fetched.moved_to is None


async def test_redirect_loop_is_too_many_redirects(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.redirect("/ping", "/pong", status=301)
    feed_server.redirect("/pong", "/ping", status=302)

    result = await HttpFeedFetcher(client).fetch(feed_server.url("/ping"))

    assert result == FetchFailed("too many redirects")
    assert feed_server.hits("/ping") + feed_server.hits("/pong") == 6


async def test_chain_of_six_redirects_is_too_many(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    for hop in range(6):
        feed_server.redirect(f"/hop{hop}", f"/hop{hop + 1}", status=307)
    feed_server.publish_rss("/hop6", [KIM])

    result = await HttpFeedFetcher(client).fetch(feed_server.url("/hop0"))

    assert result == FetchFailed("too many redirects")
    assert feed_server.hits("/hop6") == 0


async def test_redirect_to_a_non_http_scheme_is_not_followed(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.redirect("/feed.xml", "file:///etc/passwd", status=301)

    result = await HttpFeedFetcher(client).fetch(feed_server.url("/feed.xml"))

    assert result == FetchFailed("redirected to an invalid or non-http(s) URL", status=301)


async def test_closed_port_is_connection_refused(client: httpx.AsyncClient) -> None:
    async with FeedServer() as server:
        url = server.url("/world.xml")

    result = await HttpFeedFetcher(client).fetch(url)

    assert result == FetchFailed("could not connect")


async def test_site_address_leads_to_its_feed_through_discovery(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.publish_atom("/feeds/atom.xml", [KIM])
    feed_server.publish_html("/", feed_links=[("/feeds/atom.xml", ATOM.split(";")[0])])
    fetcher = HttpFeedFetcher(client)
    page = await fetch_new(fetcher, feed_server.url("/"))

    with pytest.raises(FeedParseError, match="HTML page"):
        parse(page)
    [link] = discover_feed_links(page.body, url=page.url)
    feed = await fetch_new(fetcher, link)

    assert link == feed_server.url("/feeds/atom.xml")
    assert parse(feed) == ["Kim Jong Un visits Moscow"]


async def test_parsing_never_fetches_an_external_dtd(feed_server: FeedServer) -> None:
    body = (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE rss SYSTEM "{feed_server.url("/rss-0.91.dtd")}">\n'
        '<rss version="0.91"><channel><title>Wire</title>'
        "<item><title>Caf&eacute;</title><link>https://wire.example/a</link></item>"
        "</channel></rss>"
    ).encode()
    feed_server.publish("/rss-0.91.dtd", b'<!ENTITY eacute "&#233;">', content_type="text/plain")

    # In a thread, so that a fetch by the parser would reach the server and be counted.
    feed = await asyncio.to_thread(
        parse_feed, body, url="https://wire.example/rss", content_type=None, now=NOW
    )

    assert feed.entries[0].title == "Café"
    assert feed_server.hits("/rss-0.91.dtd") == 0
