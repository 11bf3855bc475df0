"""Full-text search on PostgreSQL: Herald's own tokens in a weighted, GIN-indexed tsvector.

The index holds exactly the tokens ``bot.topics.fts.document`` makes (the normaliser the
topic matcher uses), written as a ``tsvector`` literal rather than parsed by a text search
configuration, so PostgreSQL changes nothing in them (as FTS5's ``ascii`` tokenizer does on
SQLite): title tokens weigh A, text B, source keys C. The services' FTS5 expressions (the
small grammar ``bot.topics.fts`` writes: quoted phrases, ``title :`` and ``source :``,
AND, OR, NOT, parentheses) are rewritten here as ``tsquery`` literals of the same meaning.
"""

from __future__ import annotations

import dataclasses
import re
from typing import NamedTuple

from bot.storage.database import Database
from bot.topics.fts import Document, document

# tsvector positions stop at 16,383; PostgreSQL clamps larger ones to it.
MAX_POSITION = 16_383
# The weights of D, C, B, A for ts_rank: the title four times the text, the source nothing,
# as bm25(entries_fts, 4.0, 1.0, 0.0) on SQLite.
RANK_WEIGHTS = "{0, 0, 0.25, 1}"

# PostgreSQL keeps lexemes shorter than 2 KiB; no entry can hold a longer token, so a phrase
# with one matches nothing: a lexeme of weight D, which no entry has.
MAX_LEXEME_BYTES = 2046
NOTHING = "'§':D"

# FTS5's ascii tokenizer: ASCII letters and digits and every non-ASCII character are token
# characters; any other ASCII character separates tokens.
_SEPARATORS = re.compile(r"[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]+")
_LEXEME = re.compile(r'\s*(\(|\)|"(?:[^"]|"")*"|\b(?:AND|OR|NOT)\b|title\s*:|source\s*:)')


class ExpressionError(ValueError):
    """An expression outside the grammar ``bot.topics.fts`` writes."""


def _tokens(text: str) -> list[str]:
    return [token.lower() for token in _SEPARATORS.split(text) if token]


def _fits(token: str) -> bool:
    return len(token.encode()) <= MAX_LEXEME_BYTES


