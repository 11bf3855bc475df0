"""Reading the archive: /latest, optionally filtered, and full-text /search with paging."""

from __future__ import annotations

import dataclasses
import logging
from itertools import islice

from bot.domain import Clock, Entry, HeraldError, SearchHit
from bot.storage.entries import EntryRepository
from bot.topics import InvalidQueryError, Query, matches, parse_query, prepare
from bot.topics.fts import candidates, expression, needs_check
from bot.topics.highlight import snippet

log = logging.getLogger(__name__)

LATEST_DEFAULT = 5
LATEST_MAX = 20
SEARCH_PAGE = 5
# /search ranks the newest this-many matches (see EntryRepository.search).
SEARCH_WINDOW = 2000
# /latest with a query reads candidates newest first, this many at a time.
LATEST_BATCH = 200


class ReadingError(HeraldError):
    """A reading command can't be answered as asked; the message says why."""


@dataclasses.dataclass(frozen=True, slots=True)
class LatestPage:
    entries: tuple[Entry, ...]
    count: int  # how many were asked for
    query: Query | None
    search_id: int  # 0 without a query
    has_more: bool


@dataclasses.dataclass(frozen=True, slots=True)
class SearchPage:
    query: Query
    search_id: int
    page: int  # from 0
    hits: tuple[SearchHit, ...]
    has_next: bool


class ReadingService:
    def __init__(self, entries: EntryRepository, *, clock: Clock) -> None:
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
            raise ReadingError(f"/latest shows 1 to {LATEST_MAX} entries at a time.")
        query = parse_query(text, mode="topic") if text else None
        if query is not None and not search_id:
            search_id = await self._entries.save_search(chat_id, text or "", now=self._clock())
        if query is None:
            cursor = (before.published_at, before.id) if before is not None else None
            found = await self._entries.latest(limit=count + 1, before=cursor)
        else:
            found = await self._filtered(query, count + 1, before.id if before else None)
        return LatestPage(
            tuple(found[:count]), count, query, search_id, has_more=len(found) > count
        )

    async def _filtered(self, query: Query, wanted: int, before_id: int | None) -> list[Entry]:
        """The newest entries (by arrival) the query matches, before ``before_id``."""
        fts = candidates(query)
        if fts is None:
            return []
        if not needs_check(query):
            # The index holds the matcher's own tokens, so its answer is the matcher's.
            return await self._entries.newest_matches(fts, limit=wanted, before_id=before_id)
        found: list[Entry] = []
        while len(found) < wanted:
            batch = await self._entries.newest_matches(
                fts, limit=LATEST_BATCH, before_id=before_id
            )
            found += [entry for entry in batch if _confirmed(query, entry)]
            if len(batch) < LATEST_BATCH:
                break
            before_id = batch[-1].id
        return found[:wanted]

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

    async def search(self, chat_id: int, text: str) -> SearchPage:
        query = parse_query(text, mode="search")
        search_id = await self._entries.save_search(chat_id, text, now=self._clock())
        return await self._page(query, search_id, 0)

    async def search_page(self, chat_id: int, search_id: int, page: int) -> SearchPage:
        text = await self._entries.saved_search(search_id, chat_id)
        if text is None:
            raise ReadingError("That search has expired; send it again.")
        try:
            query = parse_query(text, mode="search")
        except InvalidQueryError as error:
            raise ReadingError(error.user_message) from None
        return await self._page(query, search_id, max(page, 0))

    async def _page(self, query: Query, search_id: int, page: int) -> SearchPage:
        fts = expression(query)
        if fts is None:
            return SearchPage(query, search_id, page, (), has_next=False)
        if not needs_check(query):
            found = await self._entries.search(
                fts, offset=page * SEARCH_PAGE, limit=SEARCH_PAGE + 1, window=SEARCH_WINDOW
            )
        else:
            # Exact phrases: the index holds stems, so the matcher confirms results, best
            # first, only as far as this page needs (preparing a long entry costs a little).
            ranked = await self._entries.search(
                fts, offset=0, limit=SEARCH_WINDOW, window=SEARCH_WINDOW
            )
            needed = (page + 1) * SEARCH_PAGE + 1
            confirmed = list(islice((e for e in ranked if _confirmed(query, e)), needed))
            found = confirmed[page * SEARCH_PAGE : needed]
        hits = tuple(
            SearchHit(entry, tuple(snippet(entry.summary, query))) for entry in found[:SEARCH_PAGE]
        )
        return SearchPage(query, search_id, page, hits, has_next=len(found) > SEARCH_PAGE)


def _confirmed(query: Query, entry: Entry) -> bool:
    return matches(
        query, prepare(entry.title, entry.summary, link=entry.link, feed_id=entry.feed_id)
    )
