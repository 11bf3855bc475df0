"""A loopback HTTP server that publishes feeds, and misbehaves on demand, for tests and demo."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import email.utils
import gzip
import hashlib
import html
import json
import zlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Literal, Self
from xml.sax.saxutils import escape, quoteattr

import brotli
import zstandard
from aiohttp import web

RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
JSON_FEED = "application/feed+json; charset=utf-8"
HTML = "text/html; charset=utf-8"

_BLOCK = 64 * 1024
_REPEATED_ON_304 = frozenset({"ETag", "Last-Modified", "Cache-Control", "Expires", "Date"})

Encoding = Literal["gzip", "deflate", "br", "zstd"]
_ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": lambda data: gzip.compress(data, mtime=0),
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": lambda data: zstandard.ZstdCompressor().compress(data),
}


@dataclasses.dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry to render; ``id`` defaults to ``link``."""

    title: str
    link: str = ""
    id: str | None = None
    summary: str = ""
    published: dt.datetime | None = None
    author: str = ""

    @property
    def key(self) -> str:
        return self.id if self.id is not None else self.link


@dataclasses.dataclass(slots=True)
class RecordedRequest:
    """One request as the server saw it; ``status`` stays None if it was never answered."""

    path: str
    method: str
    headers: Mapping[str, str]
    status: int | None = None

    @property
    def if_none_match(self) -> str | None:
        return self.headers.get("if-none-match")

    @property
    def if_modified_since(self) -> str | None:
        return self.headers.get("if-modified-since")

    @property
    def conditional(self) -> bool:
        return self.if_none_match is not None or self.if_modified_since is not None


_Handler = Callable[[web.Request, RecordedRequest], Awaitable[web.StreamResponse]]


