"""The feed watcher against a real loopback feed server and a real SQLite file."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import itertools
import random

import httpx
import pytest

from bot import formatting
from bot.domain import Feed
from bot.feeds import HttpFeedFetcher
from bot.sandbox.feedserver import FeedItem, FeedServer
from bot.services.feeds import MAX_BACKOFF, MAX_POLLS_PER_HOST, FeedError, FeedService
from bot.storage.database import Database
from bot.storage.entries import EntryRepository
from bot.storage.feeds import FeedRepository
from bot.topics import parse_query
from bot.topics.fts import candidates
from tests.services.conftest import StepClock

INTERVAL = dt.timedelta(seconds=120)


def story(n: int, clock: StepClock, **fields: object) -> FeedItem:
    values: dict[str, object] = {
        "title": f"Story {n}",
        "link": f"https://news.example/{n}",
        "summary": f"What happened in story {n}.",
        "published": clock.now - dt.timedelta(minutes=60 - n),
    }
    values.update(fields)
    return FeedItem(**values)  # type: ignore[arg-type]


class Watcher:
    """A FeedService with the pieces a test inspects."""

    def __init__(
        self, database: Database, client: httpx.AsyncClient, clock: StepClock, **limits: float
    ) -> None:
        self.feeds = FeedRepository(database)
        self.entries = EntryRepository(database)
        self.new_entry_calls = 0
        self.notices: list[Feed] = []
        self.database = database
        self.service = FeedService(
            self.feeds,
            self.entries,
            HttpFeedFetcher(client, **limits),  # type: ignore[arg-type]
            poll_interval=INTERVAL,
            retention=dt.timedelta(days=90),
            clock=clock,
            on_new_entries=self._on_new_entries,
            notify_failing=self._notify,
            rng=random.Random(7),
        )

    def _on_new_entries(self) -> None:
        self.new_entry_calls += 1

    async def _notify(self, feed: Feed) -> None:
        self.notices.append(feed)

    async def feed(self, url: str) -> Feed:
        feed = await self.feeds.by_url(url)
        assert feed is not None
        return feed

    async def poll(self, url: str) -> None:
        await self.service.poll(await self.feed(url))

    async def titles(self, *, routed: int | None = None) -> list[str]:
        sql = "SELECT title FROM entries"
        params: tuple[int, ...] = ()
        if routed is not None:
            sql += " WHERE routed = ?"
            params = (routed,)
        rows = await self.database.fetchall(sql + " ORDER BY id", params)
        return [row[0] for row in rows]


@pytest.fixture
def watcher(database: Database, client: httpx.AsyncClient, clock: StepClock) -> Watcher:
    return Watcher(database, client, clock)


async def test_the_first_poll_builds_the_archive_and_alerts_nobody(
    watcher: Watcher, feed_server: FeedServer, clock: StepClock
) -> None:
    feed_server.publish_rss("/world.xml", [story(1, clock), story(2, clock)], title="World")
    await watcher.service.ensure([feed_server.url("/world.xml")])

    await watcher.poll(feed_server.url("/world.xml"))

    assert await watcher.titles(routed=1) == ["Story 1", "Story 2"]
    assert watcher.new_entry_calls == 0
    feed = await watcher.feed(feed_server.url("/world.xml"))
    assert feed.title == "World"
    assert feed.baseline_done


async def test_entries_new_after_the_first_poll_wait_for_routing_in_publication_order(
    watcher: Watcher, feed_server: FeedServer, clock: StepClock
) -> None:
    url = feed_server.url("/world.xml")
    feed_server.publish_rss("/world.xml", [story(1, clock)])
    await watcher.service.ensure([url])
    await watcher.poll(url)

    newer, older = story(9, clock), story(5, clock)
    feed_server.publish_rss("/world.xml", [newer, story(1, clock), older])
    await watcher.poll(url)

    assert await watcher.titles(routed=0) == ["Story 5", "Story 9"]
    assert watcher.new_entry_calls == 1
    assert [entry.title for entry in await watcher.entries.unrouted(limit=10)] == [
        "Story 5",
        "Story 9",
    ]


async def test_an_unchanged_feed_is_polled_conditionally_and_answered_304(
    watcher: Watcher, feed_server: FeedServer, clock: StepClock
) -> None:
    url = feed_server.url("/world.xml")
    feed_server.publish_rss("/world.xml", [story(1, clock)])
    await watcher.service.ensure([url])
    await watcher.poll(url)

    await watcher.poll(url)

    first, second = feed_server.requests("/world.xml")
    assert not first.conditional
    assert second.conditional
    assert second.status == 304
    feed = await watcher.feed(url)
    assert (feed.polls, feed.polls_not_modified) == (2, 1)
    assert feed.next_poll_at == clock.now + INTERVAL


async def test_a_relisted_or_reordered_entry_changes_nothing(
    watcher: Watcher, feed_server: FeedServer, clock: StepClock
) -> None:
    url = feed_server.url("/world.xml")
    feed_server.publish_rss("/world.xml", [story(1, clock), story(2, clock)])
    await watcher.service.ensure([url])
    await watcher.poll(url)

    feed_server.publish_rss("/world.xml", [story(2, clock), story(1, clock), story(2, clock)])
    await watcher.poll(url)

    assert await watcher.titles() == ["Story 1", "Story 2"]
    assert watcher.new_entry_calls == 0


async def test_an_entry_edited_in_place_is_updated_and_searchable_but_not_new(
    watcher: Watcher, feed_server: FeedServer, clock: StepClock, database: Database
) -> None:
    url = feed_server.url("/world.xml")
    feed_server.publish_rss("/world.xml", [story(1, clock)])
    await watcher.service.ensure([url])
    await watcher.poll(url)
    assert len(await searched(watcher, "happened")) == 1

    feed_server.publish_rss(
        "/world.xml", [story(1, clock, title="Story 1: ceasefire agreed", summary="Updated.")]
    )
    await watcher.poll(url)

    assert await watcher.titles() == ["Story 1: ceasefire agreed"]
    assert await watcher.titles(routed=0) == []
    assert watcher.new_entry_calls == 0
    assert len(await searched(watcher, "ceasefire")) == 1
    assert await searched(watcher, "happened") == []


async def test_search_index_folds_accents_and_matches_inflections(
    watcher: Watcher, feed_server: FeedServer, clock: StepClock, database: Database
) -> None:
    url = feed_server.url("/world.xml")
    feed_server.publish_rss(
        "/world.xml", [story(1, clock, title="Zelénsky welcomes new sanctions")]
    )
    await watcher.service.ensure([url])
    await watcher.poll(url)

    for query in ("zelensky", "sanction", "sanctioned"):
        assert len(await searched(watcher, query)) == 1, query


async def searched(watcher: Watcher, text: str) -> list[int]:
    """Ids of the entries the full-text index finds for ``text``."""
    expression = candidates(parse_query(text, mode="search"))
    assert expression is not None
    return [entry.id for entry in await watcher.entries.newest_matches(expression, limit=10)]


async def test_a_failing_feed_backs_off_exponentially_up_to_six_hours(
    watcher: Watcher, feed_server: FeedServer, clock: StepClock
) -> None:
    url = feed_server.url("/broken.xml")
    feed_server.fail("/broken.xml", 500)
    await watcher.service.ensure([url])

    delays = []
    for _ in range(12):
        await watcher.poll(url)
        feed = await watcher.feed(url)
        delays.append(feed.next_poll_at - clock.now)
        clock.now = feed.next_poll_at

    assert feed.last_error == "HTTP 500"
    assert feed.consecutive_failures == 12
    assert all(later > earlier for earlier, later in itertools.pairwise(delays[:5]))
    assert delays[0] >= INTERVAL
    assert max(delays) <= MAX_BACKOFF
    assert delays[-1] >= MAX_BACKOFF * 0.8


async def test_retry_after_is_honoured(
    watcher: Watcher, feed_server: FeedServer, clock: StepClock
) -> None:
    url = feed_server.url("/busy.xml")
    feed_server.fail("/busy.xml", 503, retry_after=3600)
    await watcher.service.ensure([url])

    await watcher.poll(url)

    feed = await watcher.feed(url)
    assert feed.next_poll_at - clock.now >= dt.timedelta(hours=1)
    assert feed.last_error is not None
    assert "503" in feed.last_error


async def test_admins_hear_once_when_a_feed_has_failed_for_a_day(
    watcher: Watcher, feed_server: FeedServer, clock: StepClock
) -> None:
    url = feed_server.url("/broken.xml")
    feed_server.fail("/broken.xml", 404)
    await watcher.service.ensure([url])

    for _ in range(10):
        await watcher.poll(url)
        clock.advance(hours=6)

    assert len(watcher.notices) == 1
    assert watcher.notices[0].last_error == "HTTP 404"


async def test_success_ends_a_failure_run_and_clears_the_backoff(
    watcher: Watcher, feed_server: FeedServer, clock: StepClock
) -> None:
    url = feed_server.url("/flaky.xml")
    feed_server.fail("/flaky.xml", 502)
    await watcher.service.ensure([url])
    await watcher.poll(url)
    await watcher.poll(url)

    feed_server.publish_rss("/flaky.xml", [story(1, clock)])
    await watcher.poll(url)

    feed = await watcher.feed(url)
    assert feed.consecutive_failures == 0
    assert feed.failing_since is None
    assert feed.last_error == "HTTP 502"
    assert feed.next_poll_at == clock.now + INTERVAL


async def test_a_permanent_redirect_moves_the_stored_url_and_a_temporary_one_does_not(
    watcher: Watcher, feed_server: FeedServer, clock: StepClock
) -> None:
    feed_server.publish_rss("/new.xml", [story(1, clock)])
    feed_server.redirect("/old.xml", feed_server.url("/new.xml"), status=301)
    feed_server.redirect("/mirror.xml", feed_server.url("/new.xml"), status=302)
    await watcher.service.ensure([feed_server.url("/old.xml"), feed_server.url("/mirror.xml")])

    await watcher.poll(feed_server.url("/old.xml"))
    await watcher.poll(feed_server.url("/mirror.xml"))

    urls = [feed.url for feed in await watcher.feeds.all()]
    assert urls == [feed_server.url("/new.xml"), feed_server.url("/mirror.xml")]


async def test_feeds_due_together_at_start_up_are_spread_out(
    watcher: Watcher, feed_server: FeedServer, clock: StepClock
) -> None:
    urls = [feed_server.url(f"/feed{n}.xml") for n in range(100)]

    await watcher.service.ensure(urls)

    times = sorted(feed.next_poll_at for feed in await watcher.feeds.all())
    assert times[0] == clock.now
    assert times[-1] - times[0] >= dt.timedelta(seconds=55)
    per_second: dict[int, int] = {}
    for moment in times:
        second = int((moment - clock.now).total_seconds())
        per_second[second] = per_second.get(second, 0) + 1
    assert max(per_second.values()) <= 2


async def test_a_feed_is_never_polled_twice_at_once_and_one_host_gets_few_polls(
    database: Database, clock: StepClock, feed_server: FeedServer
) -> None:
    for n in range(5):
        feed_server.hang(f"/slow{n}.xml")
    async with httpx.AsyncClient(trust_env=False) as client:
        watcher = Watcher(database, client, clock, deadline=30)
        await watcher.service.ensure([feed_server.url(f"/slow{n}.xml") for n in range(5)])
        clock.advance(minutes=5)

        first = await watcher.service.poll_due()
        again = await watcher.service.poll_due()
        await asyncio.sleep(0)
        await watcher.service.close()

    assert first == MAX_POLLS_PER_HOST
    assert again == 0


async def test_one_hanging_feed_does_not_delay_the_others(
    database: Database, clock: StepClock, feed_server: FeedServer
) -> None:
    feed_server.hang("/hang.xml")
    async with FeedServer() as other_host:
        other_host.publish_rss("/good.xml", [story(1, clock)])
        async with httpx.AsyncClient(trust_env=False) as client:
            watcher = Watcher(database, client, clock, deadline=2)
            await watcher.service.ensure(
                [feed_server.url("/hang.xml"), other_host.url("/good.xml")]
            )
            clock.advance(minutes=5)

            await watcher.service.poll_due()
            good = await watcher.feed(other_host.url("/good.xml"))
            while good.last_success_at is None:
                await asyncio.sleep(0.01)
                good = await watcher.feed(other_host.url("/good.xml"))
            hanging = await watcher.feed(feed_server.url("/hang.xml"))
            await watcher.service.wait_idle()
            hung = await watcher.feed(feed_server.url("/hang.xml"))

    assert hanging.last_polled_at is None
    assert hung.last_error == "timed out after 2 s"


async def test_adding_a_feed_fetches_it_once_and_stores_its_entries_as_seen(
    watcher: Watcher, feed_server: FeedServer, clock: StepClock
) -> None:
    feed_server.publish_atom("/atom.xml", [story(1, clock), story(2, clock)], title="Wire")

    added = await watcher.service.add(feed_server.url("/atom.xml"))

    assert added.feed.title == "Wire"
    assert added.entries == 2
    assert await watcher.titles(routed=1) == ["Story 1", "Story 2"]
    assert feed_server.hits("/atom.xml") == 1


async def test_adding_an_html_page_adds_the_feed_it_links_to(
    watcher: Watcher, feed_server: FeedServer, clock: StepClock
) -> None:
    feed_server.publish_rss("/rss.xml", [story(1, clock)])
    feed_server.publish_html("/", feed_links=[("/rss.xml", "application/rss+xml")])

    added = await watcher.service.add(feed_server.url("/"))

    assert added.feed.url == feed_server.url("/rss.xml")
    assert added.discovered_from == feed_server.url("/")


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        (lambda server: server.publish_html("/x"), "is not a feed: this is an HTML page"),
        (lambda server: server.fail("/x", 404), "Couldn't fetch"),
        (lambda server: server.publish("/x", b""), "empty response"),
    ],
)
async def test_adding_something_that_is_not_a_feed_says_why(
    watcher: Watcher, feed_server: FeedServer, setup: object, reason: str
) -> None:
    setup(feed_server)  # type: ignore[operator]

    with pytest.raises(FeedError) as raised:
        await watcher.service.add(feed_server.url("/x"))

    assert reason in raised.value.user_message
    assert await watcher.feeds.all() == []


async def test_adding_a_known_feed_or_a_bad_url_is_refused(
    watcher: Watcher, feed_server: FeedServer, clock: StepClock
) -> None:
    feed_server.publish_rss("/rss.xml", [story(1, clock)])
    await watcher.service.add(feed_server.url("/rss.xml"))

    with pytest.raises(FeedError, match="Already watching"):
        await watcher.service.add(feed_server.url("/rss.xml"))
    with pytest.raises(FeedError, match="http"):
        await watcher.service.add("ftp://example.com/rss")


async def test_removing_a_feed_deletes_its_entries(
    watcher: Watcher, feed_server: FeedServer, clock: StepClock
) -> None:
    feed_server.publish_rss("/rss.xml", [story(1, clock)])
    added = await watcher.service.add(feed_server.url("/rss.xml"))

    await watcher.service.remove(added.feed.id)

    assert await watcher.entries.count() == 0
    with pytest.raises(FeedError, match="no feed #"):
        await watcher.service.remove(added.feed.id)


async def test_old_entries_are_pruned_and_do_not_come_back_as_new(
    watcher: Watcher, feed_server: FeedServer, clock: StepClock
) -> None:
    url = feed_server.url("/rss.xml")
    undated = FeedItem(title="Undated", link="https://news.example/undated")
    feed_server.publish_rss("/rss.xml", [undated, story(1, clock)])
    await watcher.service.ensure([url])
    await watcher.poll(url)

    clock.advance(days=91)
    pruned = await watcher.service.prune()
    await watcher.poll(url)

    assert pruned == 2
    assert await watcher.entries.count() == 0
    assert watcher.new_entry_calls == 0


async def test_health_shows_each_feeds_polls_and_rate(
    watcher: Watcher, feed_server: FeedServer, clock: StepClock
) -> None:
    url = feed_server.url("/rss.xml")
    feed_server.publish_rss("/rss.xml", [story(n, clock) for n in range(14)])
    await watcher.service.ensure([url])
    await watcher.poll(url)
    await watcher.poll(url)

    [health] = await watcher.service.health()

    # 14 stories over the hour before the feed was added: 14 an hour.
    assert health.entries_per_day == pytest.approx(14 * 24)
    assert health.feed.polls == 2
    assert health.feed.polls_not_modified == 1


async def test_a_feed_without_validators_yields_only_its_new_entries(
    watcher: Watcher, feed_server: FeedServer, clock: StepClock
) -> None:
    url = feed_server.url("/plain.xml")
    feed_server.publish_rss("/plain.xml", [story(1, clock)], etag=False, last_modified=False)
    await watcher.service.ensure([url])
    await watcher.poll(url)
    feed_server.publish_rss("/plain.xml", [story(1, clock)], etag=False, last_modified=False)

    await watcher.poll(url)
    feed_server.publish_rss(
        "/plain.xml", [story(1, clock), story(2, clock)], etag=False, last_modified=False
    )
    await watcher.poll(url)

    assert [r.status for r in feed_server.requests("/plain.xml")] == [200, 200, 200]
    assert await watcher.titles(routed=0) == ["Story 2"]
    assert (await watcher.feed(url)).polls_not_modified == 0


def shop_feed(*titles: str) -> str:
    """A shop's feed: every item carries the same placeholder guid and the front page link."""
    items = "".join(
        f'<item><title>{title}</title><guid isPermaLink="false">0</guid>'
        "<link>https://shop.example/</link></item>"
        for title in titles
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Shop</title>'
        f"<link>https://shop.example/</link>{items}</channel></rss>"
    )


