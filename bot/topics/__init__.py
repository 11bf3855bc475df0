"""The topic language: parse, normalise, compile and match."""

from bot.topics.matcher import PreparedEntry, Routing, TopicIndex, matches, prepare
from bot.topics.normalize import stem, stems, tokenize
from bot.topics.query import (
    MAX_SEARCH_LENGTH,
    MAX_TOPIC_LENGTH,
    MAX_WORDS,
    InvalidQueryError,
    Phrase,
    Query,
    QueryMode,
    parse_query,
)

__all__ = [
    "MAX_SEARCH_LENGTH",
    "MAX_TOPIC_LENGTH",
    "MAX_WORDS",
    "InvalidQueryError",
    "Phrase",
    "PreparedEntry",
    "Query",
    "QueryMode",
    "Routing",
    "TopicIndex",
    "matches",
    "parse_query",
    "prepare",
    "stem",
    "stems",
    "tokenize",
]