class FeedServer:
    """Serves what each path was last given, on 127.0.0.1 and a free port.

    ``async with FeedServer() as server:`` starts it; every ``publish*`` or misbehaviour
    call replaces what its path does from the next request on. Published bodies get a
    real ETag and Last-Modified and are answered 304 when a request's validators match.
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._routes: dict[str, _Handler] = {}
        self._requests: list[RecordedRequest] = []
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._last_modified = 0

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()
        self._port = self._runner.addresses[0][1]

    async def close(self) -> None:
        # Wakes the handlers that hang or trickle, so that shutdown need not wait for them.
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self._port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    # --- what a path serves ------------------------------------------------------------

    def publish(
        self,
        path: str,
        body: bytes | str,
        *,
        content_type: str = RSS,
        gzipped: bool = False,
        etag: bool = True,
        last_modified: bool = True,
        headers: Mapping[str, str] | None = None,
        encoding: Encoding | None = None,
    ) -> None:
        """Serve ``body`` at ``path`` from now on, with fresh validators.

        ``encoding`` compresses the body with that Content-Encoding (``gzipped`` is gzip).
        """
        data = body.encode("utf-8") if isinstance(body, str) else body
        fixed = {"Content-Type": content_type, **(headers or {})}
        if etag:
            fixed["ETag"] = '"' + hashlib.sha256(data).hexdigest()[:20] + '"'
        stamp: dt.datetime | None = None
        if last_modified:
            stamp = self._next_last_modified()
            fixed["Last-Modified"] = email.utils.format_datetime(stamp, usegmt=True)
        if gzipped:
            data = gzip.compress(data, mtime=0)
            fixed["Content-Encoding"] = "gzip"
        elif encoding is not None:
            data = _ENCODERS[encoding](data)
            fixed["Content-Encoding"] = encoding

        async def handler(request: web.Request, record: RecordedRequest) -> web.StreamResponse:
            # A 304 repeats the validators and the caching headers, as RFC 9110 asks.
            validators = {k: v for k, v in fixed.items() if k in _REPEATED_ON_304}
            if _not_modified(request, fixed.get("ETag"), stamp):
                record.status = 304
                return web.Response(status=304, headers=validators)
            record.status = 200
            return web.Response(body=data, headers=fixed)

        self._routes[path] = handler

    def publish_rss(
        self,
        path: str,
        items: Sequence[FeedItem],
        *,
        title: str = "Sandbox news",
        gzipped: bool = False,
        etag: bool = True,
        last_modified: bool = True,
        headers: Mapping[str, str] | None = None,
        encoding: Encoding | None = None,
    ) -> None:
        self.publish(
            path,
            render_rss(items, title=title, link=self.url("/")),
            gzipped=gzipped,
            etag=etag,
            last_modified=last_modified,
            headers=headers,
            encoding=encoding,
        )

    def publish_atom(
        self,
        path: str,
        items: Sequence[FeedItem],
        *,
        title: str = "Sandbox news",
        gzipped: bool = False,
        etag: bool = True,
        last_modified: bool = True,
    ) -> None:
        body = render_atom(items, title=title, link=self.url("/"), feed_id=self.url(path))
        self.publish(
            path, body, content_type=ATOM, gzipped=gzipped, etag=etag, last_modified=last_modified
        )

    def publish_json_feed(
        self,
        path: str,
        items: Sequence[FeedItem],
        *,
        title: str = "Sandbox news",
        gzipped: bool = False,
        etag: bool = True,
        last_modified: bool = True,
    ) -> None:
        body = render_json_feed(items, title=title, home_page_url=self.url("/"))
        self.publish(
            path,
            body,
            content_type=JSON_FEED,
            gzipped=gzipped,
            etag=etag,
            last_modified=last_modified,
        )

    def publish_html(
        self, path: str, *, title: str = "Sandbox news", feed_links: Sequence[tuple[str, str]] = ()
    ) -> None:
        """An HTML page whose head links to feeds, given as (href, media type) pairs."""
        links = "".join(
            f'<link rel="alternate" type={quoteattr(kind)} href={quoteattr(href)}>'
            for href, kind in feed_links
        )
        page = (
            f"<!DOCTYPE html><html><head><title>{html.escape(title)}</title>{links}</head>"
            f"<body><h1>{html.escape(title)}</h1></body></html>"
        )
        self.publish(path, page, content_type=HTML)

    def fail(
        self,
        path: str,
        status: int,
        *,
        retry_after: str | int | None = None,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer ``status``, with ``Retry-After`` (seconds or an HTTP-date) when given."""
        fixed = dict(headers or {})
        if retry_after is not None:
            fixed["Retry-After"] = str(retry_after)

        async def handler(request: web.Request, record: RecordedRequest) -> web.StreamResponse:
            record.status = status
            return web.Response(status=status, body=body, headers=fixed)

        self._routes[path] = handler

    def redirect(self, path: str, location: str, *, status: int = 302) -> None:
        """Redirect to ``location`` (sent as given: a path, or any URL) with ``status``."""
        self.fail(path, status, headers={"Location": location})

    def trickle(self, path: str, *, chunk: bytes = b"<", interval: float = 0.05) -> None:
        """Answer 200 and then send ``chunk`` every ``interval`` seconds, forever."""

        async def handler(request: web.Request, record: RecordedRequest) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": RSS})
            response.enable_chunked_encoding()
            record.status = 200
            await response.prepare(request)
            with contextlib.suppress(ConnectionError):
                while not self._closing.is_set():
                    await response.write(chunk)
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(interval):
                            await self._closing.wait()
            return response

        self._routes[path] = handler

    def hang(self, path: str) -> None:
        """Accept the request and never answer it (until the server closes)."""

        async def handler(request: web.Request, record: RecordedRequest) -> web.StreamResponse:
            await self._closing.wait()
            return web.Response(status=503)

        self._routes[path] = handler

    def huge(
        self, path: str, size: int = 50 * 1000 * 1000, *, declare_length: bool = True
    ) -> None:
        """Answer 200 with a ``size``-byte body, announced in Content-Length or chunked."""

        async def handler(request: web.Request, record: RecordedRequest) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": RSS})
            if declare_length:
                response.content_length = size
            else:
                response.enable_chunked_encoding()
            record.status = 200
            await response.prepare(request)
            block = b" " * _BLOCK
            sent = 0
            with contextlib.suppress(ConnectionError):
                while sent < size and not self._closing.is_set():
                    piece = block[: size - sent]
                    await response.write(piece)
                    sent += len(piece)
                await response.write_eof()
            return response

        self._routes[path] = handler

    def gzip_bomb(self, path: str, decoded_size: int = 1024 * 1024 * 1024) -> None:
        """Answer 200 with a gzip body that inflates to ``decoded_size`` zero bytes."""

        async def handler(request: web.Request, record: RecordedRequest) -> web.StreamResponse:
            response = web.StreamResponse(
                headers={"Content-Type": RSS, "Content-Encoding": "gzip"}
            )
            response.enable_chunked_encoding()
            record.status = 200
            await response.prepare(request)
            compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            zeros = bytes(1024 * 1024)
            produced = 0
            with contextlib.suppress(ConnectionError):
                while produced < decoded_size and not self._closing.is_set():
                    piece = zeros[: decoded_size - produced]
                    produced += len(piece)
                    data = compressor.compress(piece)
                    if data:
                        await response.write(data)
                    else:
                        # Let the client read between blocks that zlib keeps to itself.
                        await asyncio.sleep(0)
                await response.write(compressor.flush())
                await response.write_eof()
            return response

        self._routes[path] = handler

    def remove(self, path: str) -> None:
        """Answer 404 at ``path`` from now on."""
        self._routes.pop(path, None)

    # --- what happened -------------------------------------------------------------------

    def requests(self, path: str | None = None) -> list[RecordedRequest]:
        """Requests so far, oldest first, to ``path`` or to any path."""
        return [r for r in self._requests if path is None or r.path == path]

    def hits(self, path: str) -> int:
        return len(self.requests(path))

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        record = RecordedRequest(
            path=request.path,
            method=request.method,
            headers={name.lower(): value for name, value in request.headers.items()},
        )
        self._requests.append(record)
        handler = self._routes.get(request.path)
        if handler is None:
            record.status = 404
            return web.Response(status=404, text="not found")
        return await handler(request, record)

    def _next_last_modified(self) -> dt.datetime:
        # HTTP dates have whole seconds: two publications in one second must still differ.
        now = int(dt.datetime.now(dt.UTC).timestamp())
        self._last_modified = max(now, self._last_modified + 1)
        return dt.datetime.fromtimestamp(self._last_modified, dt.UTC)


