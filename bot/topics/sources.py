"""Keys for the terms that name a source or a field: ``site:``, ``feed:`` and ``title:``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = [
    "FEED",
    "SITE",
    "TITLE",
    "feed_key",
    "host",
    "link_keys",
    "site_key",
    "title_keys",
]

# Prefixes that no normalised word can start with (§ is no word character), so a source or
# title key never equals a word's; and no ASCII punctuation inside, so the full-text index
# (which splits at ASCII punctuation) keeps each key one token.
TITLE = "§t"
SITE = "§s"
FEED = "§f"
_HOST_SEPARATORS = str.maketrans({".": "·", "-": "‐"})
_LABEL = r"[^\W_](?:[\w-]*[^\W_])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")


def host(text: str) -> str | None:
    """The host ``text`` names (``BBC.co.uk``, ``https://news.bbc.co.uk/x``), lowercased, or
    None when it is no host name."""
    text = text.strip().lower()
    if "//" in text:
        text = urlsplit(text).hostname or ""
    text = text.split("/", 1)[0].rstrip(".")
    if not text.isascii():
        try:
            text = text.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return text if _HOST.fullmatch(text) else None


def site_key(name: str) -> str:
    return SITE + name.translate(_HOST_SEPARATORS)


def feed_key(feed_id: int | str) -> str:
    return f"{FEED}{feed_id}"


def link_keys(link: str) -> list[str]:
    """A site key for the host of ``link`` and each parent domain (news.bbc.co.uk, bbc.co.uk,
    co.uk, uk), so ``site:`` takes in subdomains; none when the link has no host."""
    try:
        name = urlsplit(link.strip()).hostname
    except ValueError:  # a malformed port or bracket: no host to match
        return []
    found = host(name) if name else None
    if found is None:
        return []
    labels = found.split(".")
    return [site_key(".".join(labels[start:])) for start in range(len(labels))]


def title_keys(tokens: Iterable[str]) -> list[str]:
    return [TITLE + token for token in tokens]
