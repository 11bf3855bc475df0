"""Full-text search on PostgreSQL: Herald's own tokens in a weighted, GIN-indexed tsvector.

The index holds exactly the tokens ``bot.topics.fts.document`` makes (the normaliser the
topic matcher uses), written as a ``tsvector`` literal rather than parsed by a text search
configuration, so PostgreSQL changes nothing in them (as FTS5's ``ascii`` tokenizer does on
SQLite): title tokens weigh A, text B, source keys C. The services' FTS5 expressions (the
small grammar ``bot.topics.fts`` writes: quoted phrases, ``title :`` and ``source :``,
AND, OR, NOT, parentheses) are rewritten here as ``tsquery`` literals of the same meaning.
"""

from __future__ import annotations

import re

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
    indexed = 0
    # Each batch starts below the last: the rows just deleted stay in the queue's index as
    # dead entries until a vacuum, and a scan from the top would wade through all of them.
    below = 2**62
    while True:
        async with database.transaction() as sql:
            cursor = await sql.execute(
                "SELECT p.entry_id, e.title, e.summary, e.link, e.feed_id"
                " FROM entries_fts_pending AS p JOIN entries AS e ON e.id = p.entry_id"
                " WHERE p.entry_id < ?"
                " ORDER BY p.entry_id DESC LIMIT ? FOR UPDATE OF p SKIP LOCKED",
                (below, batch),
            )
            rows = list(await cursor.fetchall())
            if rows:
                below = rows[-1]["entry_id"]
            documents = [
                (
                    row["entry_id"],
                    tsvector(
                        document(
                            row["title"], row["summary"], link=row["link"], feed_id=row["feed_id"]
                        )
                    ),
                )
                for row in rows
            ]
            ids = [entry_id for entry_id, _ in documents]
            await sql.execute(
                "INSERT INTO entries_fts (entry_id, document)"
                " SELECT id, CAST(text AS tsvector)"
                " FROM unnest(CAST(? AS BIGINT[]), CAST(? AS TEXT[])) AS d (id, text)"
                " ON CONFLICT (entry_id) DO UPDATE SET document = excluded.document",
                (ids, [vector for _, vector in documents]),
            )
            await sql.execute(
                "DELETE FROM entries_fts_pending WHERE entry_id = ANY (CAST(? AS BIGINT[]))",
                (ids,),
            )
        indexed += len(documents)
        if len(rows) < batch:
            return indexed


# The first window of entry ids a search reads, newest first; each next one is four times
# wider. A common word fills its page from the newest few thousand entries without
# touching the rest; a rare one is found through the GIN index, window by window.
FIRST_WINDOW = 4096


async def newest(
    database: Database, query: str, *, limit: int, before: int, ranked: bool = False
) -> list[tuple[int, float]]:
    """The ``limit`` newest entries below id ``before`` that the tsquery ``query`` finds:
    (entry id, ts_rank or 0), newest first.

    Reading every match and sorting it would cost a common word hundreds of thousands of
    rows: the index is read in widening windows of ids, from the newest, until ``limit``
    matches are found or the archive ends.
    """
    bounds = await database.fetchone("SELECT MIN(entry_id), MAX(entry_id) FROM entries_fts")
    if bounds is None or bounds[0] is None or limit <= 0:
        return []
    lowest, top = int(bounds[0]), min(before, int(bounds[1]) + 1)
    score = f"ts_rank('{RANK_WEIGHTS}'::float4[], document, CAST(:query AS tsquery))"
    found: list[tuple[int, float]] = []
    width = max(FIRST_WINDOW, 4 * limit)
    while len(found) < limit and top > lowest:
        floor = max(top - width, lowest)
        rows = await database.fetchall(
            f"SELECT entry_id, {score if ranked else '0'} FROM entries_fts"
            " WHERE document @@ CAST(:query AS tsquery)"
            " AND entry_id >= :floor AND entry_id < :top"
            " ORDER BY entry_id DESC LIMIT :left",
            {"query": query, "floor": floor, "top": top, "left": limit - len(found)},
        )
        found.extend((int(row[0]), float(row[1])) for row in rows)
        top, width = floor, width * 4
    return found