def _lexeme(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector(document: Document) -> str:
    """The ``tsvector`` literal of an entry's document: (title, summary, source) tokens."""
    parts: list[str] = []
    position = 1
    for text, weight in zip(document, "ABC", strict=True):
        for token in _tokens(text):
            if not _fits(token):
                continue
            parts.append(f"{_lexeme(token)}:{min(position, MAX_POSITION)}{weight}")
            position += 1
        position += 1  # a gap: no phrase runs from one field into the next
    return " ".join(parts)


def _phrase(tokens: list[str], weights: str) -> str:
    if not tokens:
        raise ExpressionError("empty phrase")
    if not all(map(_fits, tokens)):
        return NOTHING
    label = f":{weights}" if weights else ""
    return "(" + " <-> ".join(f"{_lexeme(token)}{label}" for token in tokens) + ")"


class _Parser:
    def __init__(self, expression: str) -> None:
        self.lexemes: list[str] = []
        at = 0
        expression = expression.rstrip()
        while at < len(expression):
            match = _LEXEME.match(expression, at)
            if match is None:
                raise ExpressionError(f"unexpected text at {at}: {expression[at : at + 20]!r}")
            self.lexemes.append(match[1])
            at = match.end()
        self.at = 0

    def _peek(self) -> str | None:
        return self.lexemes[self.at] if self.at < len(self.lexemes) else None

    def _take(self) -> str:
        lexeme = self._peek()
        if lexeme is None:
            raise ExpressionError("expression ends early")
        self.at += 1
        return lexeme

    def parse(self) -> str:
        result = self._or()
        if self._peek() is not None:
            raise ExpressionError(f"unexpected {self._peek()!r}")
        return result

    def _or(self) -> str:
        parts = [self._and()]
        while self._peek() == "OR":
            self._take()
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else "(" + " | ".join(parts) + ")"

    def _and(self) -> str:
        parts = [self._not()]
        while self._peek() == "AND":
            self._take()
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else "(" + " & ".join(parts) + ")"

    def _not(self) -> str:
        # FTS5's NOT is binary ("a NOT b": a without b) and binds tightest.
        result = self._primary()
        while self._peek() == "NOT":
            self._take()
            result = f"({result} & !{self._primary()})"
        return result

    def _primary(self) -> str:
        lexeme = self._take()
        if lexeme == "(":
            inner = self._or()
            if self._take() != ")":
                raise ExpressionError("unbalanced parentheses")
            return inner
        # A bare phrase looks in every field, as in FTS5; without a weight, GIN answers it
        # without reading the rows back. No phrase spans two fields (the gap between them),
        # and a source key (§…) is no word's stem, so only title: needs its weight.
        weights = ""
        if lexeme.startswith(("title", "source")):
            weights = "A" if lexeme.startswith("title") else ""
            lexeme = self._take()
        if not lexeme.startswith('"'):
            raise ExpressionError(f"expected a quoted phrase, found {lexeme!r}")
        return _phrase(_tokens(lexeme[1:-1].replace('""', '"')), weights)


def tsquery(expression: str) -> str:
    """The ``tsquery`` literal with the meaning of an FTS5 ``expression`` from bot.topics.fts.

    Raises ExpressionError for anything outside that grammar.
    """
    return _Parser(expression).parse()


async def index_pending(database: Database, *, batch: int) -> int:
    """Index every queued entry, newest first; how many. Processes share the queue:
    ``SKIP LOCKED`` gives each the rows no other is indexing."""
    # Every search asks first; an empty queue is one read, not a write transaction.
    if not await database.fetchvalue("SELECT EXISTS (SELECT 1 FROM entries_fts_pending)"):
        return 0
    indexed = 0
    # Each batch starts below the last: the rows just deleted stay in the queue's index as
    # dead entries until a vacuum, and a scan from the top would wade through all of them.
    below = 2**62
    while True:
        async with database.transaction() as sql:
            cursor = await sql.execute(
                "SELECT p.entry_id, e.title, e.summary, e.link, e.feed_id, e.story"
                " FROM entries_fts_pending AS p JOIN entries AS e ON e.id = p.entry_id"
                " WHERE p.entry_id < ?"
                " ORDER BY p.entry_id DESC LIMIT ? FOR UPDATE OF p SKIP LOCKED",
                (below, batch),
            )
            rows = list(await cursor.fetchall())
            if not rows:
                return indexed
            below = rows[-1]["entry_id"]
            vectors = [
                tsvector(
                    document(
                        row["title"], row["summary"], link=row["link"], feed_id=row["feed_id"]
                    )
                )
                for row in rows
            ]
            ids = [row["entry_id"] for row in rows]
            await sql.execute(
                "INSERT INTO entries_fts (entry_id, story, document)"
                " SELECT id, story, CAST(text AS tsvector)"
                " FROM unnest(CAST(? AS BIGINT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[]))"
                " AS d (id, story, text)"
                " ON CONFLICT (entry_id)"
                " DO UPDATE SET story = excluded.story, document = excluded.document",
                (ids, [row["story"] for row in rows], vectors),
            )
            await sql.execute(
                "DELETE FROM entries_fts_pending WHERE entry_id = ANY (CAST(? AS BIGINT[]))",
                (ids,),
            )
        indexed += len(rows)
        if len(rows) < batch:
            return indexed


# Bucket sizes (bit shifts of the entry id) as migration 0005's herald_fts_buckets makes
# them: each four times the last, so a few buckets of one size tile any window.
BUCKET_SHIFTS = (8, 10, 12, 14, 16, 18, 20, 22, 24)
# The first window of entry ids a search reads, newest first (or twice the matches it
# wants, if more): a common word fills its page from the newest few thousand entries.
FIRST_WINDOW = 4096
# A window is at most this many times wider than all read before it: the density of
# matches the next width is estimated from is then read from enough of the archive.
MAX_GROWTH = 8


def bucket(shift: int, number: int) -> int:
    """The bucket of entry ids ``number << shift`` up to the next, as herald_fts_buckets."""
    return number << 5 | shift


@dataclasses.dataclass(frozen=True, slots=True)
class Window:
    """Entry ids ``floor`` up to ``top`` (excluded), and the buckets that hold them all."""

    floor: int
    top: int
    buckets: tuple[int, ...]


def _tiling(low: int, high: int) -> list[int]:
    """Buckets exactly covering [low, high), largest first; both multiples of the finest."""
    found = []
    while high > low:
        for shift in reversed(BUCKET_SHIFTS):
            size = 1 << shift
            if high % size == 0 and high - size >= low:
                found.append(bucket(shift, (high - size) >> shift))
                high -= size
                break
    return found


def window(top: int, width: int, lowest: int) -> Window:
    """About ``width`` ids below ``top``, down to ``lowest`` at the least.

    The floor is rounded down to buckets a quarter of the width or less, so a handful of
    them (and one of the smallest for a ``top`` between bucket bounds) hold the window.
    """
    finest = BUCKET_SHIFTS[0]
    aligned = top >> finest << finest
    partial = [bucket(finest, aligned >> finest)] if aligned < top else []
    shift = max([s for s in BUCKET_SHIFTS if 4 << s <= width], default=finest)
    floor = min(aligned, max(top - width, 0) >> shift << shift)
    if floor <= lowest:
        floor = lowest >> finest << finest
    return Window(max(floor, lowest), top, tuple(partial + _tiling(floor, aligned)))


def next_width(*, found: int, read: int, wanted: int) -> int:
    """How many ids the next window spans, having ``found`` matches among the newest
    ``read`` ids and ``wanted`` more to find: sized from the density so far, with a tenth
    to spare, but at most ``MAX_GROWTH`` times ``read``, as a word can be far denser in
    older entries (last month's news) than in the newest."""
    if not found:
        return MAX_GROWTH * read
    return max(FIRST_WINDOW, min(MAX_GROWTH * read, int(1.1 * wanted * read / found)))


class Match(NamedTuple):
    entry_id: int
    rank: float  # ts_rank, higher is better; 0 unless ranked
    story: str


async def newest(
    database: Database, query: str, *, limit: int, before: int, ranked: bool = False
) -> list[Match]:
    """The ``limit`` newest entries below id ``before`` that the tsquery ``query`` finds,
    newest first.

    Reading every match and sorting it would cost a common word hundreds of thousands of
    rows: the index is read in windows of ids, from the newest, each sized from how dense
    the matches were in the ones before, until ``limit`` matches are found or the archive
    ends. GIN intersects the query with the window's buckets, so only matches inside the
    window are read back from the table (as few as the search needs, give or take a tenth).
    """
    bounds = await database.fetchone("SELECT MIN(entry_id), MAX(entry_id) FROM entries_fts")
    if bounds is None or bounds[0] is None or limit <= 0:
        return []
    lowest, top = int(bounds[0]), min(before, int(bounds[1]) + 1)
    score = f"ts_rank('{RANK_WEIGHTS}'::float4[], document, CAST(:query AS tsquery))"
    found: list[Match] = []
    width, read = max(FIRST_WINDOW, 2 * limit), 0
    while len(found) < limit and top > lowest:
        span = window(top, width, lowest)
        rows = await database.fetchall(
            f"SELECT entry_id, {score if ranked else '0'}, story FROM entries_fts"
            " WHERE document @@ CAST(:query AS tsquery)"
            " AND herald_fts_buckets(entry_id) && CAST(:buckets AS BIGINT[])"
            " AND entry_id >= :floor AND entry_id < :top",
            {"query": query, "buckets": list(span.buckets), "floor": span.floor, "top": span.top},
        )
        rows.sort(key=lambda row: -int(row[0]))
        found.extend(
            Match(int(row[0]), float(row[1]), row[2]) for row in rows[: limit - len(found)]
        )
        read += top - span.floor
        top = span.floor
        width = next_width(found=len(found), read=read, wanted=limit - len(found))
    return found
