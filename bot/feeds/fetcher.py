"""Fetching one feed over HTTP(S): conditional GET, bounded size and time, checked redirects."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import email.utils
import importlib.metadata
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Protocol, TypeAlias

import brotli
import httpx

# httpx's decoders are not public API, but they are the ones it would use itself; feeding
# them by hand is what lets the size limit apply while decoding, not after.
from httpx._decoders import SUPPORTED_DECODERS, ContentDecoder, GZipDecoder

from bot.feeds.network import AddressRefusedError

try:
    _VERSION = importlib.metadata.version("herald")
except importlib.metadata.PackageNotFoundError:
    _VERSION = "dev"

USER_AGENT = f"Herald/{_VERSION} (self-hosted Telegram news bot; polls politely)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
# Only what _Decoding undoes, so that the size limit can be applied to decoded bytes.
ACCEPT_ENCODING = "gzip, deflate, br, zstd"

MAX_BYTES = 10 * 1024 * 1024
DEADLINE_SECONDS = 20.0
MAX_REDIRECTS = 5
# Well under the deadline, so that a port that drops packets reads like a closed one.
CONNECT_SECONDS = 10.0

_PERMANENT_REDIRECTS = frozenset({301, 308})
_TEMPORARY_REDIRECTS = frozenset({302, 303, 307})
_RETRY_AFTER_STATUSES = frozenset({429, 503})
_NOT_HTTP = "not an http(s) URL"
_BAD_REDIRECT = "redirected to an invalid or non-http(s) URL"


@dataclasses.dataclass(frozen=True, slots=True)
class Fetched:
    """New content.

    ``body`` is decoded (gzip and deflate undone); ``headers`` has lower-case names;
    ``url`` is where the body came from after redirects. ``moved_to`` is set when the feed
    moved permanently (301/308 hops from the requested URL, up to the first temporary
    redirect): the caller stores it in place of the URL it asked for, and ignores
    temporary redirects. ``fresh_for`` is how many seconds the server says the response
    stays fresh (Cache-Control max-age, or Expires), when it says so.
    """

    url: str
    body: bytes
    headers: Mapping[str, str]
    etag: str | None
    last_modified: str | None
    moved_to: str | None = None
    fresh_for: float | None = None

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


@dataclasses.dataclass(frozen=True, slots=True)
class NotModified:
    """The server answered 304: the copy from the last fetch is current; the rest as above."""

    url: str
    moved_to: str | None = None
    fresh_for: float | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class FetchFailed:
    """The fetch gave nothing usable.

    ``reason`` is short plain text for an admin ("HTTP 500", "timed out after 20 s");
    ``retry_after`` is in seconds from now, when a 429 or 503 carried ``Retry-After``.
    """

    reason: str
    retry_after: float | None = None
    status: int | None = None


FetchResult: TypeAlias = Fetched | NotModified | FetchFailed


class FeedFetcher(Protocol):
    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """Fetch ``url``, conditionally when validators from the last response are given.

        Never raises for network or HTTP trouble: every such failure is a ``FetchFailed``.
        """
        ...


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class _Failure(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class HttpFeedFetcher:
    """Fetches feeds with a shared ``httpx.AsyncClient``; the caller owns and closes it.

    ``deadline`` bounds the whole fetch (every redirect hop and the body, however slowly
    it trickles), not each read. ``clock`` turns an HTTP-date ``Retry-After`` into seconds.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        max_bytes: int = MAX_BYTES,
        deadline: float = DEADLINE_SECONDS,
        max_redirects: int = MAX_REDIRECTS,
        clock: Callable[[], dt.datetime] = _utc_now,
    ) -> None:
        self._client = client
        self.max_bytes = max_bytes
        self.deadline = deadline
        self.max_redirects = max_redirects
        self._clock = clock

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        problem = _check_url(url)
        if problem is not None:
            return FetchFailed(problem)
        try:
            async with asyncio.timeout(self.deadline):
                return await self._follow(url, etag, last_modified)
        except TimeoutError:
            return FetchFailed(self._timed_out())

    async def _follow(self, url: str, etag: str | None, last_modified: str | None) -> FetchResult:
        headers = {
            "User-Agent": USER_AGENT,
            "Accept": ACCEPT,
            "Accept-Encoding": ACCEPT_ENCODING,
        }
        # A validator httpx cannot encode, or h11 would refuse, must not make every later
        # fetch of the feed fail: drop it and fetch unconditionally instead.
        if etag and _sendable(etag):
            headers["If-None-Match"] = etag
        if last_modified and _sendable(last_modified):
            headers["If-Modified-Since"] = last_modified

        started = time.monotonic()
        moved_to: str | None = None
        still_permanent = True
        current = url
        for _ in range(self.max_redirects + 1):
            remaining = max(self.deadline - (time.monotonic() - started), 0.001)
            try:
                request = self._client.build_request(
                    "GET",
                    current,
                    headers=headers,
                    timeout=httpx.Timeout(remaining, connect=min(remaining, CONNECT_SECONDS)),
                )
            except httpx.InvalidURL:
                return FetchFailed(_NOT_HTTP)
            try:
                response = await self._client.send(request, stream=True, follow_redirects=False)
            except (httpx.InvalidURL, httpx.UnsupportedProtocol):
                # The URL sent was checked, so this is httpx preparing the next hop from a
                # Location it cannot use, even though it will not follow it.
                return FetchFailed(_BAD_REDIRECT)
            except httpx.HTTPError as error:
                if isinstance(error, httpx.RemoteProtocolError) and "location" in str(error):
                    return FetchFailed(_BAD_REDIRECT)
                return FetchFailed(self._describe(error))
            try:
                status = response.status_code
                if status in _PERMANENT_REDIRECTS or status in _TEMPORARY_REDIRECTS:
                    target = _redirect_target(response)
                    if still_permanent and status in _PERMANENT_REDIRECTS:
                        moved_to = target
                    else:
                        still_permanent = False
                    current = target
                    continue
                if status == 304:
                    return NotModified(
                        url=str(response.url),
                        moved_to=moved_to,
                        fresh_for=_fresh_for(response.headers, self._clock()),
                    )
                if not 200 <= status < 300:
                    return self._http_failure(response)
                body = await self._read_body(response)
                return Fetched(
                    url=str(response.url),
                    body=body,
                    headers={name.lower(): value for name, value in response.headers.items()},
                    etag=response.headers.get("etag"),
                    last_modified=response.headers.get("last-modified"),
                    moved_to=moved_to,
                    fresh_for=_fresh_for(response.headers, self._clock()),
                )
            except _Failure as failure:
                return FetchFailed(failure.reason, status=status)
            except httpx.HTTPError as error:
                return FetchFailed(self._describe(error), status=status)
            finally:
                await response.aclose()
        return FetchFailed("too many redirects")

    def _http_failure(self, response: httpx.Response) -> FetchFailed:
        status = response.status_code
        retry_after = None
        if status in _RETRY_AFTER_STATUSES:
            retry_after = _parse_retry_after(response.headers.get("retry-after"), self._clock())
        return FetchFailed(f"HTTP {status}", retry_after=retry_after, status=status)

    async def _read_body(self, response: httpx.Response) -> bytes:
        if response.is_stream_consumed:
            # Fakes built with httpx.Response(content=...) arrive read, and decoded, already.
            if len(response.content) > self.max_bytes:
                raise _Failure(self._too_large())
            return response.content
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        decoding = _Decoding.for_header(encoding)
        if decoding is None:
            raise _Failure(f"unsupported Content-Encoding: {encoding[:40]}")
        declared = response.headers.get("content-length", "")
        if encoding == "identity" and declared.isdigit() and int(declared) > self.max_bytes:
            raise _Failure(self._too_large())

        body = bytearray()
        # Raw bytes are decoded here, a bounded piece at a time, and reading stops at the
        # limit: that is what stops a compression bomb.
        try:
            async for chunk in response.aiter_raw():
                for piece in decoding.decode(chunk):
                    body += piece
                    if len(body) > self.max_bytes:
                        raise _Failure(self._too_large())
            for piece in decoding.flush():
                body += piece
                if len(body) > self.max_bytes:
                    raise _Failure(self._too_large())
        except httpx.DecodingError as error:
            raise _Failure(f"could not decode the {encoding[:40]} body") from error
        return bytes(body)

    def _too_large(self) -> str:
        return f"response larger than {_format_size(self.max_bytes)}"

    def _timed_out(self) -> str:
        return f"timed out after {self.deadline:g} s"

    def _describe(self, error: httpx.HTTPError) -> str:
        causes = _causes(error)
        for cause in causes:
            if isinstance(cause, AddressRefusedError):
                return str(cause)
            if isinstance(cause, socket.gaierror):
                return "host not found"
            if isinstance(cause, ssl.SSLCertVerificationError):
                return "TLS certificate not trusted"
            if isinstance(cause, ssl.SSLError):
                return "TLS handshake failed"
        if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout):
            # Refused, dropped, unreachable or reset while connecting: one reason for all, so
            # that errors shown to an admin can't map which ports answer behind a firewall.
            return "could not connect"
        if isinstance(error, httpx.TimeoutException):
            # Each request's own timeout is what is left of the deadline, so this is it too.
            return self._timed_out()
        if any(isinstance(cause, ConnectionResetError) for cause in causes):
            return "connection reset"
        if isinstance(error, httpx.DecodingError):
            return "could not decode the response body"
        if isinstance(error, httpx.RemoteProtocolError):
            return "the server broke off or sent invalid HTTP"
        if isinstance(error, httpx.ReadError | httpx.WriteError):
            return "connection lost"
        return f"network error ({type(error).__name__})"


