"""Story clusters in a running bot: one story from two outlets, one alert naming both."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.sandbox.emulator import BotApiEmulator
from bot.sandbox.feedserver import FeedItem, FeedServer
from tests.e2e.harness import follow, query, running_herald, settled, wait_for_archive

WIRE_TEXT = (
    "Russian President Vladimir Putin and North Korean leader Kim Jong Un signed a strategic"
    " partnership treaty on Wednesday that includes a pledge of mutual assistance if either"
    " country is attacked"
)


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