def _not_modified(request: web.Request, etag: str | None, stamp: dt.datetime | None) -> bool:
    """RFC 9110 section 13.2.2: If-None-Match, when present, wins over If-Modified-Since."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        if etag is None:
            return False
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    if_modified_since = request.headers.get("If-Modified-Since")
    if if_modified_since is None or stamp is None:
        return False
    try:
        since = email.utils.parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    return stamp <= since


# --- rendering -------------------------------------------------------------------------------


def render_rss(
    items: Sequence[FeedItem], *, title: str, link: str, description: str = ""
) -> bytes:
    """RSS 2.0, newest first as given."""
    entries = []
    for item in items:
        parts = [f"<title>{escape(item.title)}</title>"]
        if item.link:
            parts.append(f"<link>{escape(item.link)}</link>")
        if item.key:
            permalink = "true" if item.id is None else "false"
            parts.append(f'<guid isPermaLink="{permalink}">{escape(item.key)}</guid>')
        if item.summary:
            parts.append(f"<description>{escape(item.summary)}</description>")
        if item.published is not None:
            parts.append(f"<pubDate>{email.utils.format_datetime(item.published)}</pubDate>")
        if item.author:
            parts.append(f"<dc:creator>{escape(item.author)}</dc:creator>")
        entries.append("<item>" + "".join(parts) + "</item>")
    document = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>{escape(title)}</title><link>{escape(link)}</link>"
        f"<description>{escape(description or title)}</description>"
        + "".join(entries)
        + "</channel></rss>\n"
    )
    return document.encode("utf-8")


def render_atom(items: Sequence[FeedItem], *, title: str, link: str, feed_id: str) -> bytes:
    """Atom 1.0, newest first as given."""
    updated = max(
        (item.published for item in items if item.published is not None),
        default=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
    )
    entries = []
    for item in items:
        when = (item.published or updated).isoformat()
        parts = [
            f"<id>{escape(item.key)}</id>",
            f'<title type="text">{escape(item.title)}</title>',
            f"<updated>{when}</updated>",
        ]
        if item.published is not None:
            parts.append(f"<published>{when}</published>")
        if item.link:
            parts.append(f'<link rel="alternate" href={quoteattr(item.link)}/>')
        if item.summary:
            parts.append(f'<summary type="html">{escape(item.summary)}</summary>')
        if item.author:
            parts.append(f"<author><name>{escape(item.author)}</name></author>")
        entries.append("<entry>" + "".join(parts) + "</entry>")
    document = (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>{escape(feed_id)}</id><title>{escape(title)}</title>"
        f'<link rel="alternate" href={quoteattr(link)}/><updated>{updated.isoformat()}</updated>'
        + "".join(entries)
        + "</feed>\n"
    )
    return document.encode("utf-8")


def render_json_feed(items: Sequence[FeedItem], *, title: str, home_page_url: str) -> bytes:
    """JSON Feed 1.1, newest first as given."""
    rendered: list[dict[str, object]] = []
    for item in items:
        entry: dict[str, object] = {"id": item.key, "title": item.title}
        if item.link:
            entry["url"] = item.link
        entry["content_html" if "<" in item.summary else "content_text"] = item.summary
        if item.published is not None:
            entry["date_published"] = item.published.isoformat()
        if item.author:
            entry["authors"] = [{"name": item.author}]
        rendered.append(entry)
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": title,
        "home_page_url": home_page_url,
        "items": rendered,
    }
    return json.dumps(document, ensure_ascii=False).encode("utf-8")
