"""The full-text index: Herald's own tokens, kept in step with entries, rebuilt on upgrade."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from bot.domain import ParsedEntry
from bot.storage.database import Database, migrations
from bot.storage.entries import INDEX_BATCH, EntryRepository
from bot.storage.feeds import FeedRepository
from bot.storage.interfaces import PollSuccess
from bot.topics import parse_query
from bot.topics.fts import candidates

NOW = dt.datetime(2026, 3, 14, 9, 30, tzinfo=dt.UTC)
INDEX_MIGRATION = 11


async def found(entries: EntryRepository, text: str) -> list[str]:
    expression = candidates(parse_query(text, mode="search"))
    assert expression is not None
    return sorted(entry.title for entry in await entries.newest_matches(expression, limit=1000))


async def store(
    database: Database, *stories: tuple[str, str], url: str = "https://a.example/rss"
) -> int:
    feeds = FeedRepository(database)
    feed = await feeds.add(url, now=NOW, next_poll_at=NOW)
    await feeds.record_success(
        feed,
        PollSuccess(etag=None, last_modified=None, next_poll_at=NOW),
        [
            ParsedEntry(
                key=title,
                title=title,
                summary=summary,
                link=f"https://news.example/{n}",
                published=NOW - dt.timedelta(minutes=n),
                author="",
            )
            for n, (title, summary) in enumerate(stories)
        ],
        now=NOW,
        keep_after=NOW - dt.timedelta(days=90),
    )
    return feed.id


def create_before_the_index_migration(path: Path, stories: list[tuple[str, str]]) -> None:
    """A database as the release before migration 0011 left it, holding ``stories``."""
    connection = sqlite3.connect(path, isolation_level=None)
    for number, _, sql in migrations():
        if number < INDEX_MIGRATION:
            connection.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {number};\nCOMMIT;")
    connection.execute(
        "INSERT INTO feeds (id, url, next_poll_at, created_at)"
        " VALUES (1, 'https://a.example', 0, 0)"
    )
    connection.executemany(
        "INSERT INTO entries (feed_id, key, title, summary, link, author, published_at,"
        " first_seen_at, updated_at, routed) VALUES (1, ?, ?, ?, 'https://news.example/1', '',"
        " 0, 0, 0, 1)",
        [(str(n), title, summary) for n, (title, summary) in enumerate(stories)],
    )
    connection.close()


async def test_upgrading_indexes_every_stored_entry_in_herald_tokens(tmp_path: Path) -> None:
    stories = [(f"Story {n}", "Путина встретили в Москве") for n in range(INDEX_BATCH + 5)]
    stories.append(("今天上海下雨", "Σύνοδος κορυφής"))
    create_before_the_index_migration(tmp_path / "herald.db", stories)

    database = await Database.open(tmp_path / "herald.db")
    try:
        entries = EntryRepository(database)
        assert await entries.count() == len(stories)
        assert await found(entries, "上海") == ["今天上海下雨"]
        assert await found(entries, "ΣΥΝΟΔΟΣ") == ["今天上海下雨"]
        assert len(await found(entries, "Путин")) == INDEX_BATCH + 5
        assert await entries.index_pending() == 0
    finally:
        await database.close()


async def test_a_new_entry_is_searchable_once_the_index_catches_up(database: Database) -> None:
    entries = EntryRepository(database)
    await store(database, ("Путин в Пекине", ""))

    assert await entries.index_pending() == 1
    assert await found(entries, "Путина") == ["Путин в Пекине"]
    assert await entries.index_pending() == 0


async def test_searching_and_routing_bring_the_index_up_to_date_first(database: Database) -> None:
    entries = EntryRepository(database)
    await store(database, ("Kim visits", ""))

    assert await found(entries, "Kim") == ["Kim visits"]
    await store(database, ("Kim returns", ""), url="https://b.example/rss")
    await entries.unrouted(limit=10)

    assert await entries.index_pending() == 0


async def test_pruned_entries_leave_the_index(database: Database) -> None:
    entries = EntryRepository(database)
    await store(database, ("New grain deal", ""), ("Old grain deal", ""))
    await entries.index_pending()

    await entries.prune(published_before=NOW - dt.timedelta(seconds=30), now=NOW)

    assert await found(entries, "grain") == ["New grain deal"]
    assert await database.fetchvalue("SELECT COUNT(*) FROM entries_fts") == 1


async def test_a_removed_feeds_entries_leave_the_index_and_its_queue(database: Database) -> None:
    entries = EntryRepository(database)
    feed_id = await store(database, ("Grain deal", ""))
    await FeedRepository(database).remove(feed_id)

    assert await entries.index_pending() == 0
    assert await database.fetchvalue("SELECT COUNT(*) FROM entries_fts") == 0


async def test_site_and_feed_are_looked_up_in_the_index(database: Database) -> None:
    entries = EntryRepository(database)
    first = await store(database, ("Grain deal", ""))
    await store(database, ("Grain talks", ""), url="https://b.example/rss")

    assert await found(entries, f"feed:{first} grain") == ["Grain deal"]
    assert await found(entries, "site:news.example grain") == ["Grain deal", "Grain talks"]
    assert await found(entries, "site:news.example grain -site:other.example") == [
        "Grain deal",
        "Grain talks",
    ]
    assert await found(entries, "site:other.example grain") == []


async def test_a_word_never_finds_an_entry_by_its_source(database: Database) -> None:
    entries = EntryRepository(database)
    await store(database, ("Grain deal", ""))

    assert await found(entries, "news") == []
    assert await found(entries, "example") == []


async def test_the_newest_matches_are_found_however_far_apart_their_ids(
    database: Database,
) -> None:
    # PostgreSQL reads the index in windows of ids; these fall in buckets of every size.
    ids = [1, 2, 300, 5_000, 70_000, 1_000_000, 2**24 + 3, 2**26 + 7]
    await database.execute(
        "INSERT INTO feeds (id, url, next_poll_at, created_at)"
        " VALUES (1, 'https://a.example', 0, 0)"
    )
    for entry_id in [*ids, *(n + 100 for n in ids)]:
        await database.execute(
            "INSERT INTO entries (id, feed_id, key, title, summary, link, author, published_at,"
            " first_seen_at, updated_at, routed, story)"
            " VALUES (?, 1, ?, ?, '', 'https://news.example/1', '', 0, 0, 0, 1, ?)",
            (
                entry_id,
                str(entry_id),
                f"{'Grain' if entry_id in ids else 'Oil'} deal {entry_id}",
                f"story {entry_id}",
            ),
        )
    entries = EntryRepository(database)
    grain = candidates(parse_query("grain", mode="search"))
    assert grain is not None

    newest = await entries.newest_matches(grain, limit=3)
    older = await entries.newest_matches(grain, limit=10, before_id=70_000)
    ranked = await entries.ranked_matches(grain, window=6)

    assert [entry.id for entry in newest] == [2**26 + 7, 2**24 + 3, 1_000_000]
    assert [entry.id for entry in older] == [5_000, 300, 2, 1]
    assert sorted(ranked, reverse=True) == [(n, f"story {n}") for n in reversed(ids[2:])]


async def test_a_search_tells_the_story_an_entry_joined_since_it_was_indexed(
    database: Database,
) -> None:
    entries = EntryRepository(database)
    await store(database, ("Grain deal signed", ""), ("Grain deal: the details", ""))
    grain = candidates(parse_query("grain", mode="search"))
    assert grain is not None
    [(first, _), (second, _)] = sorted(await entries.ranked_matches(grain, window=10))

    # As the router does when it finds the second entry tells the first one's story.
    await database.execute(
        "UPDATE entries SET story = (SELECT story FROM entries WHERE id = ?) WHERE id = ?",
        (first, second),
    )

    [(_, one), (_, other)] = await entries.ranked_matches(grain, window=10)
    assert one == other
