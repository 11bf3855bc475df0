"""Near-duplicate stories: which recent entry, if any, tells the same story as a new one."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import hashlib
import urllib.parse

import numpy as np

from bot.topics.normalize import analyse

__all__ = [
    "EMPTY",
    "SAME_STORY",
    "StoryIndex",
    "canonical_url",
    "fingerprint",
    "shingles",
    "similarity",
]

# Estimated Jaccard similarity of two entries' word 3-shingles at or above which they tell the
# same story. Chosen on one half of the labelled set in bench/data/stories.json by
# bench/cluster_eval.py (halfway between the lowest score that keeps precision at or above
# 0.97 there and the score below it); the other half's precision and recall are in
# bench/README.md.
SAME_STORY = 0.19

SHINGLE = 3
# Fewer shingles than this (a headline alone) are too few to tell stories apart: one word
# in three shingles ("Ukraine day 29 report 1", "... report 2") moves Jaccard by half. Such
# an entry is the same story as another only through its link.
FEWEST_SHINGLES = 12
PERMUTATIONS = 128

# Query parameters that say who sent a reader, never which page: dropped from links.
_TRACKING = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "ref",
        "ref_src",
        "cmpid",
        "ito",
        "ns_mchannel",
        "ns_source",
        "ns_campaign",
        "ns_linkname",
        "ns_fee",
        "at_medium",
        "at_campaign",
        "ocid",
        "taid",
        "smid",
        "outputtype",
        "amp",
    }
)
_MOBILE_HOSTS = ("www.", "m.", "mobile.", "amp.")


def canonical_url(link: str) -> str:
    """The link with what varies between copies of one page taken out; "" for no link.

    Lower-case scheme and host, ``https`` for ``http``; ``www.``, ``m.``, ``mobile.`` and
    ``amp.`` hosts are their site's; an AMP path (``/amp``, ``/amp/`` inside, ``.amp``) is
    the page's; tracking parameters (``utm_*``, ``fbclid``, ``gclid`` and the like, see
    ``_TRACKING``) and the fragment go; the parameters left are sorted; a trailing slash
    goes.
    """
    if not link:
        return ""
    try:
        parts = urllib.parse.urlsplit(link.strip())
        port = parts.port
    except ValueError:  # a malformed authority ("host:port" with letters in the port)
        return link
    host = (parts.hostname or "").lower()
    for prefix in _MOBILE_HOSTS:
        if host.startswith(prefix) and host.count(".") > 1:
            host = host[len(prefix) :]
    path = parts.path
    if path.endswith(("/amp", "/amp/")):
        path = path[: path.rindex("/amp")]
    path = path.replace("/amp/", "/")
    if path.endswith(".amp"):
        path = path[: -len(".amp")]
    path = path.rstrip("/")
    query = sorted(
        (name, value)
        for name, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        if not name.lower().startswith("utm_") and name.lower() not in _TRACKING
    )
    scheme = "https" if parts.scheme.lower() in ("http", "https") else parts.scheme.lower()
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    return urllib.parse.urlunsplit((scheme, netloc, path, urllib.parse.urlencode(query), ""))


def shingles(title: str, text: str) -> set[str]:
    """The entry's word 3-shingles: runs of three stems of its title and text, in order.

    Words are normalised and stemmed as for topics (``analyse``: every script, Chinese,
    Japanese and Korean as character bigrams). Title and text are shingled apart, so no
    shingle straddles them. An entry of fewer than three words gives its words.
    """
    analysed = analyse(title, text)
    found: set[str] = set()
    for words in (analysed.title_stems, analysed.text_stems):
        if len(words) < SHINGLE:
            found.update(words)
        else:
            found.update(
                " ".join(words[start : start + SHINGLE])
                for start in range(len(words) - SHINGLE + 1)
            )
    return found


# MinHash by universal hashing (Broder 1997; the scheme of datasketch's MinHash): each
# shingle's 32-bit hash h goes through PERMUTATIONS maps (a·h + b) mod p, p the Mersenne prime
# 2⁶¹ - 1, and the signature keeps each map's least value, cut to 32 bits. Written here
# because datasketch loads scipy when imported (54 MB resident) for what is these lines.
_PRIME = np.uint64((1 << 61) - 1)
_LOW_32 = np.uint64((1 << 32) - 1)
_random = np.random.RandomState(1)
_A = _random.randint(1, int(_PRIME), size=PERMUTATIONS, dtype=np.uint64)
_B = _random.randint(0, int(_PRIME), size=PERMUTATIONS, dtype=np.uint64)
# The signature of an entry with too few words to compare, which is like no other entry.
EMPTY = np.full(PERMUTATIONS, (1 << 32) - 1, dtype=np.uint32)


def fingerprint(title: str, text: str) -> np.ndarray:
    """The MinHash signature of the entry's shingles: ``PERMUTATIONS`` 32-bit integers.

    Two entries' signatures agree in a share of places that estimates the Jaccard
    similarity of their shingle sets (``similarity``); ``EMPTY``, which is like no other,
    for an entry of fewer than ``FEWEST_SHINGLES``.
    """
    found = shingles(title, text)
    if len(found) < FEWEST_SHINGLES:
        return EMPTY.copy()
    hashes = np.fromiter(
        (
            int.from_bytes(hashlib.blake2b(shingle.encode(), digest_size=4).digest(), "little")
            for shingle in found
        ),
        dtype=np.uint64,
        count=len(found),
    )
    # uint64 products wrap modulo 2⁶⁴ before the modulo, as in datasketch: still a
    # universal family for 32-bit inputs in practice.
    permuted = (hashes[:, np.newaxis] * _A + _B) % _PRIME & _LOW_32
    signature: np.ndarray = permuted.min(axis=0).astype(np.uint32)
    return signature


def similarity(first: np.ndarray, second: np.ndarray) -> float:
    """The estimated Jaccard similarity of two signatures' shingle sets, 0 to 1."""
    return float(np.count_nonzero(first == second)) / len(first)


