"""Digest and delivery settings in a running bot."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.sandbox.emulator import BotApiEmulator
from bot.sandbox.feedserver import FeedItem, FeedServer
from tests.e2e.harness import ask, follow, running_herald, settled, wait_for_archive


async def test_digest_now_lists_the_days_entries_for_kim_jong_un(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    now = dt.datetime.now(dt.UTC)
    earlier = FeedItem(
        title="Kim Jong Un inspects a missile base",
        link="https://news.example/missiles",
        published=now - dt.timedelta(hours=5),
    )
    markets = FeedItem(
        title="Markets rally in Tokyo",
        link="https://news.example/markets",
        published=now - dt.timedelta(minutes=30),
    )
    feed_server.publish_rss("/world.xml", [earlier, markets], title="World Desk")
    user = emulator.add_user("Ada")
    chat = emulator.private_chat(user)

    async with running_herald(
        emulator, tmp_path, HERALD_FEEDS=feed_server.url("/world.xml"), HERALD_POLL_INTERVAL="1"
    ):
        await wait_for_archive(tmp_path, 2)
        await follow(emulator, chat, user, "Kim Jong Un")
        feed_server.publish_rss(
            "/world.xml",
            [
                earlier,
                markets,
                FeedItem(
                    title="Kim Jong-un opens a new shipyard",
                    link="https://news.example/shipyard",
                    published=now - dt.timedelta(hours=3),
                ),
                FeedItem(
                    title="Kim Jong Un meets Russian envoy",
                    link="https://news.example/envoy",
                    published=now - dt.timedelta(hours=1),
                ),
            ],
            title="World Desk",
        )
        await wait_for_archive(tmp_path, 4)
        await settled(tmp_path)
        await emulator.user_says(chat, user, "/digest now")
        digest = await emulator.wait_for_message(chat, lambda message: "digest" in message.text)
        await settled(tmp_path)
        await emulator.user_says(chat, user, "/digest now")
        again = await emulator.wait_for_message(chat, lambda message: "Nothing" in message.text)

    lines = digest.text.splitlines()
    assert lines[0].startswith("📰 Your digest · ")
    assert lines[1].startswith("2 stories since ")
    assert lines[3] == "Kim Jong Un (2)"
    assert lines[4].startswith("• Kim Jong Un meets Russian envoy · World Desk · ")
    assert lines[5].startswith("• Kim Jong-un opens a new shipyard · World Desk · ")
    assert "Markets" not in digest.text
    assert "missile base" not in digest.text  # stored before the topic was followed
    assert "Nothing new" in again.text


async def test_settings_commands_answer_clearly_and_refuse_nonsense(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    user = emulator.add_user("Ada")
    chat = emulator.private_chat(user)

    async with running_herald(emulator, tmp_path, HERALD_DIGEST_TIME="07:30"):
        status = await ask(emulator, chat, user, "/digest")
        bad_time = await ask(emulator, chat, user, "/digest 25:99")
        noon = await ask(emulator, chat, user, "/digest noon")
        on = await ask(emulator, chat, user, "/digest 06:45")
        zone = await ask(emulator, chat, user, "/timezone Asia/Kathmandu")
        typo = await ask(emulator, chat, user, "/timezone Europe/Londn")
        offset = await ask(emulator, chat, user, "/timezone UTC-3:30")
        quiet = await ask(emulator, chat, user, "/quiet 22:00-07:00")
        bad_quiet = await ask(emulator, chat, user, "/quiet late")
        muted = await ask(emulator, chat, user, "/mute 2h")
        bad_mute = await ask(emulator, chat, user, "/mute forever")
        unmuted = await ask(emulator, chat, user, "/unmute")
        not_muted = await ask(emulator, chat, user, "/unmute")
        off = await ask(emulator, chat, user, "/digest off")
        here = await ask(emulator, chat, user, "/digest here")
        fixed = await ask(emulator, chat, user, "/timezone EST")

    assert "/digest here works inside a forum topic" in here.text
    assert "no daylight saving" in fixed.text
    assert "America/New_York" in fixed.text
    assert "Daily digest: off (when on, daily at 07:30 UTC)" in status.text
    assert "Usage: /digest on" in bad_time.text
    assert "Usage: /digest on" in noon.text
    assert "Daily digest: on, daily at 06:45 UTC; the next one " in on.text
    assert "Time zone set to Asia/Kathmandu" in zone.text
    assert "Did you mean Europe/London" in typo.text
    assert "Time zone set to UTC-03:30" in offset.text
    assert "Quiet hours 22:00–07:00 (UTC-03:30)" in quiet.text
    assert "22:00-07:00" in bad_quiet.text
    assert "Alerts muted until" in muted.text
    assert "30m, 2h or 1d" in bad_mute.text
    assert "Alerts are back on" in unmuted.text
    assert "aren't muted" in not_muted.text
    assert "Daily digest: off" in off.text


async def test_in_a_group_only_admins_change_delivery_settings(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    owner, member = emulator.add_user("Olga"), emulator.add_user("Max")
    group = emulator.add_group("Newsroom", admins=[owner], members=[member])

    async with running_herald(emulator, tmp_path):
        status = await ask(emulator, group, member, "/digest")
        refused = await ask(emulator, group, member, "/digest on")
        allowed = await ask(emulator, group, owner, "/digest on")

    assert "Daily digest" in status.text
    assert "Only this group's admins" in refused.text
    assert "Daily digest: on, daily at 08:00 UTC" in allowed.text
