"""Alerts worth opening: link previews, buttons that act on their topics, Undo, silence."""

from __future__ import annotations

from pathlib import Path

from bot.sandbox.emulator import BotApiEmulator, SentMessage
from bot.sandbox.feedserver import FeedServer
from tests.e2e.harness import Reader, ask, following_gaza, query, running_herald, wait_for_rows

REPLY_WITHIN = 2.0
ALERT_WITHIN = 15.0


def labels(message: SentMessage) -> list[str]:
    return [button.text for row in message.buttons for button in row]


async def routed(workdir: Path, title: str) -> None:
    """Wait until Herald has matched the story with this title against every topic."""
    await wait_for_rows(
        workdir,
        "SELECT 1 FROM entries WHERE title = ? AND routed = 1",
        title,
        within=ALERT_WITHIN,
    )


async def alert(emulator: BotApiEmulator, reader: Reader, title: str) -> SentMessage:
    return await emulator.wait_for_message(
        reader.chat, lambda m: title in m.text, timeout=ALERT_WITHIN
    )


async def press(
    emulator: BotApiEmulator, reader: Reader, message: SentMessage, button: str
) -> str | None:
    """Press a button under ``message``; the toast the bot answered with."""
    edits = message.edit_count
    query_id = await emulator.press_button(reader.chat, message.message_id, reader.user, button)
    answer = await emulator.wait_for_answer(query_id, timeout=REPLY_WITHIN)
    await emulator.wait_until(
        lambda: message.edit_count > edits, timeout=REPLY_WITHIN, description="buttons edited"
    )
    return answer.text


