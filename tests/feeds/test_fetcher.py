"""Tests of HttpFeedFetcher against httpx.MockTransport: headers, statuses, limits, decoding."""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Callable

import brotli
import httpx
import pytest
import zstandard

from bot.feeds.fetcher import (
    USER_AGENT,
    Fetched,
    FetchFailed,
    HttpFeedFetcher,
    NotModified,
)
from tests.feeds.conftest import NOW, Handler

MakeClient = Callable[[Handler], httpx.AsyncClient]
FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


def answer(status: int = 200, body: bytes = FEED, **headers: str) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers=headers)

    return handler


def stream(body: bytes, **headers: str) -> Handler:
    """Like a real transport: the body arrives raw and unread, as the fetcher streams it."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=httpx.ByteStream(body), headers=headers)

    return handler


class EndlessStream(httpx.AsyncByteStream):
    """A body that never ends; counts how much of it was read."""

    def __init__(self, chunk: bytes) -> None:
        self.chunk = chunk
        self.chunks_read = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            self.chunks_read += 1
            yield self.chunk


def test_defaults_are_10_mib_20_seconds_and_5_redirects(mock_client: MakeClient) -> None:
    fetcher = HttpFeedFetcher(mock_client(answer()))

    assert (fetcher.max_bytes, fetcher.deadline, fetcher.max_redirects) == (
        10 * 1024 * 1024,
        20.0,
        5,
    )


def test_user_agent_names_herald_and_its_version() -> None:
    assert USER_AGENT.startswith("Herald/")
    assert "(self-hosted Telegram news bot; polls politely)" in USER_AGENT


async def test_request_carries_user_agent_accept_and_validators(mock_client: MakeClient) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(304)

    fetcher = HttpFeedFetcher(mock_client(handler))

    result = await fetcher.fetch(
        "https://wire.example/feed.xml",
        etag='"abc"',
        last_modified="Sat, 01 Mar 2025 11:00:00 GMT",
    )

    assert result == NotModified(url="https://wire.example/feed.xml")
    [request] = seen
    assert request.headers["user-agent"] == USER_AGENT
    assert "application/rss+xml" in request.headers["accept"]
    assert "application/atom+xml" in request.headers["accept"]
    assert "application/feed+json" in request.headers["accept"]
    assert request.headers["accept-encoding"] == "gzip, deflate, br, zstd"
    assert request.headers["if-none-match"] == '"abc"'
    assert request.headers["if-modified-since"] == "Sat, 01 Mar 2025 11:00:00 GMT"


async def test_body_already_read_by_a_fake_is_accepted(mock_client: MakeClient) -> None:
    result = await HttpFeedFetcher(mock_client(answer(200, FEED))).fetch("https://a.example/f")

    assert isinstance(result, Fetched)
    assert result.body == FEED


async def test_first_fetch_is_unconditional(mock_client: MakeClient) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=FEED)

    await HttpFeedFetcher(mock_client(handler)).fetch("https://wire.example/feed.xml")

    assert "if-none-match" not in seen[0].headers
    assert "if-modified-since" not in seen[0].headers


async def test_unsendable_validator_is_dropped_not_fatal(mock_client: MakeClient) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=FEED)

    fetcher = HttpFeedFetcher(mock_client(handler))

    result = await fetcher.fetch(
        "https://wire.example/f", etag='"caf\u00e9"', last_modified="x\ny"
    )

    assert isinstance(result, Fetched)
    assert "if-none-match" not in seen[0].headers
    assert "if-modified-since" not in seen[0].headers


async def test_new_content_comes_with_its_validators_and_headers(mock_client: MakeClient) -> None:
    handler = answer(
        200,
        FEED,
        **{
            "Content-Type": "application/rss+xml; charset=utf-8",
            "ETag": '"v2"',
            "Last-Modified": "Sat, 01 Mar 2025 11:00:00 GMT",
        },
    )

    result = await HttpFeedFetcher(mock_client(handler)).fetch("https://wire.example/feed.xml")

    assert isinstance(result, Fetched)
    assert result.body == FEED
    assert result.url == "https://wire.example/feed.xml"
    assert result.etag == '"v2"'
    assert result.last_modified == "Sat, 01 Mar 2025 11:00:00 GMT"
    assert result.content_type == "application/rss+xml; charset=utf-8"
    assert result.moved_to is None


async def test_server_error_is_a_failure_naming_the_status(mock_client: MakeClient) -> None:
    result = await HttpFeedFetcher(mock_client(answer(500))).fetch("https://wire.example/f")

    assert result == FetchFailed("HTTP 500", status=500)


async def test_retry_after_in_seconds_is_reported(mock_client: MakeClient) -> None:
    handler = answer(429, b"", **{"Retry-After": "120"})

    result = await HttpFeedFetcher(mock_client(handler)).fetch("https://wire.example/f")

    assert result == FetchFailed("HTTP 429", retry_after=120.0, status=429)


async def test_a_huge_retry_after_is_the_largest_delay_not_none(mock_client: MakeClient) -> None:
    handler = answer(503, b"", **{"Retry-After": "99999999999999999999"})

    result = await HttpFeedFetcher(mock_client(handler)).fetch("https://wire.example/f")

    assert result == FetchFailed("HTTP 503", retry_after=2.0**31, status=503)


async def test_retry_after_as_http_date_is_turned_into_seconds(mock_client: MakeClient) -> None:
    when = email.utils.format_datetime(NOW + dt.timedelta(minutes=5), usegmt=True)
    fetcher = HttpFeedFetcher(
        mock_client(answer(503, b"", **{"Retry-After": when})), clock=lambda: NOW
    )

    result = await fetcher.fetch("https://wire.example/f")

    assert result == FetchFailed("HTTP 503", retry_after=300.0, status=503)


async def test_retry_after_in_the_past_means_now(mock_client: MakeClient) -> None:
    when = email.utils.format_datetime(NOW - dt.timedelta(hours=1), usegmt=True)
    fetcher = HttpFeedFetcher(
        mock_client(answer(503, b"", **{"Retry-After": when})), clock=lambda: NOW
    )

    result = await fetcher.fetch("https://wire.example/f")

    assert isinstance(result, FetchFailed)
    assert result.retry_after == 0.0


async def test_garbled_retry_after_is_ignored(mock_client: MakeClient) -> None:
    handler = answer(503, b"", **{"Retry-After": "soon, promise"})

    result = await HttpFeedFetcher(mock_client(handler)).fetch("https://wire.example/f")

    assert result == FetchFailed("HTTP 503", retry_after=None, status=503)


def redirects(hops: dict[str, tuple[int, str]]) -> Handler:
    """Redirects each URL in ``hops`` as told; answers any other with the feed."""

    def handler(request: httpx.Request) -> httpx.Response:
        hop = hops.get(str(request.url))
        if hop is None:
            return httpx.Response(200, content=FEED)
        status, location = hop
        return httpx.Response(status, headers={"Location": location})

    return handler


@pytest.mark.parametrize("status", [301, 308])
async def test_permanent_redirect_reports_the_new_url(
    mock_client: MakeClient, status: int
) -> None:
    handler = redirects({"https://old.example/feed": (status, "https://new.example/feed")})

    result = await HttpFeedFetcher(mock_client(handler)).fetch("https://old.example/feed")

    assert isinstance(result, Fetched)
    assert result.url == "https://new.example/feed"
    assert result.moved_to == "https://new.example/feed"


@pytest.mark.parametrize("status", [302, 303, 307])
async def test_temporary_redirect_is_followed_but_not_reported(
    mock_client: MakeClient, status: int
) -> None:
    handler = redirects({"https://site.example/feed": (status, "https://cdn.example/feed")})

    result = await HttpFeedFetcher(mock_client(handler)).fetch("https://site.example/feed")

    assert isinstance(result, Fetched)
    assert result.url == "https://cdn.example/feed"
    assert result.moved_to is None


async def test_permanent_move_stops_at_the_first_temporary_hop(mock_client: MakeClient) -> None:
    handler = redirects(
        {
            "https://a.example/f": (301, "https://b.example/f"),
            "https://b.example/f": (302, "https://c.example/f"),
            "https://c.example/f": (301, "https://d.example/f"),
        }
    )

    result = await HttpFeedFetcher(mock_client(handler)).fetch("https://a.example/f")

    assert isinstance(result, Fetched)
    assert (result.url, result.moved_to) == ("https://d.example/f", "https://b.example/f")


async def test_temporary_hop_first_means_no_permanent_move(mock_client: MakeClient) -> None:
    handler = redirects(
        {
            "https://a.example/f": (307, "https://b.example/f"),
            "https://b.example/f": (308, "https://c.example/f"),
        }
    )

    result = await HttpFeedFetcher(mock_client(handler)).fetch("https://a.example/f")

    assert isinstance(result, Fetched)
    assert result.moved_to is None


async def test_relative_location_is_resolved(mock_client: MakeClient) -> None:
    handler = redirects({"https://a.example/news/feed": (301, "../rss.xml")})

    result = await HttpFeedFetcher(mock_client(handler)).fetch("https://a.example/news/feed")

    assert isinstance(result, Fetched)
    assert result.moved_to == "https://a.example/rss.xml"


async def test_not_modified_after_a_permanent_move_reports_it(mock_client: MakeClient) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "old.example":
            return httpx.Response(301, headers={"Location": "https://new.example/f"})
        return httpx.Response(304)

    result = await HttpFeedFetcher(mock_client(handler)).fetch("https://old.example/f", etag='"x"')

    assert result == NotModified(url="https://new.example/f", moved_to="https://new.example/f")


async def test_five_redirects_are_followed(mock_client: MakeClient) -> None:
    hops = {f"https://r.example/{n}": (302, f"https://r.example/{n + 1}") for n in range(5)}

    result = await HttpFeedFetcher(mock_client(redirects(hops))).fetch("https://r.example/0")

    assert isinstance(result, Fetched)
    assert result.url == "https://r.example/5"


async def test_six_redirects_are_too_many(mock_client: MakeClient) -> None:
    hops = {f"https://r.example/{n}": (302, f"https://r.example/{n + 1}") for n in range(6)}

    result = await HttpFeedFetcher(mock_client(redirects(hops))).fetch("https://r.example/0")

    assert result == FetchFailed("too many redirects")


async def test_redirect_limit_is_a_parameter(mock_client: MakeClient) -> None:
    hops = {"https://r.example/0": (301, "https://r.example/1")}
    fetcher = HttpFeedFetcher(mock_client(redirects(hops)), max_redirects=0)

    assert await fetcher.fetch("https://r.example/0") == FetchFailed("too many redirects")


@pytest.mark.parametrize(
    "location",
    ["ftp://files.example/feed.xml", "javascript:alert(1)", "file:///etc/passwd", "http://[::1"],
)
async def test_redirect_to_a_non_http_scheme_is_refused(
    mock_client: MakeClient, location: str
) -> None:
    requested: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        return httpx.Response(302, headers={"Location": location})

    result = await HttpFeedFetcher(mock_client(handler)).fetch("https://a.example/f")

    assert isinstance(result, FetchFailed)
    assert result.reason == "redirected to an invalid or non-http(s) URL"
    assert requested == ["https://a.example/f"]


async def test_redirect_without_location_is_a_failure(mock_client: MakeClient) -> None:
    result = await HttpFeedFetcher(mock_client(answer(301, b""))).fetch("https://a.example/f")

    assert result == FetchFailed("HTTP 301 without a Location", status=301)


@pytest.mark.parametrize(
    "url",
    ["ftp://files.example/feed.xml", "file:///etc/passwd", "wire.example/feed", "", "http://"],
)
async def test_non_http_url_is_refused_without_a_request(
    mock_client: MakeClient, url: str
) -> None:
    requested: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(request)
        return httpx.Response(200, content=FEED)

    result = await HttpFeedFetcher(mock_client(handler)).fetch(url)

    assert result == FetchFailed("not an http(s) URL")
    assert requested == []


async def test_declared_oversize_body_fails_before_reading(mock_client: MakeClient) -> None:
    endless = EndlessStream(b"x" * 1024)

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"Content-Length": str(50 * 1000 * 1000)}
        return httpx.Response(200, headers=headers, stream=endless)

    result = await HttpFeedFetcher(mock_client(handler)).fetch("https://a.example/f")

    assert result == FetchFailed("response larger than 10 MiB", status=200)
    assert endless.chunks_read == 0


async def test_endless_body_stops_being_read_past_the_limit(mock_client: MakeClient) -> None:
    endless = EndlessStream(b"x" * 1024)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=endless)

    fetcher = HttpFeedFetcher(mock_client(handler), max_bytes=64 * 1024)

    result = await fetcher.fetch("https://a.example/f")

    assert result == FetchFailed("response larger than 64 KiB", status=200)
    assert endless.chunks_read == 65


async def test_body_exactly_at_the_limit_is_accepted(mock_client: MakeClient) -> None:
    fetcher = HttpFeedFetcher(mock_client(stream(b"x" * 1000)), max_bytes=1000)

    result = await fetcher.fetch("https://a.example/f")

    assert isinstance(result, Fetched)
    assert len(result.body) == 1000


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", lambda data: gzip.compress(data)),
        ("x-gzip", lambda data: gzip.compress(data)),
        ("deflate", lambda data: zlib.compress(data)),
        ("deflate", lambda data: zlib.compress(data, wbits=-15)),
        ("br", brotli.compress),
        ("zstd", lambda data: zstandard.ZstdCompressor().compress(data)),
        ("gzip, br", lambda data: brotli.compress(gzip.compress(data))),
        ("identity", lambda data: data),
    ],
    ids=["gzip", "x-gzip", "zlib-deflate", "raw-deflate", "br", "zstd", "gzip-then-br", "id"],
)
async def test_compressed_body_is_decoded(
    mock_client: MakeClient, encoding: str, compress: Callable[[bytes], bytes]
) -> None:
    handler = stream(compress(FEED), **{"Content-Encoding": encoding})

    result = await HttpFeedFetcher(mock_client(handler)).fetch("https://a.example/f")

    assert isinstance(result, Fetched)
    assert result.body == FEED


async def test_gzip_body_of_several_members_is_decoded_whole(mock_client: MakeClient) -> None:
    body = gzip.compress(FEED[:40]) + gzip.compress(FEED[40:])
    handler = stream(body, **{"Content-Encoding": "gzip"})

    result = await HttpFeedFetcher(mock_client(handler)).fetch("https://a.example/f")

    assert isinstance(result, Fetched)
    assert result.body == FEED


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", lambda data: gzip.compress(data)),
        ("br", brotli.compress),
        ("zstd", lambda data: zstandard.ZstdCompressor().compress(data)),
    ],
)
async def test_limit_applies_to_decoded_bytes_without_decoding_them_all(
    mock_client: MakeClient, encoding: str, compress: Callable[[bytes], bytes]
) -> None:
    bomb = compress(bytes(64 * 1024 * 1024))
    handler = stream(bomb, **{"Content-Encoding": encoding})
    fetcher = HttpFeedFetcher(mock_client(handler), max_bytes=1024 * 1024)

    tracemalloc.start()
    try:
        result = await fetcher.fetch("https://a.example/f")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert len(bomb) < 1024 * 1024
    assert result == FetchFailed("response larger than 1 MiB", status=200)
    assert peak < 8 * 1024 * 1024


async def test_corrupt_gzip_is_a_failure(mock_client: MakeClient) -> None:
    handler = stream(b"definitely not gzip", **{"Content-Encoding": "gzip"})

    result = await HttpFeedFetcher(mock_client(handler)).fetch("https://a.example/f")

    assert result == FetchFailed("could not decode the gzip body", status=200)


async def test_unknown_content_encoding_is_a_failure(mock_client: MakeClient) -> None:
    handler = stream(b"\x00\x01", **{"Content-Encoding": "compress"})

    result = await HttpFeedFetcher(mock_client(handler)).fetch("https://a.example/f")

    assert result == FetchFailed("unsupported Content-Encoding: compress", status=200)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (httpx.ConnectTimeout("slow"), "could not connect"),
        (httpx.ReadTimeout("slow"), "timed out after 20 s"),
        (httpx.ConnectError("nope"), "could not connect"),
        (httpx.ReadError("gone"), "connection lost"),
        (httpx.RemoteProtocolError("bad"), "the server broke off or sent invalid HTTP"),
        (httpx.ProxyError("proxy"), "network error (ProxyError)"),
    ],
)
async def test_transport_errors_become_failures(
    mock_client: MakeClient, error: Exception, reason: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    result = await HttpFeedFetcher(mock_client(handler)).fetch("https://a.example/f")

    assert result == FetchFailed(reason)


async def test_error_while_reading_the_body_becomes_a_failure(mock_client: MakeClient) -> None:
    class BrokenStream(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b"<rss>"
            raise httpx.ReadError("connection reset by peer")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=BrokenStream())

    result = await HttpFeedFetcher(mock_client(handler)).fetch("https://a.example/f")

    assert result == FetchFailed("connection lost", status=200)


@pytest.mark.parametrize(
    ("headers", "fresh_for"),
    [
        ({"Cache-Control": "public, max-age=600"}, 600.0),
        ({"Cache-Control": 'max-age="300", must-revalidate'}, 300.0),
        ({"Cache-Control": "max-age=600", "Expires": "Sat, 01 Mar 2025 15:00:00 GMT"}, 600.0),
        ({"Expires": "Sat, 01 Mar 2025 12:15:00 GMT"}, 900.0),
        (
            {"Expires": "Sat, 01 Mar 2025 08:15:00 GMT", "Date": "Sat, 01 Mar 2025 08:05:00 GMT"},
            600.0,
        ),
        ({"Expires": "0"}, None),
        ({"Expires": "Sat, 01 Mar 2025 11:00:00 GMT"}, None),
        ({"Cache-Control": "no-cache, max-age=600"}, None),
        ({"Cache-Control": "no-store"}, None),
        ({"Cache-Control": "s-maxage=600"}, None),
        # Too large to represent: 2**31 seconds (RFC 9111 1.2.2); the caller caps it.
        ({"Cache-Control": "max-age=999999999999999999999"}, 2.0**31),
        ({}, None),
    ],
)
async def test_freshness_comes_from_max_age_or_expires(
    mock_client: MakeClient, headers: dict[str, str], fresh_for: float | None
) -> None:
    fetcher = HttpFeedFetcher(mock_client(answer(200, FEED, **headers)), clock=lambda: NOW)

    fetched = await fetcher.fetch("https://a.example/f")

    assert isinstance(fetched, Fetched)
    assert fetched.fresh_for == fresh_for


async def test_a_304_carries_the_freshness_it_repeats(mock_client: MakeClient) -> None:
    handler = answer(304, b"", **{"Cache-Control": "max-age=1200"})

    result = await HttpFeedFetcher(mock_client(handler)).fetch("https://a.example/f", etag='"x"')

    assert result == NotModified(url="https://a.example/f", fresh_for=1200.0)
