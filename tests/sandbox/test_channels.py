"""Channels: lookup by @username, members and the bot's rights, and posts by their admins."""

from __future__ import annotations

import pytest

from bot.sandbox.emulator import BotApiEmulator, SandboxError
from tests.sandbox.helpers import BotApiClient


async def test_a_public_channel_is_found_by_username(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    channel = emulator.add_channel("World News", username="WorldNews", bot_is_member=False)

    chat = await api.result("getChat", chat_id="@worldnews")

    assert (chat["id"], chat["type"], chat["title"]) == (channel.id, "channel", "World News")


async def test_channel_members_have_their_status(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    owner, editor = emulator.add_user("Owner"), emulator.add_user("Editor")
    reader, stranger = emulator.add_user("Reader"), emulator.add_user("Stranger")
    channel = emulator.add_channel("Wire", owner=owner, admins=[editor], subscribers=[reader])

    statuses = [
        (await api.result("getChatMember", chat_id=channel.id, user_id=user.id))["status"]
        for user in (owner, editor, reader, stranger)
    ]

    assert statuses == ["creator", "administrator", "member", "left"]


async def test_the_bots_right_to_post_shows_and_is_enforced(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    owner = emulator.add_user("Owner")
    channel = emulator.add_channel("Wire", owner=owner, bot_can_post=False)

    me = await api.result("getChatMember", chat_id=channel.id, user_id=emulator.bot.id)

    assert (me["status"], me["can_post_messages"]) == ("administrator", False)
    assert await api.error("sendMessage", chat_id=channel.id, text="x") == (
        400,
        "Bad Request: need administrator rights in the channel chat",
    )
    await emulator.set_bot_channel_rights(channel, can_post=True)
    await api.result("sendMessage", chat_id=channel.id, text="x")
    change = emulator.pending_updates[-1]["my_chat_member"]
    assert change["old_chat_member"]["can_post_messages"] is False
    assert change["new_chat_member"]["can_post_messages"] is True


async def test_an_admins_post_reaches_the_bot_as_a_channel_post(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    owner = emulator.add_user("Owner")
    channel = emulator.add_channel("Wire", owner=owner)

    post = await emulator.post_in_channel(channel, owner, "/topic sanctions")

    update = emulator.pending_updates[-1]["channel_post"]
    assert update["sender_chat"] == channel.to_json()
    assert "from" not in update
    assert update["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert await api.result("deleteMessage", chat_id=channel.id, message_id=post.message_id)
    assert await api.error("deleteMessage", chat_id=channel.id, message_id=post.message_id) == (
        400,
        "Bad Request: message to delete not found",
    )


async def test_only_admins_post_in_a_channel(emulator: BotApiEmulator) -> None:
    owner, reader = emulator.add_user("Owner"), emulator.add_user("Reader")
    channel = emulator.add_channel("Wire", owner=owner, subscribers=[reader])

    with pytest.raises(SandboxError):
        await emulator.post_in_channel(channel, reader, "/topic x")
    with pytest.raises(SandboxError):
        await emulator.user_says(channel, owner, "/topic x")


async def test_adding_the_bot_to_a_channel_says_who_did(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    owner = emulator.add_user("Owner")
    channel = emulator.add_channel("Wire", owner=owner, bot_is_member=False)
    assert await api.error("sendMessage", chat_id=channel.id, text="x") == (
        403,
        "Forbidden: bot is not a member of the channel chat",
    )

    await emulator.add_bot_to_channel(channel, owner)

    change = emulator.pending_updates[-1]["my_chat_member"]
    assert change["from"]["id"] == owner.id
    assert (change["old_chat_member"]["status"], change["new_chat_member"]["status"]) == (
        "left",
        "administrator",
    )
    await api.result("sendMessage", chat_id=channel.id, text="x")
    await emulator.remove_bot_from_group(channel)
    assert emulator.pending_updates[-1]["my_chat_member"]["new_chat_member"]["status"] == "kicked"