async def test_stories_sharing_a_placeholder_guid_are_each_stored_and_the_new_one_alerted(
    watcher: Watcher, feed_server: FeedServer
) -> None:
    url = feed_server.url("/shop.xml")
    feed_server.publish("/shop.xml", shop_feed("Spring sale starts"))
    await watcher.service.ensure([url])
    await watcher.poll(url)

    feed_server.publish("/shop.xml", shop_feed("Summer sale starts", "Spring sale starts"))
    await watcher.poll(url)

    assert await watcher.titles() == ["Spring sale starts", "Summer sale starts"]
    assert [entry.title for entry in await watcher.entries.unrouted(limit=10)] == [
        "Summer sale starts"
    ]
    assert watcher.new_entry_calls == 1


async def test_a_guid_reused_for_a_different_story_is_a_new_entry_not_an_edit(
    watcher: Watcher, feed_server: FeedServer, clock: StepClock
) -> None:
    url = feed_server.url("/latest.xml")
    feed_server.publish_rss("/latest.xml", [story(1, clock, id="latest")])
    await watcher.service.ensure([url])
    await watcher.poll(url)

    feed_server.publish_rss("/latest.xml", [story(2, clock, id="latest")])
    await watcher.poll(url)
    feed_server.publish_rss("/latest.xml", [story(2, clock, id="latest")], etag=False)
    await watcher.poll(url)

    assert await watcher.titles() == ["Story 1", "Story 2"]
    assert await watcher.titles(routed=0) == ["Story 2"]
    assert watcher.new_entry_calls == 1