@dataclasses.dataclass(slots=True)
class _Member:
    slot: int
    story: str
    link: str


class StoryIndex:
    """The stories of the last ``window``: each entry's signature, story and canonical link.

    A new entry is the same story as a member whose link is its link once canonical, else
    as the member of another feed whose signature is most similar, if at least
    ``threshold``. A feed's own entries are never compared by their words: they share its
    boilerplate ("This is a developing story", a sign-off), not a story. Signatures sit
    in one matrix that a lookup compares with the new one in a single vectorised pass:
    under a millisecond and 7 MB for 5,000 members (bench/cluster_bench.py), where
    datasketch's ``MinHashLSH`` took 90 MB for its buckets and saved a fraction of that.
    Members first seen before the window leave at ``expire``.
    """

    def __init__(self, window: dt.timedelta, *, threshold: float = SAME_STORY) -> None:
        self.window = window
        self.threshold = threshold
        self._signatures = np.zeros((64, PERMUTATIONS), dtype=np.uint32)
        self._feed = np.full(64, -1, dtype=np.int64)  # each slot's feed; -1: a free slot
        self._entry_at: list[int] = [0] * 64
        self._free: list[int] = list(range(63, -1, -1))
        self._members: dict[int, _Member] = {}
        self._by_link: dict[str, int] = {}
        self._stories: collections.Counter[str] = collections.Counter()
        self._order: collections.deque[tuple[dt.datetime, int]] = collections.deque()

    def __len__(self) -> int:
        return len(self._members)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._members

    def story_of(self, entry_id: int) -> str:
        """The story a member was added with; KeyError if it is no member."""
        return self._members[entry_id].story

    def has_story(self, story: str) -> bool:
        """Whether a member tells this story."""
        return self._stories[story] > 0

    def find(self, signature: np.ndarray, link: str, *, feed: int) -> tuple[int, str] | None:
        """The member telling the same story as an entry of ``feed``: (entry id, story)."""
        canonical = canonical_url(link)
        if canonical and (entry_id := self._by_link.get(canonical)) is not None:
            return entry_id, self._members[entry_id].story
        if not self._members or np.array_equal(signature, EMPTY):
            return None
        agreeing = np.count_nonzero(self._signatures == signature, axis=1)
        agreeing[(self._feed < 0) | (self._feed == feed)] = 0
        slot = int(np.argmax(agreeing))
        if agreeing[slot] < self.threshold * PERMUTATIONS:
            return None
        entry_id = self._entry_at[slot]
        return entry_id, self._members[entry_id].story

    def add(
        self,
        entry_id: int,
        story: str,
        signature: np.ndarray,
        link: str,
        seen_at: dt.datetime,
        *,
        feed: int,
    ) -> None:
        """Remember an entry for the window from ``seen_at``; adding one twice changes nothing."""
        if entry_id in self._members:
            return
        if not self._free:
            self._grow()
        slot = self._free.pop()
        self._signatures[slot] = signature
        self._feed[slot] = feed
        self._entry_at[slot] = entry_id
        canonical = canonical_url(link)
        self._members[entry_id] = _Member(slot, story, canonical)
        self._stories[story] += 1
        if canonical:
            self._by_link.setdefault(canonical, entry_id)
        self._order.append((seen_at, entry_id))
        if len(self._order) > 1 and self._order[-2][0] > seen_at:
            self._order = collections.deque(sorted(self._order))

    def expire(self, now: dt.datetime) -> int:
        """Forget the members first seen before the window; returns how many."""
        cutoff = now - self.window
        gone = 0
        while self._order and self._order[0][0] < cutoff:
            _, entry_id = self._order.popleft()
            member = self._members.pop(entry_id)
            self._feed[member.slot] = -1
            self._free.append(member.slot)
            self._stories[member.story] -= 1
            if self._stories[member.story] <= 0:
                del self._stories[member.story]
            if member.link and self._by_link.get(member.link) == entry_id:
                del self._by_link[member.link]
            gone += 1
        return gone

    def _grow(self) -> None:
        size = len(self._feed)
        self._signatures = np.concatenate([self._signatures, np.zeros_like(self._signatures)])
        self._feed = np.concatenate([self._feed, np.full(size, -1, dtype=np.int64)])
        self._entry_at.extend([0] * size)
        self._free.extend(range(2 * size - 1, size - 1, -1))
