"""The full-text index's documents and its FTS5 expressions: only Herald's own tokens."""

from __future__ import annotations

from collections.abc import Iterable

from bot.topics import sources
from bot.topics.normalize import analyse, query_stemmings, stems
from bot.topics.query import Phrase, Query

__all__ = ["Document", "candidates", "document", "expression", "needs_check"]

# The index holds, per entry, the stems the matcher compares, space-joined, in columns
# title, summary and source (site and feed keys); its tokenizer is FTS5's ``ascii``, which
# splits only at the spaces and ASCII punctuation (none survives normalising) and leaves
# every other character alone, so its tokens are exactly ours: search and topics can't drift.
# FTS5 syntax characters never reach an expression either: every term is a double-quoted
# string of normalised tokens, and a double quote inside one is doubled, as FTS5 requires.

Document = tuple[str, str, str]  # title, summary, source


def document(
    title: str,
    summary: str,
    *,
    link: str,
    feed_id: int,
    language: str | None = None,
) -> Document:
    """What the index holds for an entry, made by the normaliser the matcher uses."""
    analysed = analyse(title, summary, language=language)
    source = [*sources.link_keys(link), sources.feed_key(feed_id)]
    return " ".join(analysed.title_stems), " ".join(analysed.text_stems), " ".join(source)


def _quoted(tokens: Iterable[str]) -> str:
    return '"' + " ".join(token.replace('"', '""') for token in tokens) + '"'


def _phrase(phrase: Phrase, stemming: frozenset[str]) -> str:
    # A quoted string of several tokens is an FTS5 phrase: adjacent, in order, in one column,
    # just as the matcher keeps title and text apart.
    if phrase.field in ("site", "feed"):
        return f"source : {_quoted(phrase.key(stemming)[1])}"
    # The index holds stems only: an exact phrase looks up its words' stems, and the matcher
    # confirms the words (see needs_check).
    terms = _quoted(stems(phrase.words, stemming))
    # No word's stem can equal a source key (those start with §), so a bare phrase may look in
    # every column.
    return f"title : {terms}" if phrase.field == "title" else terms


def _variants(query: Query) -> tuple[frozenset[str], ...]:
    return query_stemmings(
        word
        for phrase in (*query.phrases, *query.exclusions)
        if phrase.field in ("", "title")
        for word in phrase.words
    )


def _clauses(query: Query) -> str | None:
    clauses = dict.fromkeys(
        "(" + " AND ".join(_phrase(phrase, stemming) for phrase in clause) + ")"
        for stemming in _variants(query)
        for clause in query.clauses
        if clause
    )
    return " OR ".join(clauses) if clauses else None


def _excluded(phrases: Iterable[Phrase], query: Query) -> str | None:
    excluded = dict.fromkeys(
        _phrase(phrase, stemming) for stemming in _variants(query) for phrase in phrases
    )
    return " OR ".join(excluded) if excluded else None


def candidates(query: Query) -> str | None:
    """An FTS5 MATCH expression for a superset of the entries ``query`` matches.

    Exact to the query but for exact phrases and their exclusions, which the index (stems
    only) can't tell apart from their inflections: the matcher checks every candidate.
    None when the query has nothing to look up.
    """
    found = _clauses(query)
    if found is None:
        return None
    excluded = _excluded((phrase for phrase in query.exclusions if not _unsure(phrase)), query)
    return found if excluded is None else f"({found}) NOT ({excluded})"


def expression(query: Query) -> str | None:
    """An FTS5 MATCH expression with the query's meaning: phrases, fields, AND, OR and NOT.

    It is ``candidates``: ``needs_check`` says when the exact matcher must confirm results.
    """
    return candidates(query)


def needs_check(query: Query) -> bool:
    """Whether FTS5 results may include entries the query doesn't match (exact phrases)."""
    return any(map(_unsure, (*query.phrases, *query.exclusions)))


def _unsure(phrase: Phrase) -> bool:
    # Sites and feeds are exact keys in the index as well; only exact words are not.
    return phrase.exact and phrase.field in ("", "title")
