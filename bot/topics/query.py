"""The topic language: parsing a topic or search text into an immutable query."""

from __future__ import annotations

import dataclasses
import re
from typing import Literal

from bot.domain import HeraldError
from bot.topics import sources
from bot.topics.normalize import DEFAULT_STEMMING, Stemming, query_stemmings, stems, tokenize

__all__ = [
    "MAX_SEARCH_LENGTH",
    "MAX_TOPIC_LENGTH",
    "MAX_WORDS",
    "Field",
    "InvalidQueryError",
    "Key",
    "Phrase",
    "Query",
    "QueryMode",
    "parse_query",
]

QueryMode = Literal["topic", "search"]
# Where a phrase is looked for: the title and text (""), the title alone, or which site or
# feed the entry comes from.
Field = Literal["", "title", "site", "feed"]
# What matching compares: whether the entry's exact words (else their stems) are meant, and
# the token sequence to find there.
Key = tuple[bool, tuple[str, ...]]

MAX_TOPIC_LENGTH = 200
MAX_SEARCH_LENGTH = 4096  # a Telegram message is at most 4096 characters
MAX_WORDS = 64  # over every phrase and exclusion: keeps a hostile query cheap to compile

_QUOTES = '"“”„‟«»＂'  # phones replace " with typographic quotes as it is typed
_MINUS = "-−–—"  # phones turn a typed - into a dash, and -- into an em dash
_OPERATORS = frozenset({"OR", "AND"})

# One item of a query: an optional exclusion sign (only at the start of a word), an optional
# field (site:, feed:, title: or Google's intitle:), then either a quoted phrase (its closing
# quote may be missing) or a bare word up to a space or quote.
_ITEM = re.compile(
    rf"(?:(?<!\S)(?P<minus>[{_MINUS}])(?=\S))?"
    r"(?:(?P<field>(?i:site|feed|intitle|title)):(?=\S))?"
    rf"(?:(?P<open>[{_QUOTES}])(?P<quoted>[^{_QUOTES}]*)(?P<close>[{_QUOTES}])?"
    rf"|(?P<bare>[^\s{_QUOTES}]+))"
)

_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


class InvalidQueryError(HeraldError):
    """A topic or search text that is not a valid query; ``user_message`` says why."""


@dataclasses.dataclass(frozen=True, slots=True, order=True)
class Phrase:
    """Words that must appear in this order, adjacent, as whole words.

    ``words`` are normalised (casefolded, no diacritics or apostrophes) but not stemmed. An
    exact phrase is matched on those words; any other on their stems, so inflections match.
    A ``title`` phrase is looked for in the title alone; a ``site`` or ``feed`` one holds a
    single word, the host name or the feed's id, and is matched on the entry's source.
    """

    words: tuple[str, ...]
    exact: bool = False
    field: Field = ""

    @property
    def keys(self) -> tuple[str, ...]:
        """The token sequence that matching compares, for an entry of the default stemming."""
        return self.key(DEFAULT_STEMMING)[1]

    def key(self, stemming: Stemming) -> Key:
        """What matching compares against an entry whose words ``stemming`` stems."""
        if self.field == "site":
            return True, (sources.site_key(self.words[0]),)
        if self.field == "feed":
            return True, (sources.feed_key(self.words[0]),)
        keys = self.words if self.exact else tuple(stems(self.words, stemming))
        if self.field == "title":
            keys = tuple(sources.title_keys(keys))
        return self.exact, keys

    def _render(self, joiner: str) -> str:
        prefix = f"{self.field}:" if self.field else ""
        if self.field in ("site", "feed"):
            return prefix + self.words[0]
        if self.exact:
            return prefix + '"' + " ".join(self.words) + '"'
        # Bare words after title: would end the field at the first space.
        return prefix + ("-" if self.field else joiner).join(self.words)


