"""Near-duplicate stories: which recent entry, if any, tells the same story as a new one."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import hashlib
import re
import unicodedata
import urllib.parse

import idna
import numpy as np

from bot.topics.normalize import Stemming, analyse, entry_stemming, stems, tokenize

__all__ = [
    "EMPTY",
    "SAME_STORY",
    "Fingerprint",
    "StoryIndex",
    "canonical_url",
    "fingerprint",
    "same_story",
    "shingles",
    "similarity",
]

# Estimated Jaccard similarity of two entries' word 3-shingles at or above which they may tell
# the same story (``same_story`` asks for agreement on names and numbers too). Chosen on one
# half of the labelled set in bench/data/stories.json by bench/cluster_eval.py for MinHash
# alone (halfway between the lowest score that keeps precision at or above 0.97 there and the
# score below it), and kept with the agreement check, which the tuning half would let go to
# 0.04; precision and recall on both labelled sets are in bench/README.md.
SAME_STORY = 0.19

SHINGLE = 3
# Fewer shingles than this (a headline alone) are too few to tell stories apart: one word
# in three shingles ("Ukraine day 29 report 1", "... report 2") moves Jaccard by half. Such
# an entry is the same story as another only through its link.
FEWEST_SHINGLES = 12
PERMUTATIONS = 128
# Members above the threshold checked for agreement, most similar first. A boilerplate shared
# by thousands of entries (a CMS footer) puts them all above it; a copy is more alike than
# any of them, and past these a new entry is taken for a story of its own (a second alert,
# never a missed one). Bounds a lookup's worst case near 1 ms beyond the vectorised pass.
MOST_CANDIDATES = 50

# Query parameters that say who sent a reader, never which page: dropped from links. ``ref``
# is not among them: on many sites it names the page (a branch, a revision).
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
        "cmp",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "ncid",
        "sr_share",
        "guccounter",
        "guce_referrer",
        "guce_referrer_sig",
    }
)
# Hosts that forward a reader to the link in a parameter (Google's redirect, which Google
# Alerts' feeds link through): the page is that link.
_REDIRECTS = {"google.com": "/url"}
# Google's AMP cache serves a page of host H at ``<H with dashes>.cdn.ampproject.org/c/s/H/...``
# ("s" for https); the page is H's.
_AMP_CACHE = ".cdn.ampproject.org"
_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")
# Redirects and caches followed for one link at most; a link nested deeper is taken as the
# page it names after that many.
_MOST_HOPS = 4
# The escaped delimiters of a redirect's raw target: "?", "=", "&" and "#".
_DELIMITER = re.compile(r"%(3[fFdD]|26|23)")
# What a redirect's target, once its own encoding is undone, keeps as written: RFC 3986's
# reserved characters, and "%" so that the target's own escapes stay escapes.
_URL_CHARACTERS = ":/?#[]@!$&'()*+,;=%~"
_MOBILE_HOSTS = ("www.", "m.", "mobile.", "amp.")
# Fragments that point inside a page or say who sent the reader: WordPress's comment anchors
# and the parameters AT Internet (``xtor``) and Google Analytics write after ``#``. Every
# other fragment stays, since live blogs (``#post-2``) and script-driven sites (``#!/article``)
# name the story in it.
_ANCHORS = frozenset({"comments", "respond", "top", "content", "main"})
_TRACKING_FRAGMENTS = ("xtor=", "utm_", "at_medium=", "at_campaign=")
# An article's name in a path: words joined by hyphens or underscores, or with a number.
_SLUG = re.compile(r"[-_]|\d")


def canonical_url(link: str, *, _hops: int = 0) -> str:
    """The link with what varies between copies of one page taken out; "" for no link.

    Lower-case scheme and host, ``https`` for ``http``, an international host in Punycode;
    ``www.``, ``m.``, ``mobile.`` and ``amp.`` hosts are their site's; a link through
    Google's redirect (``google.com/url?url=...``) or AMP cache (``*.cdn.ampproject.org``)
    is the page it leads to; an AMP copy's path is the page's: a last segment ``amp``
    after an article's name (``/2026/06/pact-signed/amp``, or after any segment on an
    ``amp.`` host), an ``amp`` segment just before an article's name
    (``/news/amp/world-123``), a last segment's ``.amp`` ending (``story.amp``,
    ``story.amp.html``), an ``output=amp`` parameter; tracking parameters (``utm_*``,
    ``fbclid``, ``gclid`` and the like, see ``_TRACKING``) go, as do a comment anchor or a
    tracking fragment (``#comments``, ``#xtor=RSS-1``), while any other fragment stays; the
    parameters left are kept byte for byte (a value in a legacy encoding stays itself) and
    sorted; percent-escapes are in upper case (RFC 3986, 6.2.2.1); a trailing slash goes.
    "" too for a link with no host, or with no path, query or fragment (a site's front
    page): they name no one story.
    """
    if not link:
        return ""
    try:
        parts = urllib.parse.urlsplit(link.strip())
        port = parts.port
    except ValueError:  # a malformed authority ("host:port" with letters in the port)
        return link
    if not parts.netloc:
        return "" if parts.scheme.lower() in ("http", "https", "") else link
    host = _ascii_host((parts.hostname or "").lower())
    forwarded = _forwarded(host, parts) if _hops < _MOST_HOPS else None
    if forwarded is not None:
        return canonical_url(forwarded, _hops=_hops + 1)
    amp_host = host.startswith("amp.")
    for prefix in _MOBILE_HOSTS:
        if host.startswith(prefix) and host.count(".") > 1:
            host = host[len(prefix) :]
    path = _page_path(_PERCENT.sub(_upper, parts.path), amp_host=amp_host)
    query = sorted(
        _PERCENT.sub(_upper, parameter)
        for parameter in parts.query.split("&")
        if parameter and not _tracking(parameter)
    )
    fragment = parts.fragment
    if fragment.lower() in _ANCHORS or fragment.lower().startswith(_TRACKING_FRAGMENTS):
        fragment = ""
    if not host or not (path or query or fragment):
        return ""
    scheme = "https" if parts.scheme.lower() in ("http", "https") else parts.scheme.lower()
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    return urllib.parse.urlunsplit((scheme, netloc, path, "&".join(query), fragment))


def _ascii_host(host: str) -> str:
    """The host in ASCII: an international name in Punycode by IDNA 2008 with UTS #46
    mapping (RFC 5891; the ``idna`` package), as browsers resolve it; as it was if it has
    no such form."""
    if host.isascii():
        return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return host


def _forwarded(host: str, parts: urllib.parse.SplitResult) -> str | None:
    """The link a redirect or an AMP cache link leads to, or None for any other link.

    A redirect's target is taken as written when it is written raw
    (``url=https://...``), but for the escaped "?", "=", "&" and "#" that start and part
    its own query and fragment; and with one level of escapes undone when it is encoded
    (``url=https%3A%2F%2F...``), its bytes kept whatever their encoding.
    """
    site = host.removeprefix("www.")
    if _REDIRECTS.get(site) == parts.path:
        for parameter in parts.query.split("&"):
            name, _, value = parameter.partition("=")
            if name not in ("url", "q"):
                continue
            if value.lower().startswith(("http://", "https://")):
                return _DELIMITER.sub(lambda escape: chr(int(escape[1], 16)), value)
            target = urllib.parse.unquote_to_bytes(value.replace("+", " "))
            if target.lower().startswith((b"http://", b"https://")):
                return urllib.parse.quote_from_bytes(target, safe=_URL_CHARACTERS)
        return None
    if host.endswith(_AMP_CACHE):
        segments = parts.path.split("/")  # "", "c", "s", host, ...
        if len(segments) > 3 and segments[1] in ("c", "v", "i"):
            secure = segments[2] == "s"
            rest = "/".join(segments[3 if secure else 2 :])
            query = f"?{parts.query}" if parts.query else ""
            fragment = f"#{parts.fragment}" if parts.fragment else ""
            return f"{'https' if secure else 'http'}://{rest}{query}{fragment}"
    return None


def _page_path(path: str, *, amp_host: bool) -> str:
    """The path of the page an AMP copy's path is a copy of; any other path, as it is."""
    segments = path.rstrip("/").split("/")
    if (
        len(segments) > 2
        and segments[-1] == "amp"
        and (amp_host or _SLUG.search(segments[-2]) is not None)
    ):
        segments.pop()
    elif len(segments) > 3 and segments[-2] == "amp" and _SLUG.search(segments[-1]) is not None:
        del segments[-2]
    last = segments[-1]
    if len(segments) > 1 and last.endswith(".amp") and len(last) > len(".amp"):
        segments[-1] = last.removesuffix(".amp")
    elif len(segments) > 1 and last.endswith(".amp.html") and len(last) > len(".amp.html"):
        segments[-1] = last.removesuffix(".amp.html") + ".html"
    return "/".join(segments).rstrip("/")


def _tracking(parameter: str) -> bool:
    """Whether a query parameter ("name=value", as written) says who sent the reader, or
    asks for an AMP copy."""
    written, _, value = parameter.partition("=")
    name = urllib.parse.unquote_plus(written).lower()
    if name == "output":
        return urllib.parse.unquote_plus(value).lower() == "amp"
    return name.startswith("utm_") or name in _TRACKING


def _upper(escape: re.Match[str]) -> str:
    return escape.group().upper()


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


# A number in a headline: digits with their thousands or decimal separators ("8,020", "0.5").
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# Words of a headline or summary as written, to tell a name (capitalised) from other words.
_WRITTEN_WORD = re.compile(r"[^\W_]+")
# Capitalised words that name nothing: a title-case headline capitalises them all.
_FUNCTION_WORDS = frozenset(
    "a an and as at but by for from in into is it its of on or over the to up with after"
    " before how why what who when where new says said".split()
)
# What ``stem`` puts between a word's stem and its derivational suffix ("isra·eli").
_DERIVATION_MARK = "\u00b7"
# Stems this long or longer agree with a longer stem they begin when what follows makes a
# word of the same place or people ("russia", "russian"; "israel", "israeli"), and only then:
# Kent is not Kentucky, nor India Indiana, nor Niger Nigeria. Endings that make other places
# as often ("-a": Indian and Indiana; "-land": Queens and Queensland; "-shire": York and
# Yorkshire) are left out: a place and its people's word kept apart cost a second alert, two
# places taken for one a missed one.
_SHORTEST_PREFIX = 4
_NAME_ENDINGS = frozenset(
    {
        *("n", "an", "ian", "vian", "i", "is", "s", "es", "ese", "lese", "ish", "ic"),
        *("er", "ers", "ern", "istan", "stan"),
    }
)
# Digits grouped in thousands, with a decimal part or none ("1,500", "12.000.000",
# "1,500.5", "1.500,5"): one number, written without the groups' separator.
_THOUSANDS = re.compile(
    r"[1-9]\d{0,2}(?P<group>[.,])\d{3}(?:(?P=group)\d{3})*(?:(?!(?P=group))[.,]\d+)?"
)


@dataclasses.dataclass(frozen=True, slots=True)
class Fingerprint:
    """What an entry is compared by: its MinHash ``signature`` and what tells stories apart.

    ``title_numbers``: the numbers of its headline; ``names``: its headline's names
    (capitalised words, and every word of a script without case), each as (token, stem);
    ``summary_names``: those of its summary; ``words``: every stem of headline and summary;
    ``numbers``: every number of headline and summary.
    """

    signature: np.ndarray
    title_numbers: frozenset[str]
    names: frozenset[tuple[str, str]]
    summary_names: frozenset[tuple[str, str]]
    words: frozenset[str]
    numbers: frozenset[str]


def fingerprint(title: str, text: str) -> Fingerprint:
    """The entry's ``Fingerprint``: MinHash of its shingles, and its names and numbers.

    The signature is ``PERMUTATIONS`` 32-bit integers; two entries' signatures agree in a
    share of places that estimates the Jaccard similarity of their shingle sets
    (``similarity``); it is ``EMPTY``, like no other, for an entry of fewer than
    ``FEWEST_SHINGLES``.
    """
    analysed = analyse(title, text)
    stemming = entry_stemming(title) or entry_stemming(text)
    title_numbers = _numbers(title)
    return Fingerprint(
        _signature(shingles(title, text)),
        title_numbers,
        _names(title, stemming),
        _names(text, stemming),
        frozenset(map(_whole, analysed.title_stems)).union(map(_whole, analysed.text_stems)),
        title_numbers | _numbers(text),
    )


def _whole(stemmed: str) -> str:
    """The stem with its derivation mark taken out ("isra·eli" → "israeli"), so that a name
    and its adjective begin alike; most stems are the shared cached string itself."""
    return stemmed.replace(_DERIVATION_MARK, "") if _DERIVATION_MARK in stemmed else stemmed


def _signature(found: set[str]) -> np.ndarray:
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


def _numbers(text: str) -> frozenset[str]:
    """Each number written in ``text``, in ASCII digits, without thousands separators
    ("1,500", "1.500" and "1500" are one number) and with "." for a decimal comma."""
    found: set[str] = set()
    for number in _NUMBER.findall(text):
        if not number.isascii():
            number = "".join(
                str(unicodedata.decimal(character, character)) for character in number
            )
        grouped = _THOUSANDS.fullmatch(number)
        if grouped:
            number = number.replace(grouped["group"], "")
        found.add(number.replace(",", "."))
    return frozenset(found)


def _names(text: str, stemming: Stemming) -> frozenset[tuple[str, str]]:
    """(token, stem) of the words of ``text`` that name something: capitalised ones, and
    all words of scripts without case (Chinese, Arabic, Hebrew, ...), but no numbers."""
    found: list[str] = []
    for word in _WRITTEN_WORD.findall(text):
        first = word[0]
        if first.isupper() or (first.isalpha() and not first.islower()):
            found.extend(
                token
                for token in tokenize(word)
                if token not in _FUNCTION_WORDS and not token.isdigit()
            )
    return frozenset(zip(found, map(_whole, stems(found, stemming)), strict=True))


def _mentions(words: frozenset[str], name: tuple[str, str]) -> bool:
    """Whether ``words`` hold the name, as written or stemmed, or the same name with an
    ending (``_NAME_ENDINGS``) either way: "Russia" and "Russian", "Israel" and "Israeli",
    "Ukraine" (stem "ukrain") and "Ukrainian"."""
    token, stemmed = name
    if token in words or stemmed in words:
        return True
    forms = {form for form in (token, stemmed) if len(form) >= _SHORTEST_PREFIX}
    return any(
        len(other) >= _SHORTEST_PREFIX and (_derived(form, other) or _derived(other, form))
        for other in words
        for form in forms
    )


def _derived(name: str, word: str) -> bool:
    """Whether ``word`` is ``name`` with an ending that keeps it the same place or people."""
    return word.startswith(name) and word[len(name) :] in _NAME_ENDINGS


def same_story(first: Fingerprint, second: Fingerprint, *, threshold: float = SAME_STORY) -> bool:
    """Whether two entries tell one story by their words.

    Their signatures must agree in at least ``threshold`` of places; and, since templates
    (weather warnings, results, share moves, press releases) and boilerplate (a newsletter
    plea, a "The post ... appeared first on" footer) make different stories alike, they must
    not differ by a substitution in what tells stories apart: a number of one headline
    replaced by another (a new death toll is news); a name or number of each headline that
    the other entry lacks (Kent and Devon); a name of each summary that the other lacks (two
    briefings that share a greeting and a sign-off). A copy cut short, or under a headline
    of its own, only leaves out or adds: it stays one story.
    """
    if similarity(first, second) < threshold:
        return False
    return _agree(first, second)


def _agree(first: Fingerprint, second: Fingerprint) -> bool:
    if first.title_numbers - second.title_numbers and second.title_numbers - first.title_numbers:
        return False
    if _lacks(first.names, first.title_numbers, second) and _lacks(
        second.names, second.title_numbers, first
    ):
        return False
    return not (
        _lacks(first.summary_names, frozenset(), second)
        and _lacks(second.summary_names, frozenset(), first)
    )


def _lacks(names: frozenset[tuple[str, str]], numbers: frozenset[str], other: Fingerprint) -> bool:
    """Whether ``other`` lacks one of the names or numbers."""
    return not numbers <= other.numbers or not all(_mentions(other.words, name) for name in names)


def similarity(first: Fingerprint, second: Fingerprint) -> float:
    """The estimated Jaccard similarity of two entries' shingle sets, 0 to 1."""
    return float(np.count_nonzero(first.signature == second.signature)) / PERMUTATIONS


@dataclasses.dataclass(slots=True)
class _Member:
    slot: int
    story: str
    link: str
    feed: int
    fingerprint: Fingerprint


@dataclasses.dataclass(slots=True)
class _Story:
    started_at: dt.datetime  # when its first member was first seen, even once that one left
    feeds: collections.Counter[int]  # its members in the window, by feed


class StoryIndex:
    """The stories of the last ``window``: each entry's fingerprint, story and canonical link.

    A new entry is the same story as a member of another feed whose link is its link once
    canonical, if that member's story has no member of the new entry's feed; else as the
    most similar member of another feed that tells the same story by its words
    (``same_story``), if that member's story has no member of the new entry's feed and
    started within ``window`` before it. A feed's own entries are never one story by their
    link (its front page, a live blog's posts: storage's story key handles one link given
    twice) nor by their words: they share its boilerplate ("This is a developing story", a
    sign-off), not a story; and no chain of look-alikes makes them one either. Signatures
    sit in one matrix that a lookup compares with the new one in a single vectorised pass:
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
        self._by_link: dict[str, list[int]] = {}  # canonical link: its members, oldest first
        self._stories: dict[str, _Story] = {}
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
        return story in self._stories

    def find(
        self, entry: Fingerprint, link: str, *, feed: int, at: dt.datetime
    ) -> tuple[int, str] | None:
        """The member telling the same story as an entry of ``feed`` first seen ``at``:
        (entry id, story), or None."""
        canonical = canonical_url(link)
        if canonical:
            for entry_id in self._by_link.get(canonical, ()):
                member = self._members[entry_id]
                if not self._stories[member.story].feeds[feed]:  # its feed's, too
                    return entry_id, member.story
        if not self._members or np.array_equal(entry.signature, EMPTY):
            return None
        agreeing = np.count_nonzero(self._signatures == entry.signature, axis=1)
        agreeing[(self._feed < 0) | (self._feed == feed)] = 0
        candidates = np.flatnonzero(agreeing >= self.threshold * PERMUTATIONS)
        best_first = candidates[np.argsort(-agreeing[candidates], kind="stable")]
        for slot in best_first[:MOST_CANDIDATES]:
            entry_id = self._entry_at[int(slot)]
            member = self._members[entry_id]
            story = self._stories[member.story]
            if story.feeds[feed] or story.started_at < at - self.window:
                continue
            if _agree(entry, member.fingerprint):
                return entry_id, member.story
        return None

    def add(
        self,
        entry_id: int,
        story: str,
        entry: Fingerprint,
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
        self._signatures[slot] = entry.signature
        self._feed[slot] = feed
        self._entry_at[slot] = entry_id
        canonical = canonical_url(link)
        # The signature lives in the matrix: the member keeps the rest, not a second copy.
        kept = dataclasses.replace(entry, signature=EMPTY)
        self._members[entry_id] = _Member(slot, story, canonical, feed, kept)
        told = self._stories.get(story)
        if told is None:
            told = self._stories[story] = _Story(seen_at, collections.Counter())
        told.started_at = min(told.started_at, seen_at)
        told.feeds[feed] += 1
        if canonical:
            self._by_link.setdefault(canonical, []).append(entry_id)
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
            told = self._stories[member.story]
            told.feeds[member.feed] -= 1
            if told.feeds[member.feed] <= 0:
                del told.feeds[member.feed]
            if not told.feeds:
                del self._stories[member.story]
            if member.link:
                holders = self._by_link[member.link]
                holders.remove(entry_id)
                if not holders:
                    del self._by_link[member.link]
            gone += 1
        return gone

    def _grow(self) -> None:
        size = len(self._feed)
        self._signatures = np.concatenate([self._signatures, np.zeros_like(self._signatures)])
        self._feed = np.concatenate([self._feed, np.full(size, -1, dtype=np.int64)])
        self._entry_at.extend([0] * size)
        self._free.extend(range(2 * size - 1, size - 1, -1))
