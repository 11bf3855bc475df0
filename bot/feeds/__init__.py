"""Fetching feeds over HTTP and parsing them into entries."""

from bot.feeds.fetcher import (
    FeedFetcher,
    Fetched,
    FetchFailed,
    FetchResult,
    HttpFeedFetcher,
    NotModified,
)
from bot.feeds.parser import FeedParseError, discover_feed_links, parse_feed

__all__ = [
    "FeedFetcher",
    "FeedParseError",
    "FetchFailed",
    "FetchResult",
    "Fetched",
    "HttpFeedFetcher",
    "NotModified",
    "discover_feed_links",
    "parse_feed",
]
