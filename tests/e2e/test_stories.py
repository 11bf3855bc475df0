"""Story clusters in a running bot: one story from two outlets, one alert naming both."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

from bot.sandbox.emulator import BotApiEmulator, Chat, SentMessage
from bot.sandbox.feedserver import FeedItem, FeedServer
from tests.e2e.harness import follow, query, running_herald, settled, wait_for_archive

WIRE_TEXT = (
    "Russian President Vladimir Putin and North Korean leader Kim Jong Un signed a strategic"
    " partnership treaty on Wednesday that includes a pledge of mutual assistance if either"
    " country is attacked"
)
PACT_TITLE = "Putin and Kim sign mutual defence pact in Pyongyang"


def item(title: str, summary: str, link: str, *, minutes_ago: float = -0.1) -> FeedItem:
    return FeedItem(
        title=title,
        link=link,
        summary=summary,
        published=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago),
    )


async def test_the_same_story_from_two_feeds_is_one_alert_edited_to_name_both(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    quiet = item(
        "Markets steady in Asia", "Shares barely moved.", "https://a.example/0", minutes_ago=30
    )
    feed_server.publish_rss("/wire.xml", [quiet], title="Wire World")
    feed_server.publish_rss("/papers.xml", [], title="Daily Papers")
    user = emulator.add_user("Ada")
    chat = emulator.private_chat(user)
    feeds = f"{feed_server.url('/wire.xml')},{feed_server.url('/papers.xml')}"

    async with running_herald(emulator, tmp_path, HERALD_FEEDS=feeds, HERALD_POLL_INTERVAL="1"):
        await wait_for_archive(tmp_path, 1)
        await follow(emulator, chat, user, "Putin")
        before = len(emulator.messages(chat))
        pact = item(
            "Putin and Kim sign mutual defence pact in Pyongyang",
            WIRE_TEXT + ", during Putin's first visit to Pyongyang in 24 years.",
            "https://wire.example/world/putin-kim-pact",
        )
        feed_server.publish_rss("/wire.xml", [quiet, pact], title="Wire World")
        await emulator.wait_until(
            lambda: len(emulator.messages(chat)) > before, timeout=15, description="the alert"
        )
        # A minute later in the feed's time, another outlet runs the wire under its own
        # headline; then a different event with the same names.
        republished = item(
            "Russia and North Korea sign defence treaty as Putin visits Kim",
            WIRE_TEXT + ".",
            "https://papers.example/2026/06/19/russia-north-korea-treaty?utm_source=rss",
            minutes_ago=-1,
        )
        feed_server.publish_rss("/papers.xml", [republished], title="Daily Papers")
        await wait_for_archive(tmp_path, 3)
        await settled(tmp_path)
        first_alert = emulator.messages(chat)[before]
        await emulator.wait_until(
            lambda: "Also: Daily Papers" in first_alert.text,
            timeout=15,
            description="the alert edited to name the second source",
        )
        spaceport = item(
            "Kim Jong Un meets Putin at Russian space base, talks of 'sacred fight'",
            "North Korea's Kim Jong Un met Vladimir Putin at the Vostochny cosmodrome in"
            " Russia's Far East on Wednesday, pledging support for Moscow as Putin offered to"
            " help Pyongyang build satellites.",
            "https://papers.example/2026/06/19/kim-vostochny",
            minutes_ago=-2,
        )
        feed_server.publish_rss("/papers.xml", [republished, spaceport], title="Daily Papers")
        await emulator.wait_until(
            lambda: len(emulator.messages(chat)) > before + 1,
            timeout=15,
            description="the other event's alert",
        )
        await settled(tmp_path)
        alerts = [message.text for message in emulator.messages(chat)[before:]]
        await emulator.user_says(chat, user, "/latest")
        latest = (await emulator.wait_for_message(chat, lambda m: "Latest" in m.text)).text
        await emulator.user_says(chat, user, "/search Putin Kim")
        found = (await emulator.wait_for_message(chat, lambda m: "🔎" in m.text)).text

    assert alerts[0].endswith("🏷 Putin\n\nAlso: Daily Papers")
    first = emulator.messages(chat)[before]
    assert len(first.history) == 2
    # The edit keeps what the alert carried: its buttons and its link preview.
    assert first.history[0].buttons == first.buttons != ()
    assert first.history[0].link_preview == first.current.link_preview
    assert [text.splitlines()[0] for text in alerts] == [
        "Putin and Kim sign mutual defence pact in Pyongyang",
        "Kim Jong Un meets Putin at Russian space base, talks of 'sacred fight'",
    ]
    stories = query(
        tmp_path, "SELECT story FROM entries WHERE title LIKE '%treaty%' OR title LIKE '%pact%'"
    )
    assert len(stories) == 2
    assert len(set(stories)) == 1

    # /latest and /search show the story once, naming its other source.
    assert latest.count("defence") == 1
    assert (
        "Russia and North Korea sign defence treaty as Putin visits Kim · Daily Papers" in latest
    )
    assert "also Wire World" in latest
    assert "Kim Jong Un meets Putin at Russian space base" in latest
    assert found.count("defence") == 1
    assert "also " in found


async def test_the_same_link_from_another_feed_is_named_on_the_alert(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    """Two feeds carrying one page under their own headlines: one alert, naming both."""
    feed_server.publish_rss("/wire.xml", [], title="Wire World")
    feed_server.publish_rss("/papers.xml", [], title="Daily Papers")
    user = emulator.add_user("Ada")
    chat = emulator.private_chat(user)
    feeds = f"{feed_server.url('/wire.xml')},{feed_server.url('/papers.xml')}"
    link = "https://wire.example/world/putin-kim-pact"

    async with running_herald(emulator, tmp_path, HERALD_FEEDS=feeds, HERALD_POLL_INTERVAL="1"):
        await follow(emulator, chat, user, "Putin")
        before = len(emulator.messages(chat))
        feed_server.publish_rss(
            "/wire.xml", [item(PACT_TITLE, WIRE_TEXT + ".", link)], title="Wire World"
        )
        await emulator.wait_until(
            lambda: len(emulator.messages(chat)) > before, timeout=15, description="the alert"
        )
        copy = item("Putin visits Kim", "Headline only.", link, minutes_ago=-1)
        feed_server.publish_rss("/papers.xml", [copy], title="Daily Papers")
        alert = emulator.messages(chat)[before]
        await emulator.wait_until(
            lambda: "Also: Daily Papers" in alert.text,
            timeout=15,
            description="the alert edited to name the second feed",
        )
        await settled(tmp_path)

    assert len(emulator.messages(chat)) == before + 1
    assert alert.text.startswith(PACT_TITLE)


# Different stories that look alike: both reach the chat, and the first alert is not edited.

BOILERPLATE = (
    " Follow our live coverage for the latest updates. Sign up for our newsletter to get"
    " the top stories delivered to your inbox every morning."
)


def warning(region: str, day: str, link: str) -> FeedItem:
    return item(
        f"Severe thunderstorm warning for {region}",
        f"The Met Office has issued a yellow weather warning for thunderstorms for {region}"
        f" from 12:00 to 21:00 on {day}. Heavy rain could cause flooding and travel disruption.",
        link,
    )


def shares(company: str, percent: int, link: str) -> FeedItem:
    return item(
        f"{company} shares rise {percent}% after earnings beat",
        f"Shares of {company} rose {percent}% in premarket trading on Friday after the company"
        " reported quarterly earnings that beat analyst expectations.",
        link,
    )


async def both_alerted(
    emulator: BotApiEmulator,
    feed_server: FeedServer,
    tmp_path: Path,
    topics: tuple[str, ...],
    stories: list[tuple[str, FeedItem]],
) -> list[SentMessage]:
    """Publish each (feed path, item) in turn, after the chat follows ``topics``; the
    chat's messages since, once every story has been alerted and everything is sent."""
    quiet = item(
        "Markets steady in Asia", "Shares barely moved.", "https://q.example/0", minutes_ago=30
    )
    published: dict[str, list[FeedItem]] = {"/a.xml": [quiet], "/b.xml": []}
    for path, items in published.items():
        feed_server.publish_rss(path, items, title=f"Feed {path[1].upper()}")
    user = emulator.add_user("Ada")
    chat = emulator.private_chat(user)
    feeds = f"{feed_server.url('/a.xml')},{feed_server.url('/b.xml')}"
    async with running_herald(emulator, tmp_path, HERALD_FEEDS=feeds, HERALD_POLL_INTERVAL="1"):
        await wait_for_archive(tmp_path, 1)
        await follow(emulator, chat, user, *topics)
        before = len(emulator.messages(chat))
        alerted = before
        for path, story in stories:
            published[path].append(story)
            feed_server.publish_rss(path, published[path], title=f"Feed {path[1].upper()}")
            alerted += 1
            await emulator.wait_until(
                functools.partial(has_messages, emulator, chat, alerted),
                timeout=15,
                description=f"the alert of {story.title}",
            )
        await settled(tmp_path)
        return emulator.messages(chat)[before:]


