"""/latest and /search against a real SQLite archive with its FTS5 index."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Sequence
from typing import TypeVar

import pytest

from bot import formatting
from bot.domain import ParsedEntry
from bot.services.reading import (
    LATEST_CANDIDATES,
    LATEST_MAX,
    SEARCH_PAGE,
    ReadingError,
    ReadingService,
)
from bot.storage.database import Database
from bot.storage.entries import EntryRepository
from bot.storage.feeds import FeedRepository
from bot.storage.interfaces import PollSuccess
from bot.topics import InvalidQueryError
from tests.services.conftest import StepClock
from tests.topics.scripts import SCRIPTS, Script, Story

T = TypeVar("T")

HOSTILE = [
    '"',
    '""',
    "*",
    "AND",
    "OR",
    "NOT",
    "NEAR(",
    "NEAR(putin kremlin, 3)",
    ":",
    "title:putin",
    "^putin",
    "-",
    "--",
    "'",
    "AT&T",
    "C++",
    "putin*",
    "{title summary}: x",
    "🚀🔥",
    "launch 🚀",
    "مرحبا بالعالم",
    "שלום",
    "x" * 4000,
    "putin " * 700,
    "a OR",
    "OR b",
    "-only",
    "((putin))",
    "putin AND NOT kremlin",
    '"unbalanced',
    "\x00\x01",
    "  ",
    "Kim Jong-un's",
]


async def answer(call: Awaitable[T]) -> T | InvalidQueryError:
    """The call's result, or the query error it raised; anything else fails the test."""
    try:
        return await call
    except InvalidQueryError as error:
        return error


async def store(database: Database, clock: StepClock, *items: tuple[str, str]) -> None:
    feeds = FeedRepository(database)
    feed = await feeds.add("https://news.example/rss", now=clock(), next_poll_at=clock())
    entries = [
        ParsedEntry(
            key=str(n),
            title=title,
            summary=summary,
            link=f"https://news.example/{n}",
            published=clock() - dt.timedelta(minutes=len(items) - n),
            author="",
        )
        for n, (title, summary) in enumerate(items)
    ]
    await feeds.record_success(
        feed,
        PollSuccess(etag=None, last_modified=None, next_poll_at=clock(), title="World Desk"),
        entries,
        now=clock(),
        keep_after=clock() - dt.timedelta(days=90),
    )


@pytest.fixture
async def reading(database: Database, clock: StepClock) -> ReadingService:
    await store(
        database,
        clock,
        ("Putin meets Xi in Beijing", "The Kremlin said talks covered trade and energy."),
        ("Kim Jong Un visits Moscow", "North Korea's leader arrived by armoured train."),
        ("New sanctions on Russian banks", "The EU sanctioned twelve lenders on Monday."),
        ("Zelénsky addresses parliament", "Ukraine's president asked for more air defence."),
        ("AT&T and C++ walk into a bar", "A story about symbols & punctuation."),
        ("Iran tariffs rise", "Tariffs on Iran's exports rose again; sanctions loom."),
        ("Conor O’Brien wins the vote", "Dublin’s new mayor didn't expect it."),
    )
    return ReadingService(EntryRepository(database), clock=clock)


@pytest.mark.parametrize("text", HOSTILE)
async def test_any_search_text_gets_results_or_a_clear_error_never_an_fts_error(
    reading: ReadingService, text: str
) -> None:
    outcome = await answer(reading.search(1, text))

    if isinstance(outcome, InvalidQueryError):
        assert outcome.user_message
    else:
        assert outcome.page == 0
        assert len(outcome.hits) <= SEARCH_PAGE


@pytest.mark.parametrize("text", HOSTILE)
async def test_any_latest_query_gets_entries_or_a_clear_error(
    reading: ReadingService, text: str
) -> None:
    outcome = await answer(reading.latest(1, 5, text))

    if isinstance(outcome, InvalidQueryError):
        assert outcome.user_message
    else:
        assert len(outcome.entries) <= 5


@pytest.mark.parametrize(
    ("text", "titles"),
    [
        ("sanction", ["New sanctions on Russian banks", "Iran tariffs rise"]),
        ("Kim Jong-un", ["Kim Jong Un visits Moscow"]),
        ("Zelensky", ["Zelénsky addresses parliament"]),
        ("North Korea’s", ["Kim Jong Un visits Moscow"]),
        ("Putin OR Kremlin", ["Putin meets Xi in Beijing"]),
        ("sanctions -Iran", ["New sanctions on Russian banks"]),
        ("energy trade", ["Putin meets Xi in Beijing"]),
        ('"sanctioned"', ["New sanctions on Russian banks"]),
        ('"sanction"', []),
        ("AT&T", ["AT&T and C++ walk into a bar"]),
        ("O'Brien", ["Conor O’Brien wins the vote"]),
        ("didn’t expect", ["Conor O’Brien wins the vote"]),
    ],
)
async def test_search_finds_what_the_topic_language_means(
    reading: ReadingService, text: str, titles: list[str]
) -> None:
    page = await reading.search(1, text)

    assert sorted(hit.entry.title for hit in page.hits) == sorted(titles)


async def test_title_matches_rank_above_text_matches(
    reading: ReadingService, database: Database, clock: StepClock
) -> None:
    page = await reading.search(1, "tariffs")

    assert [hit.entry.title for hit in page.hits] == ["Iran tariffs rise"]
    [hit] = page.hits
    assert ("Tariffs", True) in hit.snippet


