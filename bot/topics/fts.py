"""FTS5 expressions for a query: never user text, only quoted, normalised words."""

from __future__ import annotations

from bot.topics.query import Phrase, Query

# FTS5 syntax characters never reach the expression: every term is a double-quoted string
# of one normalised word, and a double quote inside one is doubled, as FTS5 requires.


def _term(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _phrase(phrase: Phrase) -> str:
    return " AND ".join(_term(word) for word in phrase.words)


def candidates(query: Query) -> str | None:
    """An FTS5 MATCH expression for a superset of the entries ``query`` matches.

    Each phrase becomes all of its words, anywhere: FTS5's tokenizer splits some text
    differently from ours, so adjacency and exclusions are left for the exact matcher that
    checks every candidate. None when the query has no word FTS5 could look up.
    """
    clauses = []
    for clause in query.clauses:
        terms = " AND ".join(_phrase(phrase) for phrase in clause if phrase.words)
        if terms:
            clauses.append(f"({terms})")
    return " OR ".join(clauses) if clauses else None


def _fts_phrase(phrase: Phrase) -> str:
    # A quoted string of several words is an FTS5 phrase: the words adjacent, in order.
    return '"' + " ".join(word.replace('"', '""') for word in phrase.words) + '"'


def expression(query: Query) -> str | None:
    """An FTS5 MATCH expression with the query's meaning: phrases, AND, OR and NOT.

    FTS5 stems every term (porter), so an exact phrase matches inflections here too;
    ``needs_check`` says when the exact matcher must confirm each result.
    """
    clauses = [
        "(" + " AND ".join(_fts_phrase(phrase) for phrase in clause) + ")"
        for clause in query.clauses
        if clause
    ]
    if not clauses:
        return None
    found = " OR ".join(clauses)
    # An exact exclusion would exclude its inflections too in FTS5; the matcher applies it.
    stemmed = [phrase for phrase in query.exclusions if not phrase.exact]
    if not stemmed:
        return found
    excluded = " OR ".join(_fts_phrase(phrase) for phrase in stemmed)
    return f"({found}) NOT ({excluded})"


def needs_check(query: Query) -> bool:
    """Whether FTS5 results may include entries the query doesn't match (exact phrases)."""
    return any(phrase.exact for phrase in (*query.phrases, *query.exclusions))
