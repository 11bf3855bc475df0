"""Fetching feeds over HTTP and parsing them into entries."""

from bot.feeds.fetcher import (
    FeedFetcher,
    Fetched,
    FetchFailed,
    FetchResult,
    HttpFeedFetcher,
    NotModified,
)
from bot.feeds.network import AddressPolicy, AddressRefusedError, feed_client
from bot.feeds.parser import FeedParseError, discover_feed_links, parse_feed

__all__ = [
    "AddressPolicy",
    "AddressRefusedError",
    "FeedFetcher",
    "FeedParseError",
    "FetchFailed",
    "FetchResult",
    "Fetched",
    "HttpFeedFetcher",
    "NotModified",
    "discover_feed_links",
    "feed_client",
    "parse_feed",
]
