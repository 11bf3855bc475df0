"""Snippets for search results: a window of text around the first match, matches marked."""

from __future__ import annotations

import re
import unicodedata

from bot.topics.normalize import query_stemmings, stems, tokenize
from bot.topics.query import Query

# Word-ish runs of the original text; each is normalised on its own to compare with the
# query, so marks land on the text exactly as the feed wrote it.
_RUN = re.compile(r"[^\W_]+", re.UNICODE)

Segment = tuple[str, bool]  # text, and whether it matched the query


def snippet(text: str, query: Query, *, width: int = 240) -> list[Segment]:
    """About ``width`` characters of ``text`` around its first match, cut at words.

    Segments join back into the shown text; matched words are marked True (in Chinese,
    Japanese and Korean, where a run of text holds many words, the matched characters).
    Without a match the snippet is the start of the text.
    """
    wanted = [phrase for phrase in query.phrases if phrase.field == "" and phrase.words]
    variants = query_stemmings(word for phrase in wanted for word in phrase.words)
    stemmed = {
        key
        for stemming in variants
        for phrase in wanted
        if not phrase.exact
        for key in stems(phrase.words, stemming)
    }
    exact = {word for phrase in wanted if phrase.exact for word in phrase.words}
    marks = [mark for run in _RUN.finditer(text) for mark in _marks(run, exact, stemmed, variants)]
    start = 0
    if marks and marks[0][0] > width // 3:
        start = text.rfind(" ", 0, marks[0][0] - width // 3) + 1
    end = len(text)
    if end - start > width:
        cut = text.rfind(" ", start, start + width)
        end = cut if cut > start else start + width
    segments: list[Segment] = [("…", False)] if start > 0 else []
    position = start
    for mark_start, mark_end in marks:
        if mark_end <= start or mark_start >= end:
            continue
        if mark_start > position:
            segments.append((text[position:mark_start], False))
        segments.append((text[max(mark_start, position) : mark_end], True))
        position = mark_end
    if position < end:
        segments.append((text[position:end], False))
    if end < len(text):
        segments.append(("…", False))
    return segments


def _marks(
    run: re.Match[str],
    exact: set[str],
    stemmed: set[str],
    variants: tuple[frozenset[str], ...],
) -> list[tuple[int, int]]:
    tokens = tokenize(run.group())
    found = [
        token
        for token in tokens
        if token in exact or any(stem in stemmed for stem in _stems(token, variants))
    ]
    if not found:
        return []
    if len(tokens) == 1:
        return [(run.start(), run.end())]
    # A run of several tokens: CJK bigrams, or words that normalising split (ﬁ, ½). Where
    # each character of the run is one of the normalised text, the bigrams are found in place.
    folded = unicodedata.normalize("NFKC", run.group()).casefold()
    if len(folded) != len(run.group()):
        return [(run.start(), run.end())]
    spans: list[tuple[int, int]] = []
    for token in found:
        at = folded.find(token)
        while at >= 0:
            spans.append((run.start() + at, run.start() + at + len(token)))
            at = folded.find(token, at + 1)
    if not spans:
        return [(run.start(), run.end())]
    merged: list[tuple[int, int]] = []
    for span_start, span_end in sorted(spans):
        if merged and span_start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], span_end))
        else:
            merged.append((span_start, span_end))
    return merged


def _stems(token: str, variants: tuple[frozenset[str], ...]) -> list[str]:
    return [stems((token,), stemming)[0] for stemming in variants]