async def test_an_edit_under_a_real_guid_stays_an_edit_even_when_the_link_changes(
    watcher: Watcher, feed_server: FeedServer, clock: StepClock
) -> None:
    url = feed_server.url("/world.xml")
    feed_server.publish_rss("/world.xml", [story(1, clock, id="wire-1")])
    await watcher.service.ensure([url])
    await watcher.poll(url)

    feed_server.publish_rss(
        "/world.xml", [story(1, clock, id="wire-1", link="https://news.example/1-updated")]
    )
    await watcher.poll(url)

    [entry] = await watcher.entries.latest(limit=10)
    assert (entry.title, entry.link) == ("Story 1", "https://news.example/1-updated")
    assert watcher.new_entry_calls == 0


async def test_a_date_only_entry_is_stored_as_date_only_and_a_future_one_as_first_seen(
    watcher: Watcher, feed_server: FeedServer, clock: StepClock
) -> None:
    url = feed_server.url("/dates.xml")
    feed_server.publish(
        "/dates.xml",
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Dates</title>'
        "<item><title>Dated</title><guid>1</guid><pubDate>2026-03-13</pubDate></item>"
        "<item><title>Ahead</title><guid>2</guid>"
        "<pubDate>Sat, 14 Mar 2026 09:45:00 GMT</pubDate></item>"
        "</channel></rss>",
    )
    await watcher.service.ensure([url])

    await watcher.poll(url)

    ahead, dated = await watcher.entries.latest(limit=10)
    assert (dated.title, dated.published_at, dated.date_only) == (
        "Dated",
        dt.datetime(2026, 3, 13, tzinfo=dt.UTC),
        True,
    )
    assert (ahead.title, ahead.published_at, ahead.date_only) == ("Ahead", clock.now, False)


