"""Topics in a running bot: each chat gets exactly the entries its topics match, once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.sandbox.emulator import BotApiEmulator
from bot.sandbox.feedserver import FeedItem, FeedServer
from tests.e2e.harness import ask, follow, query, running_herald, settled, wait_for_archive


def item(title: str, summary: str = "", *, minutes_ago: float = -0.1) -> FeedItem:
    """An entry published ``minutes_ago``; by default just after now, so after any topic
    added so far (feeds give whole seconds, and entries published before a topic was added
    alert nobody)."""
    return FeedItem(
        title=title,
        link=f"https://news.example/{abs(hash(title))}",
        summary=summary,
        published=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago),
    )


async def test_each_chat_receives_exactly_the_entries_its_topics_match_once(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    baseline = [item("North Korea fires missile into the sea", minutes_ago=30)]
    feed_server.publish_rss("/world.xml", baseline, title="World Desk")
    users = {name: emulator.add_user(name) for name in ("Ada", "Ben", "Cy", "Dee", "Eve")}
    chats = {name: emulator.private_chat(user) for name, user in users.items()}

    async with running_herald(
        emulator, tmp_path, HERALD_FEEDS=feed_server.url("/world.xml"), HERALD_POLL_INTERVAL="1"
    ):
        await wait_for_archive(tmp_path, 1)
        await follow(emulator, chats["Ada"], users["Ada"], "North Korea")
        await follow(emulator, chats["Ben"], users["Ben"], "Putin OR Kremlin")
        await follow(emulator, chats["Cy"], users["Cy"], "sanctions -Iran")
        await follow(emulator, chats["Dee"], users["Dee"], "Kim Jong Un", "North Korea")
        await follow(emulator, chats["Eve"], users["Eve"], "Nato", "AI")
        sent_before = {name: len(emulator.messages(chat)) for name, chat in chats.items()}
        feed_server.publish_rss(
            "/world.xml",
            [
                *baseline,
                item("Kim Jong-un inspects North Korea’s new missile"),
                item("Kremlin says Putin will visit Vietnam"),
                item("EU adopts new sanctions on Russian banks"),
                item("Iran faces sanctions over drone exports"),
                item("Senator questions defence funding", "She said the plan was vague."),
            ],
            title="World Desk",
        )
        await emulator.wait_until(
            lambda: all(
                len(emulator.messages(chats[name])) > sent_before[name]
                for name in ("Ada", "Ben", "Cy", "Dee")
            ),
            timeout=15,
            description="an alert in each following chat",
        )
        await settled(tmp_path)

    def received(name: str) -> list[str]:
        return [m.text for m in emulator.messages(chats[name])[sent_before[name] :]]

    [ada] = received("Ada")
    assert ada.startswith("Kim Jong-un inspects North Korea’s new missile\nWorld Desk")
    assert ada.endswith("🏷 North Korea")
    [ben] = received("Ben")
    assert ben.startswith("Kremlin says Putin will visit Vietnam")
    [cy] = received("Cy")
    assert cy.startswith("EU adopts new sanctions on Russian banks")
    [dee] = received("Dee")
    assert dee.startswith("Kim Jong-un inspects North Korea’s new missile")
    assert "Kim Jong Un" in dee.splitlines()[-1]
    assert "North Korea" in dee.splitlines()[-1]
    assert received("Eve") == []


async def test_adding_a_topic_previews_last_weeks_matches_and_alerts_only_newer_entries(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.publish_rss(
        "/world.xml",
        [
            item("Sanctions on oil tankers widen", minutes_ago=60 * 24 * 2),
            item("New sanctions hit shipping firms", minutes_ago=60),
            item("Markets shrug off sanctioned banks", minutes_ago=30),
            item("Weather: a mild week ahead", minutes_ago=10),
        ],
        title="World Desk",
    )
    user = emulator.add_user("Ada")
    chat = emulator.private_chat(user)

    async with running_herald(
        emulator, tmp_path, HERALD_FEEDS=feed_server.url("/world.xml"), HERALD_POLL_INTERVAL="1"
    ):
        await wait_for_archive(tmp_path, 4)
        [preview] = await follow(emulator, chat, user, "sanction")

    assert "This chat now follows sanction." in preview
    assert "In the last 7 days it would have matched 3 stories:" in preview
    lines = preview.splitlines()
    assert lines[2].startswith("• Markets shrug off sanctioned banks · World Desk")
    assert lines[3].startswith("• New sanctions hit shipping firms")
    assert lines[4].startswith("• Sanctions on oil tankers widen")


async def test_topic_list_buttons_switch_to_digest_only_and_remove(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.publish_rss("/world.xml", [item("Quiet day", minutes_ago=5)])
    user = emulator.add_user("Ada")
    chat = emulator.private_chat(user)

    async with running_herald(
        emulator, tmp_path, HERALD_FEEDS=feed_server.url("/world.xml"), HERALD_POLL_INTERVAL="1"
    ):
        await wait_for_archive(tmp_path, 1)
        await follow(emulator, chat, user, "Putin", "Gaza", "sanctions")
        await emulator.user_says(chat, user, "/topic")
        listing = await emulator.wait_for_message(chat)
        await emulator.press_button(chat, listing.message_id, user, "1. 🔔 instant")
        await emulator.wait_until(lambda: listing.edit_count == 1, description="edited list")
        await emulator.press_button(chat, listing.message_id, user, "🗑 remove 2")
        await emulator.wait_until(lambda: listing.edit_count == 2, description="edited list")
        await emulator.user_says(chat, user, "/topic remove sanctions")
        removed = await emulator.wait_for_message(chat)
        await emulator.user_says(chat, user, "/topic remove 7")
        no_such = await emulator.wait_for_message(chat)
        feed_server.publish_rss(
            "/world.xml", [item("Quiet day", minutes_ago=5), item("Putin meets Xi")]
        )
        await wait_for_archive(tmp_path, 2)
        await settled(tmp_path)

    assert listing.history[0].text.splitlines()[1:4] == [
        "1. Putin · 🔔 instant",
        "2. Gaza · 🔔 instant",
        "3. sanctions · 🔔 instant",
    ]
    assert listing.text.splitlines()[1:2] == ["1. Putin · 📰 digest only"]
    assert "Gaza" not in listing.text
    assert "no longer follows sanctions" in removed.text
    assert "There is no topic number 7" in no_such.text
    assert not [m for m in emulator.messages(chat) if m.text.startswith("Putin meets Xi")]


async def test_a_topic_that_cannot_be_parsed_or_is_too_long_gets_a_clear_answer(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    user = emulator.add_user("Ada")
    chat = emulator.private_chat(user)

    async with running_herald(emulator, tmp_path):
        answers = []
        for text in ('/topic "unbalanced', "/topic " + "word " * 60, "/topic -Iran", "/topic add"):
            await emulator.user_says(chat, user, text)
            answers.append((await emulator.wait_for_message(chat)).text)
        await follow(emulator, chat, user, "North Korea")
        await emulator.user_says(chat, user, "/topic north  KOREA")
        duplicate = (await emulator.wait_for_message(chat)).text

    assert "quote" in answers[0]
    assert "200 characters" in answers[1]
    assert "exclude" in answers[2]
    assert "Usage" in answers[3]
    assert "already follows “North Korea”" in duplicate
    assert query(tmp_path, "SELECT query FROM topics") == [("North Korea",)]


async def test_in_a_group_only_admins_change_topics(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    owner, member = emulator.add_user("Olga"), emulator.add_user("Max")
    group = emulator.add_group("Newsroom", admins=[owner], members=[member])

    async with running_herald(emulator, tmp_path):
        await emulator.user_says(group, member, "/topic@herald_bot Gaza")
        refused = await emulator.wait_for_message(group)
        await emulator.user_says(group, owner, "/topic@herald_bot Gaza")
        added = await emulator.wait_for_message(group)
        await emulator.user_says(group, member, "/topic")
        listing = await emulator.wait_for_message(group)
        query = await emulator.press_button(group, listing.message_id, member, "🗑 remove 1")
        toast = await emulator.wait_for_answer(query)

    assert "Only this group's admins" in refused.text
    assert "This chat now follows Gaza" in added.text
    assert "1. Gaza" in listing.text
    assert toast.show_alert
    assert "Only this group's admins" in (toast.text or "")


async def test_a_bare_topic_in_a_new_chat_asks_and_the_reply_is_followed(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    user = emulator.add_user("Ada")
    chat = emulator.private_chat(user)

    async with running_herald(emulator, tmp_path):
        asked = await ask(emulator, chat, user, "/topic")
        await emulator.user_says(chat, user, "North Korea", reply_to_message_id=asked.message_id)
        followed = await emulator.wait_for_message(chat)
        await emulator.user_says(chat, user, "just chatting")
        pointer = await emulator.wait_for_message(chat)

    assert asked.text == "Which topic should this chat follow? Reply with the words."
    assert "This chat now follows North Korea" in followed.text
    assert "/topic just chatting" in pointer.text


async def test_a_long_topic_list_pages_and_warns_when_digest_only_topics_reach_no_one(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    user = emulator.add_user("Ada")
    chat = emulator.private_chat(user)
    names = [f"Topic{n:02d}" for n in range(1, 13)]

    async with running_herald(emulator, tmp_path):
        for name in names:
            await ask(emulator, chat, user, f"/topic {name}")
        listing = await ask(emulator, chat, user, "/topic")
        first_page = listing.text
        await emulator.press_button(chat, listing.message_id, user, "Next ›")
        await emulator.wait_until(lambda: listing.edit_count == 1, description="page 2")
        second_page = listing.text
        await emulator.press_button(chat, listing.message_id, user, "11. 🔔 instant")
        await emulator.wait_until(lambda: listing.edit_count == 2, description="switched")
        warned = listing.text
        await emulator.press_button(chat, listing.message_id, user, "🔔 Turn the digest on")
        await emulator.wait_until(lambda: listing.edit_count == 3, description="digest on")

    assert "Topics (12 of 50) · page 1 of 2" in first_page
    assert "10. Topic10" in first_page
    assert "11. Topic11" not in first_page
    assert "page 2 of 2" in second_page
    assert "11. Topic11 · 🔔 instant" in second_page
    assert "1. Topic01" not in second_page
    assert "11. Topic11 · 📰 digest only" in warned
    assert "Digest-only topics wait for the daily digest, which is off" in warned
    # The digest is on, and the list stays on its page, its warning gone.
    assert query(tmp_path, "SELECT digest_enabled FROM chats") == [(1,)]
    assert listing.text.startswith("Topics (12 of 50) · page 2 of 2")
    assert "Digest-only topics wait" not in listing.text