class _Decoding:
    """Undoes a Content-Encoding (a list of codings, too) with httpx's own decoders.

    httpx decodes each network chunk whole, and 64 KiB of gzip inflates to 64 MiB, so each
    decoder is fed slices small enough that one step can't outgrow the size limit by much.
    Brotli is the exception: httpx's decoder turned 16 bytes into 32 MiB (measured), so it
    is undone by the same brotli package with a cap on each step's output instead.
    """

    def __init__(self, decoders: list[tuple[ContentDecoder | _CappedBrotli, int]]) -> None:
        # Codings are listed in the order they were applied, so they are undone in reverse.
        self._decoders = decoders[::-1]

    @classmethod
    def for_header(cls, header: str) -> _Decoding | None:
        decoders: list[tuple[ContentDecoder | _CappedBrotli, int]] = []
        for listed in header.lower().split(","):
            name = {"x-gzip": "gzip", "": "identity"}.get(listed.strip(), listed.strip())
            if name == "identity":
                continue
            if name not in SUPPORTED_DECODERS:
                return None
            # Compressed bytes per step: at most about 1 MiB out of gzip or deflate, 2 MiB out
            # of zstd; brotli caps its own output.
            if name == "br":
                decoders.append((_CappedBrotli(), 64 * 1024))
            elif name == "gzip":
                decoders.append((_GzipMembers(), 1024))
            elif name == "zstd":
                decoders.append((SUPPORTED_DECODERS[name](), 64))
            else:
                decoders.append((SUPPORTED_DECODERS[name](), 1024))
        return cls(decoders)

    def decode(self, raw: bytes) -> Iterator[bytes]:
        """Decoded bytes, a bounded piece at a time."""
        yield from self._through(raw, 0)

    def flush(self) -> Iterator[bytes]:
        for level, (decoder, _) in enumerate(self._decoders):
            if isinstance(decoder, _CappedBrotli):
                pieces: Iterable[bytes] = decoder.decode(b"")
            else:
                pieces = [decoder.flush()]
            for piece in pieces:
                yield from self._through(piece, level + 1)

    def _through(self, data: bytes, level: int) -> Iterator[bytes]:
        if level == len(self._decoders):
            if data:
                yield data
            return
        decoder, size = self._decoders[level]
        for start in range(0, len(data), size):
            step = data[start : start + size]
            if isinstance(decoder, _CappedBrotli):
                for piece in decoder.decode(step):
                    yield from self._through(piece, level + 1)
            else:
                yield from self._through(decoder.decode(step), level + 1)