def has_messages(emulator: BotApiEmulator, chat: Chat, count: int) -> bool:
    return len(emulator.messages(chat)) >= count


def assert_alerted_apart(messages: list[SentMessage], stories: list[tuple[str, FeedItem]]) -> None:
    assert [message.text.splitlines()[0] for message in messages] == [
        story.title for _, story in stories
    ]
    for message in messages:
        assert "Also:" not in message.text
        assert len(message.history) == 1


async def test_two_regions_warned_in_one_template_by_two_feeds_are_two_alerts(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    stories = [
        ("/a.xml", warning("Kent", "Saturday", "https://weather.example/warnings/kent-123")),
        ("/b.xml", warning("Devon", "Sunday", "https://weather.example/warnings/devon-456")),
    ]

    messages = await both_alerted(
        emulator, feed_server, tmp_path, ("thunderstorm warning",), stories
    )

    assert_alerted_apart(messages, stories)


async def test_two_stories_sharing_a_newsletter_plea_are_two_alerts(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    stories = [
        (
            "/a.xml",
            item(
                "Earthquake hits eastern Turkey",
                "A strong quake struck." + BOILERPLATE,
                "https://news.example/world/quake",
            ),
        ),
        (
            "/b.xml",
            item(
                "Floods hit southern Germany",
                "Rivers burst their banks." + BOILERPLATE,
                "https://news.example/europe/floods",
            ),
        ),
    ]

    messages = await both_alerted(emulator, feed_server, tmp_path, ("newsletter",), stories)

    assert_alerted_apart(messages, stories)


async def test_two_companies_share_moves_are_two_alerts(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    stories = [
        ("/a.xml", shares("Apple", 3, "https://markets.example/apple-earnings")),
        ("/b.xml", shares("Amazon", 5, "https://techdaily.example/amazon-earnings")),
    ]

    messages = await both_alerted(emulator, feed_server, tmp_path, ("Apple", "Amazon"), stories)

    assert_alerted_apart(messages, stories)


async def test_two_posts_of_one_live_blog_are_two_alerts(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    """Their links differ only after "#": the post, not a place on one page."""
    stories = [
        (
            "/a.xml",
            item(
                "Quake: rescuers reach collapsed school in Antakya",
                "Rescue teams reached the collapsed school in the early hours.",
                "https://live.example/live/turkey-quake#post-1",
            ),
        ),
        (
            "/a.xml",
            item(
                "Quake: magnitude 6.1 aftershock hits Malatya",
                "A strong aftershock struck Malatya province on Tuesday evening.",
                "https://live.example/live/turkey-quake#post-2",
            ),
        ),
    ]

    messages = await both_alerted(emulator, feed_server, tmp_path, ("quake",), stories)

    assert_alerted_apart(messages, stories)


async def test_a_feeds_next_warning_is_alerted_after_another_feed_warned_alike(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    stories = [
        ("/a.xml", warning("Kent", "Saturday", "https://weather.example/warnings/kent-1")),
        ("/b.xml", warning("Devon", "Saturday", "https://weather.example/warnings/devon-1")),
        ("/a.xml", warning("Kent", "Monday", "https://weather.example/warnings/kent-2")),
    ]

    messages = await both_alerted(
        emulator, feed_server, tmp_path, ("thunderstorm warning",), stories
    )

    assert_alerted_apart(messages, stories)