async def test_a_single_alert_previews_its_link_and_its_mute_holds_the_topic_until_undone(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    async with following_gaza(emulator, feed_server, tmp_path) as ada:
        link = ada.publish("Gaza talks resume")
        first = await alert(emulator, ada, "Gaza talks resume")
        offered = labels(first)
        muted = await press(emulator, ada, first, "🔕 Mute 1 day")
        after_mute = labels(first)

        ada.publish("Gaza ceasefire holds")
        await routed(tmp_path, "Gaza ceasefire holds")
        undone = await press(emulator, ada, first, "↩️ Undo · 🔕 muted 1 day")
        ada.publish("Gaza aid arrives")
        third = await alert(emulator, ada, "Gaza aid arrives")
        chat = ada.chat

    assert first.history[0].link_preview == {
        "url": link,
        "prefer_large_media": True,
        "show_above_text": True,
    }
    assert offered == ["🔕 Mute 1 day", "📰 Digest only", "✖️ Unfollow"]
    assert muted is not None
    assert muted.startswith("🔕 Muted Gaza until")
    assert after_mute == ["↩️ Undo · 🔕 muted 1 day"]
    assert not any("Gaza ceasefire holds" in m.text for m in emulator.messages(chat))
    assert undone == "Undone: “Gaza” as before."
    assert labels(first) == offered
    assert "Gaza aid arrives" in third.text


async def test_digest_only_and_unfollow_under_an_alert_and_undo_brings_the_topic_back(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    async with following_gaza(emulator, feed_server, tmp_path) as ada:
        ada.publish("Gaza talks resume")
        first = await alert(emulator, ada, "Gaza talks resume")
        digest_only = await press(emulator, ada, first, "📰 Digest only")
        modes = query(tmp_path, "SELECT mode FROM topics")
        await press(emulator, ada, first, "↩️ Undo · 📰 digest only")
        unfollowed = await press(emulator, ada, first, "✖️ Unfollow")
        left = query(tmp_path, "SELECT query FROM topics")
        await press(emulator, ada, first, "↩️ Undo · ✖️ unfollowed")
        ada.publish("Gaza aid arrives")
        await alert(emulator, ada, "Gaza aid arrives")
        listing = await ask(emulator, ada.chat, ada.user, "/topic")

    assert digest_only is not None
    assert "digest only, no alerts" in digest_only
    assert "The digest is off in this chat" in digest_only
    assert modes == [("digest",)]
    assert unfollowed is not None
    assert "no longer follows Gaza" in unfollowed
    assert left == []
    assert "1. Gaza · 🔔 instant" in listing.text


async def test_undo_lasts_a_minute(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    async with following_gaza(emulator, feed_server, tmp_path) as ada:
        ada.publish("Gaza talks resume")
        first = await alert(emulator, ada, "Gaza talks resume")
        await press(emulator, ada, first, "✖️ Unfollow")
        # The minute passes.
        await wait_for_rows(tmp_path, "SELECT 1 FROM undo")
        query(tmp_path, "UPDATE undo SET expires_at = expires_at - 61")
        query_id = await emulator.press_button(
            ada.chat, first.message_id, ada.user, "↩️ Undo · ✖️ unfollowed"
        )
        late = await emulator.wait_for_answer(query_id, timeout=REPLY_WITHIN)
        left = query(tmp_path, "SELECT query FROM topics")

    assert late.show_alert
    assert late.text is not None
    assert late.text.startswith("Undo lasts 1 minute")
    assert left == []


async def test_preview_off_and_a_silent_topic_change_how_the_next_alert_arrives(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    async with following_gaza(emulator, feed_server, tmp_path) as ada:
        offer = await ask(emulator, ada.chat, ada.user, "/preview")
        set_off = await ask(emulator, ada.chat, ada.user, "/preview off")
        listing = await ask(emulator, ada.chat, ada.user, "/topic")
        await press(emulator, ada, listing, "🔊 sound")
        ada.publish("Gaza talks resume")
        quiet_alert = await alert(emulator, ada, "Gaza talks resume")

    assert "large link preview" in offer.text
    assert "(the default here)" in offer.text
    assert labels(offer) == ["Off", "Small", "✓ Large"]
    assert "no link preview" in set_off.text
    assert "🔇 silent" in listing.text
    assert quiet_alert.link_preview_disabled
    assert quiet_alert.disable_notification


async def test_in_a_group_only_admins_may_press_an_alerts_buttons(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    ada = Reader(emulator, feed_server)
    member = emulator.add_user("Bo")
    group = emulator.add_group("Newsroom", admins=[ada.user], members=[member])

    async with running_herald(
        emulator, tmp_path, HERALD_FEEDS=feed_server.url("/a.xml"), HERALD_POLL_INTERVAL="1"
    ):
        await wait_for_rows(tmp_path, "SELECT 1 FROM entries")
        await ask(emulator, group, ada.user, "/topic Gaza")
        ada.publish("Gaza talks resume")
        first = await emulator.wait_for_message(
            group, lambda m: "Gaza talks resume" in m.text, timeout=ALERT_WITHIN
        )
        refused = await emulator.wait_for_answer(
            await emulator.press_button(group, first.message_id, member, "📰 Digest only")
        )
        modes = query(tmp_path, "SELECT mode FROM topics")

    assert [button.text for row in first.buttons for button in row] == [
        "🔕 Mute 1 day",
        "📰 Digest only",
    ]
    assert first.history[0].link_preview == {
        "url": "https://a.example/1",
        "prefer_small_media": True,
    }
    assert refused.show_alert
    assert refused.text == "Only this group's admins can change its Herald settings."
    assert modes == [("instant",)]
    assert first.edit_count == 0


async def test_an_old_alerts_buttons_never_reach_a_topic_added_after_its_own_went(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    async with following_gaza(emulator, feed_server, tmp_path) as ada:
        ada.publish("Gaza talks resume")
        first = await alert(emulator, ada, "Gaza talks resume")
        await ask(emulator, ada.chat, ada.user, "/topic remove Gaza")
        await ask(emulator, ada.chat, ada.user, "/topic Ukraine")
        gone = await emulator.wait_for_answer(
            await emulator.press_button(ada.chat, first.message_id, ada.user, "✖️ Unfollow")
        )
        left = query(tmp_path, "SELECT query FROM topics")

    assert gone.show_alert
    assert gone.text == "That topic is gone; /topic shows the current list."
    assert left == [("Ukraine",)]


async def test_pressing_twice_changes_once_and_undo_twice_undoes_once(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    async with following_gaza(emulator, feed_server, tmp_path) as ada:
        ada.publish("Gaza talks resume")
        first = await alert(emulator, ada, "Gaza talks resume")
        # Both presses reach the bot before it has changed the buttons.
        presses = [
            await emulator.press_button(ada.chat, first.message_id, ada.user, "🔕 Mute 1 day")
            for _ in range(2)
        ]
        answers = [await emulator.wait_for_answer(press) for press in presses]
        await emulator.wait_until(lambda: first.edit_count >= 1, description="buttons edited")
        undo = labels(first)[0]
        undos = [
            await emulator.press_button(ada.chat, first.message_id, ada.user, undo)
            for _ in range(2)
        ]
        undone = [await emulator.wait_for_answer(press) for press in undos]
        muted = query(tmp_path, "SELECT muted_until FROM topics")

    # Updates may be handled side by side: either press may be the one that acted.
    assert sorted(str(a.text)[:8] for a in answers) == ["Already ", "🔕 Muted "]
    assert not any(a.show_alert for a in answers)
    assert sorted(str(a.text) for a in undone) == ["Already undone.", "Undone: “Gaza” as before."]
    assert not any(a.show_alert for a in undone)
    assert muted == [(None,)]


async def test_a_topic_muted_from_an_alert_is_unmuted_from_the_list_or_by_unmute(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    async with following_gaza(emulator, feed_server, tmp_path) as ada:
        await ask(emulator, ada.chat, ada.user, "/topic Iran")
        ada.publish("Gaza and Iran talks resume")
        first = await alert(emulator, ada, "Gaza and Iran talks resume")
        await press(emulator, ada, first, "🔕 Mute 1 day")
        listing = await ask(emulator, ada.chat, ada.user, "/topic")
        shown = listing.text
        await press(emulator, ada, listing, "🔔 unmute")
        one_left = query(tmp_path, "SELECT query FROM topics WHERE muted_until IS NOT NULL")
        unmuted = await ask(emulator, ada.chat, ada.user, "/unmute")

    assert "1. Gaza · 🔔 instant · 🔕 muted until" in shown
    assert "2. Iran · 🔔 instant · 🔕 muted until" in shown
    assert one_left == [("Iran",)]
    assert unmuted.text == "🔔 “Iran” alerts again."
    assert query(tmp_path, "SELECT COUNT(*) FROM topics WHERE muted_until IS NOT NULL") == [(0,)]