class _CappedBrotli:
    """Brotli through the package httpx uses, at most ``STEP`` bytes out of each call."""

    STEP = 256 * 1024

    def __init__(self) -> None:
        self._decompressor = brotli.Decompressor()

    def decode(self, data: bytes) -> Iterator[bytes]:
        try:
            yield self._decompressor.process(data, output_buffer_limit=self.STEP)
            # Output held back by the cap comes out as more empty input is offered.
            while not self._decompressor.can_accept_more_data():
                yield self._decompressor.process(b"", output_buffer_limit=self.STEP)
        except brotli.error as error:
            raise httpx.DecodingError(str(error)) from error


class _GzipMembers(ContentDecoder):
    """httpx's gzip decoder, going on past the end of a member: a body may hold several."""

    def __init__(self) -> None:
        self._member = GZipDecoder()

    def decode(self, data: bytes) -> bytes:
        out = self._member.decode(data)
        while self._member.decompressor.eof and self._member.decompressor.unused_data:
            rest = self._member.decompressor.unused_data
            self._member = GZipDecoder()
            out += self._member.decode(rest)
        return out

    def flush(self) -> bytes:
        return self._member.flush()


def _check_url(url: str) -> str | None:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return _NOT_HTTP
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return _NOT_HTTP
    return None