async def test_a_routing_error_never_backs_off_the_feed(
    database: Database, client: httpx.AsyncClient, feed_server: FeedServer, clock: StepClock
) -> None:
    def broken_router() -> None:
        raise RuntimeError("the router is down")

    feeds = FeedRepository(database)
    service = FeedService(
        feeds,
        EntryRepository(database),
        HttpFeedFetcher(client),
        poll_interval=INTERVAL,
        retention=dt.timedelta(days=90),
        clock=clock,
        on_new_entries=broken_router,
    )
    url = feed_server.url("/world.xml")
    feed_server.publish_rss("/world.xml", [story(1, clock)])
    await service.ensure([url])
    clock.advance(minutes=1)
    await service.poll_due()
    await service.wait_idle()
    feed_server.publish_rss("/world.xml", [story(2, clock), story(1, clock)])
    clock.advance(seconds=INTERVAL.total_seconds())

    await service.poll_due()
    await service.wait_idle()

    feed = await feeds.by_url(url)
    assert feed is not None
    assert (feed.consecutive_failures, feed.last_error) == (0, None)
    assert feed.next_poll_at <= clock.now + INTERVAL  # not backed off
    [waiting] = await EntryRepository(database).unrouted(limit=10)
    assert waiting.title == "Story 2"


async def test_cache_control_and_expires_are_a_floor_on_the_interval_capped_at_an_hour(
    watcher: Watcher, feed_server: FeedServer, clock: StepClock
) -> None:
    expires = email.utils.format_datetime(
        dt.datetime.now(dt.UTC) + dt.timedelta(seconds=900), usegmt=True
    )
    served = {
        "/ten-minutes.xml": {"Cache-Control": "public, max-age=600"},
        "/a-day.xml": {"Cache-Control": "max-age=86400"},
        "/expires.xml": {"Expires": expires},
        "/shorter.xml": {"Cache-Control": "max-age=30"},
        "/no-cache.xml": {"Cache-Control": "no-cache, max-age=600"},
    }
    for path, headers in served.items():
        feed_server.publish_rss(path, [story(1, clock)], headers=headers)
    urls = [feed_server.url(path) for path in served]
    await watcher.service.ensure(urls)

    waits = {}
    for _ in range(2):  # a 200, then a 304 that repeats the headers
        for url in urls:
            await watcher.poll(url)
            feed = await watcher.feed(url)
            waits[url] = (feed.next_poll_at - clock.now).total_seconds()
        clock.advance(hours=2)

    assert waits[feed_server.url("/ten-minutes.xml")] == 600
    assert waits[feed_server.url("/a-day.xml")] == 3600
    assert 890 <= waits[feed_server.url("/expires.xml")] <= 900
    assert waits[feed_server.url("/shorter.xml")] == INTERVAL.total_seconds()
    assert waits[feed_server.url("/no-cache.xml")] == INTERVAL.total_seconds()
    assert [r.status for r in feed_server.requests("/ten-minutes.xml")] == [200, 304]
    listing = "\n".join(formatting.feed_list(await watcher.service.health(), now=clock.now))
    ten_minutes = next(block for block in listing.split("\n\n") if "ten-minutes" in block)
    assert "server asks for 10 min between polls (Cache-Control/Expires)" in ten_minutes
    shorter = next(block for block in listing.split("\n\n") if "shorter" in block)
    assert "server asks" not in shorter


