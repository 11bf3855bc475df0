"""Reading the archive: /latest, optionally filtered, and full-text /search with paging."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping

from bot.domain import Clock, Entry, HeraldError, SearchHit
from bot.storage.interfaces import Entries
from bot.topics import InvalidQueryError, Query, matches, parse_query, prepare
from bot.topics.fts import candidates, expression, needs_check
from bot.topics.highlight import snippet

log = logging.getLogger(__name__)

LATEST_DEFAULT = 5
LATEST_MAX = 20
SEARCH_PAGE = 5
# /search ranks the newest this-many matches (see Entries.ranked_matches).
SEARCH_WINDOW = 2000
# /latest with a query reads candidates newest first, this many at a time, and at most
# LATEST_CANDIDATES a request: a query nearly every entry matches but the matcher then
# excludes (`the -the`) must not walk the whole archive.
LATEST_BATCH = 200
LATEST_CANDIDATES = 2000
# Inline mode answers this many stories at a time (Telegram takes at most 50), the client
# asking for more as the person scrolls.
INLINE_PAGE = 20
INLINE_MAX = 200  # the most one inline query scrolls through


class ReadingError(HeraldError):
    """A reading command can't be answered as asked; the message says why."""


@dataclasses.dataclass(frozen=True, slots=True)
class LatestPage:
    entries: tuple[Entry, ...]
    count: int  # how many were asked for
    query: Query | None
    search_id: int  # 0 without a query
    has_more: bool
    # The entry id a More button continues before: the last one listed or examined.
    resume_before: int | None = None
    examined: int = 0  # candidates a filtered listing read
    capped: bool = False  # it stopped at LATEST_CANDIDATES, not at the end of the archive
    # For each entry listed, the other feeds that told its story (a cluster), by entry id.
    also: Mapping[int, tuple[str, ...]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True, slots=True)
class InlinePage:
    entries: tuple[Entry, ...]
    next_offset: int | None  # where the next page starts; None at the end


@dataclasses.dataclass(frozen=True, slots=True)
class SearchPage:
    query: Query
    search_id: int
    page: int  # from 0
    hits: tuple[SearchHit, ...]
    has_next: bool