def _redirect_target(response: httpx.Response) -> str:
    location = response.headers.get("location")
    if not location:
        raise _Failure(f"HTTP {response.status_code} without a Location")
    try:
        target = str(response.url.join(location))
    except httpx.InvalidURL as error:
        raise _Failure(_BAD_REDIRECT) from error
    if _check_url(target) is not None:
        raise _Failure(_BAD_REDIRECT)
    return target


_SECONDS = re.compile(r"\d+", re.ASCII)
# RFC 9111 1.2.2: a delta-seconds value too large to represent counts as 2**31 seconds.
_DELTA_SECONDS_MAX = 2**31


def _delta_seconds(digits: str) -> float:
    """Seconds from an HTTP delta-seconds value, whatever its length (RFC 9111 1.2.2)."""
    return float(_DELTA_SECONDS_MAX if len(digits) > 10 else min(int(digits), _DELTA_SECONDS_MAX))


def _parse_retry_after(value: str | None, now: dt.datetime) -> float | None:
    if value is None:
        return None
    value = value.strip()
    if _SECONDS.fullmatch(value):
        return _delta_seconds(value)
    when = _http_date(value)
    if when is None:
        return None
    return max((when - now).total_seconds(), 0.0)


_MAX_AGE = re.compile(r'(?:^|,)\s*max-age\s*=\s*"?(\d+)"?\s*(?:,|$)', re.ASCII | re.I)
_NO_CACHE = re.compile(r"(?:^|,)\s*(?:no-cache|no-store)\s*(?:[,=]|$)", re.ASCII | re.I)


def _fresh_for(headers: httpx.Headers, now: dt.datetime) -> float | None:
    """Seconds the response stays fresh by the server's word (RFC 9111), or None.

    max-age wins over Expires; Expires counts from the response's Date when it has one, so
    a server's clock that is off doesn't matter. no-cache and no-store ask for none.
    """
    control = ",".join(headers.get_list("cache-control"))
    if _NO_CACHE.search(control):
        return None
    if match := _MAX_AGE.search(control):
        return _delta_seconds(match[1]) or None
    expires = _http_date(headers.get("expires"))
    if expires is None:
        return None
    sent = _http_date(headers.get("date")) or now
    seconds = (expires - sent).total_seconds()
    return seconds if seconds > 0 else None


def _http_date(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when


def _sendable(value: str) -> bool:
    return value.isascii() and value.isprintable()


def _causes(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _format_size(size: int) -> str:
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} bytes"
