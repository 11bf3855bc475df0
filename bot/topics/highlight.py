"""Snippets for search results: a window of text around the first match, matches marked."""

from __future__ import annotations

import re

from bot.topics.normalize import stem, tokenize
from bot.topics.query import Query

# Word-ish runs of the original text; each is normalised on its own to compare with the
# query, so marks land on the text exactly as the feed wrote it.
_RUN = re.compile(r"[^\W_]+", re.UNICODE)

Segment = tuple[str, bool]  # text, and whether it matched the query


def snippet(text: str, query: Query, *, width: int = 240) -> list[Segment]:
    """About ``width`` characters of ``text`` around its first match, cut at words.

    Segments join back into the shown text; matched words are marked True. Without a match
    the snippet is the start of the text.
    """
    stemmed = {stem(word) for phrase in query.phrases if not phrase.exact for word in phrase.words}
    exact = {word for phrase in query.phrases if phrase.exact for word in phrase.words}
    marks = [
        (run.start(), run.end())
        for run in _RUN.finditer(text)
        if any(token in exact or stem(token) in stemmed for token in tokenize(run.group()))
    ]
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