async def test_a_configured_url_that_moved_stays_one_feed_when_configured_again(
    watcher: Watcher, feed_server: FeedServer, clock: StepClock
) -> None:
    feed_server.publish_rss("/new.xml", [story(1, clock)])
    feed_server.redirect("/old.xml", feed_server.url("/new.xml"), status=301)
    await watcher.service.ensure([feed_server.url("/old.xml")])
    await watcher.poll(feed_server.url("/old.xml"))

    await watcher.service.ensure([feed_server.url("/old.xml")])

    assert [feed.url for feed in await watcher.feeds.all()] == [feed_server.url("/new.xml")]
    with pytest.raises(FeedError, match="Already watching that feed: #1"):
        await watcher.service.add(feed_server.url("/old.xml"))


async def test_a_feed_added_by_a_url_that_moved_is_known_by_both(
    watcher: Watcher, feed_server: FeedServer, clock: StepClock
) -> None:
    feed_server.publish_rss("/new.xml", [story(1, clock)])
    feed_server.redirect("/old.xml", feed_server.url("/new.xml"), status=308)

    added = await watcher.service.add(feed_server.url("/old.xml"))
    await watcher.service.ensure([feed_server.url("/old.xml"), feed_server.url("/new.xml")])

    assert added.feed.url == feed_server.url("/new.xml")
    assert [feed.id for feed in await watcher.feeds.all()] == [added.feed.id]


async def test_a_feed_that_moves_onto_one_already_watched_becomes_its_alias(
    watcher: Watcher, feed_server: FeedServer, clock: StepClock
) -> None:
    feed_server.publish_rss("/a.xml", [story(1, clock)])
    feed_server.publish_rss("/b.xml", [story(2, clock)])
    a, b = feed_server.url("/a.xml"), feed_server.url("/b.xml")
    await watcher.service.ensure([a, b])
    await watcher.poll(a)
    await watcher.poll(b)
    feed_server.redirect("/a.xml", b, status=301)

    await watcher.poll(a)
    await watcher.service.ensure([a, b])

    assert [feed.url for feed in await watcher.feeds.all()] == [b]
    moved = await watcher.feeds.by_url(a)
    assert moved is not None
    assert moved.url == b