@dataclasses.dataclass(frozen=True, slots=True)
class Query:
    """Any of ``clauses`` (each all of its phrases, anywhere) and none of ``exclusions``.

    ``canonical`` (also ``str(query)``) is the same for every spelling of one query and parses
    back to an equal query; ``display`` is the text as the person wrote it, tidied.

    ``keyed`` is what matching compares: the clauses once for each stemming an entry could
    have (see ``query_stemmings``), each with its phrases' keys, and every key of every
    exclusion. An entry matches when it holds every key of one clause and no exclusion.
    """

    clauses: tuple[tuple[Phrase, ...], ...]
    exclusions: tuple[Phrase, ...] = ()
    mode: QueryMode = "topic"
    display: str = dataclasses.field(default="", compare=False)
    canonical: str = dataclasses.field(init=False, compare=False, repr=False)
    keyed: tuple[tuple[tuple[Key, ...], ...], tuple[Key, ...]] = dataclasses.field(
        init=False, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        # In a topic, bare words side by side form one phrase; in a search they are separate
        # terms, so a several-word phrase there is written as one hyphenated word.
        joiner = " " if self.mode == "topic" else "-"
        clauses = " OR ".join(
            " AND ".join(phrase._render(joiner) for phrase in clause) for clause in self.clauses
        )
        exclusions = "".join(f" -{phrase._render('-')}" for phrase in self.exclusions)
        object.__setattr__(self, "canonical", clauses + exclusions)
        if not self.display:
            object.__setattr__(self, "display", self.canonical)
        variants = query_stemmings(
            word
            for phrase in (*self.phrases, *self.exclusions)
            if phrase.field in ("", "title")
            for word in phrase.words
        )
        # dict.fromkeys: duplicates go (most queries read the same in every stemming) and
        # the order stays the same from run to run.
        keyed_clauses = dict.fromkeys(
            tuple(phrase.key(stemming) for phrase in clause)
            for stemming in variants
            for clause in self.clauses
        )
        keyed_exclusions = dict.fromkeys(
            phrase.key(stemming) for stemming in variants for phrase in self.exclusions
        )
        object.__setattr__(self, "keyed", (tuple(keyed_clauses), tuple(keyed_exclusions)))

    def __str__(self) -> str:
        return self.canonical

    @property
    def phrases(self) -> tuple[Phrase, ...]:
        """Every phrase the query looks for, each once."""
        return tuple(sorted({phrase for clause in self.clauses for phrase in clause}))


def parse_query(text: str, *, mode: QueryMode, max_length: int | None = None) -> Query:
    """The query ``text`` means, or InvalidQueryError saying what to fix.

    ``OR`` and ``AND`` (uppercase only) combine terms, AND binding tighter; ``-word`` and
    ``-"a phrase"`` exclude entries anywhere in the query; ``"quoted words"`` are an exact
    phrase. In a topic, bare words side by side form one phrase; in a search each is a term.
    ``site:host``, ``feed:id`` and ``title:word`` or ``title:"a phrase"`` are terms too.
    ``max_length`` defaults to 200 characters for a topic and 4096 for a search.
    """
    if mode not in ("topic", "search"):
        raise ValueError(f"unknown query mode {mode!r}")
    limit = max_length if max_length is not None else _default_length(mode)
    text = text.strip()
    try:
        return _parse(text, mode, limit)
    except InvalidQueryError as error:
        rewrite = suggest_rewrite(text)
        if rewrite is None or rewrite == text:
            raise
        try:
            _parse(rewrite, mode, limit)
        except InvalidQueryError:
            raise error from None
        message = error.user_message
        if message == _BRACKETS:
            message = _BRACKETS.split(", so write")[0] + "."
        raise InvalidQueryError(f"{message} Did you mean: {rewrite}?") from None


def _parse(text: str, mode: QueryMode, limit: int) -> Query:
    noun = "A topic" if mode == "topic" else "A search"
    if len(text) > limit:
        raise InvalidQueryError(f"{noun} is at most {limit} characters.")

    segments, operators = _segments(text, mode)
    positive = [phrase for segment in segments for phrase in segment.phrases]
    exclusions = [phrase for segment in segments for phrase in segment.exclusions]
    if not positive:
        if exclusions:
            raise InvalidQueryError(
                f"{noun} can't only exclude words: add a word to look for before the -."
            )
        raise InvalidQueryError(f"{noun} needs at least one word to look for.")
    for index, operator in enumerate(operators):
        if not segments[index].phrases or not segments[index + 1].phrases:
            raise InvalidQueryError(f"{operator} needs words on both sides.")
    if operators and any(segment.bracketed for segment in segments):
        raise InvalidQueryError(_BRACKETS)
    words = sum(len(phrase.words) for phrase in positive + exclusions)
    if words > MAX_WORDS:
        raise InvalidQueryError(f"{noun} can have at most {MAX_WORDS} words.")

    clauses: list[set[Phrase]] = [set(segments[0].phrases)]
    for operator, segment in zip(operators, segments[1:], strict=True):
        if operator == "OR":
            clauses.append(set())
        clauses[-1].update(segment.phrases)
    return Query(
        clauses=tuple(sorted({tuple(sorted(clause)) for clause in clauses})),
        exclusions=tuple(sorted(set(exclusions))),
        mode=mode,
        display=_tidy(text),
    )


_BRACKETS = (
    "Brackets aren't supported: AND binds tighter than OR, "
    "so write Putin AND Vietnam OR Kremlin AND Vietnam."
)
_CLOSING_QUOTE = {"“": "”", "„": "“", "«": "»", "‘": "’", "‚": "‘", "‹": "›", "「": "」"}

# Words, quoted phrases and brackets of a query, for rewriting one the parser refused.
_REWRITE_TOKEN = re.compile(
    rf"[()]|(?:[{_MINUS}]|\b\w+:)?[{_QUOTES}][^{_QUOTES}]*[{_QUOTES}]?|[^\s(){_QUOTES}]+"
)
_MAX_REWRITE_CLAUSES = 8


def suggest_rewrite(text: str) -> str | None:
    """The user's own words as a query the parser takes, or None if no rewrite is obvious.

    Dangling and doubled operators are dropped (``Putin OR`` → ``Putin``), an open quote
    is closed, and brackets are multiplied out, AND binding tighter than OR:
    ``(Putin OR Kremlin) AND Vietnam`` → ``Putin AND Vietnam OR Kremlin AND Vietnam``.
    """
    tokens = []
    for raw in _REWRITE_TOKEN.findall(text):
        quoted = raw.lstrip(_MINUS).partition(":")[2] if ":" in raw else raw.lstrip(_MINUS)
        if quoted and quoted[0] in _QUOTES and (len(quoted) == 1 or quoted[-1] not in _QUOTES):
            raw += _CLOSING_QUOTE.get(quoted[0], quoted[0])
        tokens.append(raw)
    position = 0

    def expression() -> list[list[str]]:
        nonlocal position
        clauses = term()
        while position < len(tokens) and tokens[position] != ")":
            if tokens[position] == "OR":
                position += 1
                clauses = clauses + term()
            else:
                clauses = _product(clauses, term())
        return clauses

    def term() -> list[list[str]]:
        nonlocal position
        clauses = factor()
        while position < len(tokens) and tokens[position] == "AND":
            position += 1
            clauses = _product(clauses, factor())
        return clauses

    def factor() -> list[list[str]]:
        nonlocal position
        words: list[str] = []
        while position < len(tokens) and tokens[position] not in {"OR", "AND", ")"}:
            if tokens[position] == "(":
                position += 1
                inner = expression()
                if position < len(tokens) and tokens[position] == ")":
                    position += 1
                if words:
                    return _product([[" ".join(words)]], inner)
                return inner
            words.append(tokens[position])
            position += 1
        return [[" ".join(words)]] if words else [[]]

    clauses: list[list[str]] = []
    while position < len(tokens):
        clauses += expression()
        position += 1  # a stray ")"
    kept = [[part for part in clause if part] for clause in clauses]
    kept = [clause for clause in kept if clause]
    if not kept or len(kept) > _MAX_REWRITE_CLAUSES:
        return None
    return " OR ".join(_joined(clause) for clause in kept)


def _joined(clause: list[str]) -> str:
    """One AND clause; an exclusion goes beside the words before it, with no AND."""
    text = clause[0]
    for part in clause[1:]:
        text += f" {part}" if part[0] in _MINUS else f" AND {part}"
    return text


def _product(left: list[list[str]], right: list[list[str]]) -> list[list[str]]:
    return [a + b for a in left for b in right][: _MAX_REWRITE_CLAUSES + 1]


def _default_length(mode: QueryMode) -> int:
    return MAX_TOPIC_LENGTH if mode == "topic" else MAX_SEARCH_LENGTH


@dataclasses.dataclass(slots=True)
class _Segment:
    """The items between two operators."""

    phrases: list[Phrase] = dataclasses.field(default_factory=list)
    exclusions: list[Phrase] = dataclasses.field(default_factory=list)
    bracketed: bool = False


def _segments(text: str, mode: QueryMode) -> tuple[list[_Segment], list[str]]:
    segments = [_Segment()]
    operators: list[str] = []
    pending: list[str] = []  # bare words of a topic, gathering into one phrase

    def flush() -> None:
        if pending:
            segments[-1].phrases.append(Phrase(tuple(pending)))
            pending.clear()

    for item in _ITEM.finditer(text):
        bare, quoted = item["bare"], item["quoted"]
        if item["open"] is not None and item["close"] is None:
            raise InvalidQueryError('A quote is left open: add the closing ".')
        field = item["field"]
        if bare in _OPERATORS and item["minus"] is None and field is None:
            flush()
            operators.append(bare)
            segments.append(_Segment())
            continue
        segment = segments[-1]
        if field is not None:
            flush()
            phrase = _field_phrase(field.lower().removeprefix("in"), bare, quoted)
            if phrase is not None:
                kind = segment.exclusions if item["minus"] is not None else segment.phrases
                kind.append(phrase)
            continue
        words = tuple(tokenize(bare if bare is not None else quoted))
        if bare is not None and ("(" in bare or ")" in bare):
            segment.bracketed = True
        if item["minus"] is not None:
            flush()
            if words:
                segment.exclusions.append(Phrase(words, exact=quoted is not None))
        elif quoted is not None:
            flush()
            if words:
                segment.phrases.append(Phrase(words, exact=True))
        elif mode == "topic":
            pending.extend(words)
        elif words:
            segment.phrases.append(Phrase(words))
    flush()
    return segments, operators


def _field_phrase(field: str, bare: str | None, quoted: str | None) -> Phrase | None:
    value = bare if bare is not None else quoted or ""
    if field == "site":
        name = sources.host(value)
        # A single label (site:uk) would take in a whole top-level domain.
        if name is None or "." not in name:
            # The value is not echoed: replies are HTML, and it is whatever was typed.
            raise InvalidQueryError(
                "The site: filter takes a web address, such as site:bbc.co.uk."
            )
        return Phrase((name,), exact=True, field="site")
    if field == "feed":
        if not (value.isascii() and value.isdigit() and 0 < len(value) <= 18):
            raise InvalidQueryError(
                "The feed: filter takes a feed's number, as /feeds lists it: feed:12."
            )
        return Phrase((str(int(value)),), exact=True, field="feed")
    words = tuple(tokenize(value))
    return Phrase(words, exact=quoted is not None, field="title") if words else None


def _tidy(text: str) -> str:
    """``text`` on one line, single-spaced, with a replacement mark for each unprintable code.

    A control character or lone surrogate separates words where it stands, and so does the
    mark, so the tidy text parses to the same query.
    """
    return _UNPRINTABLE.sub("\ufffd", " ".join(text.split()))