class ReadingService:
    def __init__(self, entries: Entries, *, clock: Clock) -> None:
        self._entries = entries
        self._clock = clock

    async def latest(
        self,
        chat_id: int,
        count: int = LATEST_DEFAULT,
        text: str | None = None,
        *,
        search_id: int = 0,
        before: Entry | None = None,
    ) -> LatestPage:
        """The newest ``count`` entries (before ``before``), filtered by the query if any."""
        if not 1 <= count <= LATEST_MAX:
            raise ReadingError(f"/latest shows 1 to {LATEST_MAX} stories at a time.")
        query = parse_query(text, mode="topic") if text else None
        if query is not None and not search_id:
            search_id = await self._entries.save_search(chat_id, text or "", now=self._clock())
        if query is None:
            cursor = (before.published_at, before.id) if before is not None else None
            found = await self._entries.latest(limit=count + 1, before=cursor)
            listed = tuple(found[:count])
            page = LatestPage(
                listed,
                count,
                None,
                search_id,
                has_more=len(found) > count,
                resume_before=listed[-1].id if listed else None,
            )
        else:
            page = await self._filtered(query, count, search_id, before.id if before else None)
        also = await self._entries.other_sources(page.entries)
        return dataclasses.replace(page, also={key: names for key, names in also.items() if names})

    async def _filtered(
        self, query: Query, count: int, search_id: int, before_id: int | None
    ) -> LatestPage:
        """The newest entries (by arrival) the query matches, before ``before_id``.

        Reads at most ``LATEST_CANDIDATES`` candidates; the page says when it stopped there.
        """
        fts = candidates(query)
        if fts is not None and not needs_check(query):
            # The index holds the matcher's own tokens, so its answer is the matcher's.
            found = await self._entries.newest_matches(fts, limit=count + 1, before_id=before_id)
            listed = tuple(_one_per_story(found)[:count])
            return LatestPage(
                listed,
                count,
                query,
                search_id,
                has_more=len(found) > count,
                resume_before=listed[-1].id if listed else None,
                examined=len(found),
            )
        found = []
        stories: set[str] = set()  # a story several entries tell is listed once
        examined, exhausted = 0, fts is None
        while fts is not None and len(found) <= count and examined < LATEST_CANDIDATES:
            batch = await self._entries.newest_matches(
                fts, limit=min(LATEST_BATCH, LATEST_CANDIDATES - examined), before_id=before_id
            )
            for entry in batch:
                examined += 1
                before_id = entry.id
                if entry.story not in stories and _confirmed(query, entry):
                    stories.add(entry.story)
                    found.append(entry)
                    if len(found) > count:
                        break
            if len(batch) < LATEST_BATCH and len(found) <= count:
                exhausted = True
                break
        listed = tuple(found[:count])
        capped = not exhausted and len(found) <= count
        return LatestPage(
            listed,
            count,
            query,
            search_id,
            has_more=len(found) > count or capped,
            resume_before=listed[-1].id if len(found) > count else before_id,
            examined=examined,
            capped=capped,
        )

    async def more_latest(
        self, chat_id: int, search_id: int, count: int, after_id: int
    ) -> LatestPage:
        """The next page of a /latest listing, from its More button."""
        text = None
        if search_id:
            text = await self._entries.saved_search(search_id, chat_id)
            if text is None:
                raise ReadingError("That listing has expired; send /latest again.")
        last = await self._entries.get(after_id)
        if last is None:
            raise ReadingError("That listing has expired; send /latest again.")
        return await self.latest(chat_id, count, text, search_id=search_id, before=last)

    async def inline(self, text: str, *, offset: int = 0) -> InlinePage:
        """``@bot words`` in any chat: the best matches, ranked as /search ranks them, or the
        newest stories for no words; ``INLINE_PAGE`` from ``offset``.

        Raises InvalidQueryError (with a user message) for words that aren't a query.
        """
        offset = max(offset, 0)
        if offset >= INLINE_MAX:
            return InlinePage((), None)
        if not text.strip():
            found = await self._entries.latest(limit=offset + INLINE_PAGE + 1, before=None)
            page = found[offset : offset + INLINE_PAGE]
            more = len(found) > offset + INLINE_PAGE and offset + INLINE_PAGE < INLINE_MAX
            return InlinePage(tuple(page), offset + INLINE_PAGE if more else None)
        results = [
            entry_id for entry_id, _ in await self._ranked(parse_query(text, mode="search"))
        ]
        wanted = results[offset : offset + INLINE_PAGE]
        by_id = {entry.id: entry for entry in await self._entries.many(wanted)}
        more = len(results) > offset + INLINE_PAGE and offset + INLINE_PAGE < INLINE_MAX
        return InlinePage(
            tuple(by_id[i] for i in wanted if i in by_id), offset + INLINE_PAGE if more else None
        )

    async def search(self, chat_id: int, text: str) -> SearchPage:
        """The first page of a search; its results are kept as they are now for Next/Prev.

        A story several entries tell (a cluster) is one result: its best-ranked entry.
        """
        query = parse_query(text, mode="search")
        results = _one_per_story_ids(await self._ranked(query))
        search_id = await self._entries.save_search(
            chat_id, text, now=self._clock(), results=results
        )
        return await self._page(query, search_id, results, 0)

    async def search_page(self, chat_id: int, search_id: int, page: int) -> SearchPage:
        """Another page of a kept search: the same results, so none repeats or goes missing."""
        text = await self._entries.saved_search(search_id, chat_id)
        results = await self._entries.saved_results(search_id, chat_id)
        if text is None or results is None:
            raise ReadingError("That search has expired; send it again.")
        try:
            query = parse_query(text, mode="search")
        except InvalidQueryError as error:
            raise ReadingError(error.user_message) from None
        return await self._page(query, search_id, results, max(page, 0))

    async def _ranked(self, query: Query) -> list[tuple[int, str]]:
        """Every result of the query, best first: (entry id, story); see
        ``Entries.ranked_matches``."""
        fts = expression(query)
        if fts is None:
            return []
        ranked = await self._entries.ranked_matches(fts, window=SEARCH_WINDOW)
        if not needs_check(query):
            return ranked
        # Exact phrases: FTS5 stems every term, so the matcher confirms each result.
        entries = await self._entries.many([entry_id for entry_id, _ in ranked])
        confirmed = {entry.id for entry in entries if _confirmed(query, entry)}
        return [(entry_id, story) for entry_id, story in ranked if entry_id in confirmed]

    async def _page(
        self, query: Query, search_id: int, results: list[int], page: int
    ) -> SearchPage:
        wanted = results[page * SEARCH_PAGE : (page + 1) * SEARCH_PAGE]
        # An entry pruned since the search was made is left out of its page.
        by_id = {entry.id: entry for entry in await self._entries.many(wanted)}
        also = await self._entries.other_sources(list(by_id.values()))
        hits = tuple(
            SearchHit(
                by_id[entry_id],
                tuple(snippet(by_id[entry_id].summary, query)),
                also.get(entry_id, ()),
            )
            for entry_id in wanted
            if entry_id in by_id
        )
        has_next = len(results) > (page + 1) * SEARCH_PAGE
        return SearchPage(query, search_id, page, hits, has_next=has_next)


def _one_per_story(entries: list[Entry]) -> list[Entry]:
    """The first entry of each story, in order: a story several entries tell, listed once."""
    seen: set[str] = set()
    kept = []
    for entry in entries:
        if entry.story not in seen:
            seen.add(entry.story)
            kept.append(entry)
    return kept


def _one_per_story_ids(ranked: list[tuple[int, str]]) -> list[int]:
    """The first entry id of each story, in order, from (entry id, story) pairs."""
    seen: set[str] = set()
    kept = []
    for entry_id, story in ranked:
        if story not in seen:
            seen.add(story)
            kept.append(entry_id)
    return kept


def _confirmed(query: Query, entry: Entry) -> bool:
    return matches(
        query, prepare(entry.title, entry.summary, link=entry.link, feed_id=entry.feed_id)
    )