async def test_search_pages_forward_and_back(database: Database, clock: StepClock) -> None:
    await store(
        database, clock, *((f"Grain deal {n}", "Grain shipments resume.") for n in range(12))
    )
    reading = ReadingService(EntryRepository(database), clock=clock)

    first = await reading.search(7, "grain")
    second = await reading.search_page(7, first.search_id, 1)
    third = await reading.search_page(7, first.search_id, 2)

    assert (len(first.hits), len(second.hits), len(third.hits)) == (5, 5, 2)
    assert (first.has_next, second.has_next, third.has_next) == (True, True, False)
    seen = [hit.entry.id for page in (first, second, third) for hit in page.hits]
    assert len(set(seen)) == 12
    with pytest.raises(ReadingError, match="expired"):
        await reading.search_page(8, first.search_id, 1)


async def test_latest_shows_the_newest_first_and_pages_back(reading: ReadingService) -> None:
    first = await reading.latest(1, 4)
    more = await reading.more_latest(1, first.search_id, 4, first.entries[-1].id)

    assert [e.title for e in first.entries] == [
        "Conor O’Brien wins the vote",
        "Iran tariffs rise",
        "AT&T and C++ walk into a bar",
        "Zelénsky addresses parliament",
    ]
    assert first.has_more
    assert [e.title for e in more.entries] == [
        "New sanctions on Russian banks",
        "Kim Jong Un visits Moscow",
        "Putin meets Xi in Beijing",
    ]
    assert not more.has_more


async def test_latest_with_a_query_filters_in_the_topic_language(reading: ReadingService) -> None:
    page = await reading.latest(1, 3, "sanctions -Iran")

    assert [e.title for e in page.entries] == ["New sanctions on Russian banks"]
    assert page.search_id > 0


@pytest.mark.parametrize("count", [0, -1, LATEST_MAX + 1])
async def test_latest_refuses_counts_out_of_range(reading: ReadingService, count: int) -> None:
    with pytest.raises(ReadingError, match="1 to 20"):
        await reading.latest(1, count)


async def test_search_next_over_a_changing_archive_never_repeats_or_skips_a_story(
    database: Database, clock: StepClock
) -> None:
    await store(
        database, clock, *((f"Grain deal {n}", "Grain shipments resume.") for n in range(12))
    )
    reading = ReadingService(EntryRepository(database), clock=clock)
    first = await reading.search(7, "grain")
    # Between the pages, more grain stories arrive at the top of the ranking.
    feeds = FeedRepository(database)
    feed = await feeds.add("https://wire.example/rss", now=clock(), next_poll_at=clock())
    await feeds.record_success(
        feed,
        PollSuccess(etag=None, last_modified=None, next_poll_at=clock()),
        [
            ParsedEntry(
                key=f"late-{n}",
                title=f"Grain grain grain {n}",
                summary="Grain, grain and more grain.",
                link=f"https://wire.example/{n}",
                published=clock(),
                author="",
            )
            for n in range(4)
        ],
        now=clock(),
        keep_after=clock() - dt.timedelta(days=90),
    )

    second = await reading.search_page(7, first.search_id, 1)
    third = await reading.search_page(7, first.search_id, 2)

    seen = [hit.entry.title for page in (first, second, third) for hit in page.hits]
    assert sorted(seen) == sorted(f"Grain deal {n}" for n in range(12))
    assert not third.has_next


async def test_latest_with_a_query_every_candidate_fails_stops_at_the_cap_and_says_so(
    database: Database, clock: StepClock
) -> None:
    total = LATEST_CANDIDATES + 500
    await store(
        database,
        clock,
        *((f"Gaza ceasefire talks {n}", "Ceasefire in Gaza.") for n in range(total)),
    )
    reading = ReadingService(EntryRepository(database), clock=clock)

    # The index finds every entry for the stem of "ceasefires"; the exact phrase, none.
    page = await reading.latest(1, 5, '"ceasefires"')
    more = await reading.more_latest(1, page.search_id, 5, page.resume_before or 0)
    text = formatting.latest_list(
        page.entries,
        query='"ceasefires"',
        timezone="UTC",
        now=clock(),
        show_ids=False,
        examined=page.examined if page.capped else None,
    )

    assert page.entries == ()
    assert page.examined == LATEST_CANDIDATES
    assert page.capped
    assert page.has_more
    assert "newest 2,000 stories" in text
    assert more.examined == total - LATEST_CANDIDATES
    assert not more.capped
    assert not more.has_more


async def store_stories(database: Database, clock: StepClock, stories: Sequence[Story]) -> None:
    feeds = FeedRepository(database)
    feed = await feeds.add("https://news.example/rss", now=clock(), next_poll_at=clock())
    await feeds.record_success(
        feed,
        PollSuccess(etag=None, last_modified=None, next_poll_at=clock()),
        [
            ParsedEntry(
                key=str(n),
                title=story.title,
                summary=story.text,
                link=story.link,
                published=clock() - dt.timedelta(minutes=len(stories) - n),
                author="",
            )
            for n, story in enumerate(stories)
        ],
        now=clock(),
        keep_after=clock() - dt.timedelta(days=90),
    )


@pytest.mark.parametrize("script", SCRIPTS, ids=str)
async def test_search_and_latest_find_in_every_script_what_the_matcher_finds(
    database: Database, clock: StepClock, script: Script
) -> None:
    # The same table as tests/topics/test_scripts.py: search and topics can't drift apart.
    await store_stories(database, clock, script.stories)
    reading = ReadingService(EntryRepository(database), clock=clock)

    searched = {
        text: sorted(hit.entry.title for hit in (await reading.search(1, text)).hits)
        for text, _ in script.finds
    }
    latest = {
        text: sorted(entry.title for entry in (await reading.latest(1, 20, text)).entries)
        for text, _ in script.finds
    }

    expected = {
        text: sorted(script.stories[n].title for n in found) for text, found in script.finds
    }
    assert searched == expected
    assert latest == expected
