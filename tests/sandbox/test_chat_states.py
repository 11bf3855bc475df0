"""Chats that stop accepting messages, and the updates and errors Telegram gives for each."""

from __future__ import annotations

from typing import Any

from bot.sandbox.emulator import BotApiEmulator, MemberStatus
from tests.sandbox.helpers import BotApiClient


def bot_member(emulator: BotApiEmulator, status: str) -> dict[str, Any]:
    member: dict[str, Any] = {"user": emulator.bot.to_json(), "status": status}
    if status == "kicked":
        member["until_date"] = 0
    return member


async def test_unknown_chat_is_not_found(api: BotApiClient) -> None:
    assert await api.error("sendMessage", chat_id=777, text="x") == (
        400,
        "Bad Request: chat not found",
    )
    assert await api.error("sendMessage", chat_id="@nobody", text="x") == (
        400,
        "Bad Request: chat not found",
    )


async def test_missing_chat_id_is_refused(api: BotApiClient) -> None:
    assert await api.error("sendMessage", text="x") == (400, "Bad Request: chat_id is empty")


async def test_bot_cannot_start_a_conversation(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    ada = emulator.add_user("Ada")

    error = await api.error("sendMessage", chat_id=ada.id, text="hi")

    assert error == (403, "Forbidden: bot can't initiate conversation with a user")


async def test_blocked_bot_is_forbidden_and_told_by_my_chat_member(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    ada = emulator.add_user("Ada")
    chat = emulator.private_chat(ada)

    await emulator.block_bot(ada)
    error = await api.error("sendMessage", chat_id=chat.id, text="alert")

    assert error == (403, "Forbidden: bot was blocked by the user")
    [update] = emulator.pending_updates
    assert update["my_chat_member"] == {
        "chat": chat.to_json(),
        "from": ada.to_json(),
        "date": update["my_chat_member"]["date"],
        "old_chat_member": bot_member(emulator, "member"),
        "new_chat_member": bot_member(emulator, "kicked"),
    }


async def test_unblocked_bot_can_send_again(api: BotApiClient, emulator: BotApiEmulator) -> None:
    ada = emulator.add_user("Ada")
    chat = emulator.private_chat(ada)
    await emulator.block_bot(ada)

    await emulator.unblock_bot(ada)

    await api.result("sendMessage", chat_id=chat.id, text="welcome back")
    change = emulator.pending_updates[-1]["my_chat_member"]
    assert (change["old_chat_member"]["status"], change["new_chat_member"]["status"]) == (
        "kicked",
        "member",
    )


async def test_deactivated_user_is_forbidden(api: BotApiClient, emulator: BotApiEmulator) -> None:
    ada = emulator.add_user("Ada")
    chat = emulator.private_chat(ada)

    await emulator.deactivate_user(ada)

    assert await api.error("sendMessage", chat_id=chat.id, text="x") == (
        403,
        "Forbidden: user is deactivated",
    )
    assert emulator.pending_updates == []


async def test_bot_removed_from_a_group_is_forbidden(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    owner = emulator.add_user("Owner")
    group = emulator.add_group("Newsroom", admins=[owner])

    await emulator.remove_bot_from_group(group)

    assert await api.error("sendMessage", chat_id=group.id, text="x") == (
        403,
        "Forbidden: bot was kicked from the group chat",
    )
    assert await api.error("getChat", chat_id=group.id) == (
        403,
        "Forbidden: bot was kicked from the group chat",
    )
    change = emulator.pending_updates[-1]["my_chat_member"]
    assert change["from"] == owner.to_json()
    assert change["new_chat_member"] == bot_member(emulator, "kicked")


async def test_bot_removed_from_a_supergroup_names_the_supergroup(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    owner = emulator.add_user("Owner")
    group = emulator.add_group("Newsroom", admins=[owner], supergroup=True)

    await emulator.remove_bot_from_group(group)

    assert await api.error("sendMessage", chat_id=group.id, text="x") == (
        403,
        "Forbidden: bot was kicked from the supergroup chat",
    )


async def test_bot_added_back_gets_my_chat_member_and_a_service_message(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    owner = emulator.add_user("Owner")
    group = emulator.add_group("Newsroom", admins=[owner])
    await emulator.remove_bot_from_group(group)

    await emulator.add_bot_to_group(group, owner)

    await api.result("sendMessage", chat_id=group.id, text="hello again")
    joined, message = emulator.pending_updates[-2:]
    assert joined["my_chat_member"]["new_chat_member"] == bot_member(emulator, "member")
    assert message["message"]["new_chat_members"] == [emulator.bot.to_json()]
    assert emulator.chat(group.id).bot_status is MemberStatus.MEMBER


async def test_migrated_group_answers_with_its_new_id(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    owner = emulator.add_user("Owner")
    group = emulator.add_group("Newsroom", admins=[owner])

    new_id = await emulator.migrate_group(group)

    status, body = await api.call("sendMessage", chat_id=group.id, text="x")
    assert (status, body) == (
        400,
        {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: group chat was upgraded to a supergroup chat",
            "parameters": {"migrate_to_chat_id": new_id},
        },
    )
    assert str(new_id).startswith("-100")
    sent = await api.result("sendMessage", chat_id=new_id, text="x")
    assert sent["chat"] == {"id": new_id, "type": "supergroup", "title": "Newsroom"}


async def test_migration_sends_both_service_messages(emulator: BotApiEmulator) -> None:
    owner = emulator.add_user("Owner")
    group = emulator.add_group("Newsroom", admins=[owner])

    new_id = await emulator.migrate_group(group)

    old_side, new_side = (update["message"] for update in emulator.pending_updates)
    assert (old_side["chat"]["id"], old_side["migrate_to_chat_id"]) == (group.id, new_id)
    assert (new_side["chat"]["id"], new_side["migrate_from_chat_id"]) == (new_id, group.id)


async def test_get_chat_describes_each_kind_of_chat(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    ada = emulator.add_user("Ada", username="ada")
    private = emulator.private_chat(ada)
    group = emulator.add_group("Newsroom", admins=[ada])

    private_info = await api.result("getChat", chat_id=private.id)
    group_info = await api.result("getChat", chat_id=group.id)

    assert (private_info["type"], private_info["first_name"]) == ("private", "Ada")
    assert (group_info["type"], group_info["title"]) == ("group", "Newsroom")


async def test_chat_members_have_their_statuses(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    owner, editor, reader, stranger = (emulator.add_user(n) for n in ("O", "E", "R", "S"))
    group = emulator.add_group("Newsroom", owner=owner, admins=[editor], members=[reader])

    statuses = [
        (await api.result("getChatMember", chat_id=group.id, user_id=user.id))["status"]
        for user in (owner, editor, reader, stranger, emulator.bot)
    ]

    assert statuses == ["creator", "administrator", "member", "left", "member"]


async def test_administrators_of_a_group_are_listed(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    owner, editor = emulator.add_user("Owner"), emulator.add_user("Editor")
    group = emulator.add_group("Newsroom", owner=owner, admins=[editor], bot_is_admin=True)

    admins = await api.result("getChatAdministrators", chat_id=group.id)

    assert [(a["user"]["id"], a["status"]) for a in admins] == [
        (owner.id, "creator"),
        (editor.id, "administrator"),
        (emulator.bot.id, "administrator"),
    ]


async def test_private_chats_have_no_administrators(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    chat = emulator.private_chat(emulator.add_user("Ada"))

    assert await api.error("getChatAdministrators", chat_id=chat.id) == (
        400,
        "Bad Request: there are no administrators in the private chat",
    )


async def test_channel_posts_come_from_the_channel(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    channel = emulator.add_channel("World News", username="worldnews")

    sent = await api.result("sendMessage", chat_id="@worldnews", text="Breaking")

    assert sent["chat"]["id"] == channel.id
    assert sent["sender_chat"] == channel.to_json()
    assert "from" not in sent


async def test_service_messages_can_be_replied_to(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    owner = emulator.add_user("Owner")
    group = emulator.add_group("Newsroom", admins=[owner])
    await emulator.remove_bot_from_group(group)
    await emulator.add_bot_to_group(group, owner)
    joined = emulator.pending_updates[-1]["message"]

    sent = await api.result(
        "sendMessage",
        chat_id=group.id,
        text="Thanks for adding me",
        reply_parameters={"message_id": joined["message_id"]},
    )

    assert sent["reply_to_message"] == joined


async def test_a_plain_string_is_not_a_username(
    api: BotApiClient, emulator: BotApiEmulator
) -> None:
    emulator.add_channel("World News", username="worldnews")

    assert await api.error("sendMessage", chat_id="worldnews", text="x") == (
        400,
        "Bad Request: chat not found",
    )


async def test_member_count_includes_the_bot(api: BotApiClient, emulator: BotApiEmulator) -> None:
    ada, grace = emulator.add_user("Ada"), emulator.add_user("Grace")
    group = emulator.add_group("Newsroom", admins=[ada], members=[grace])

    assert await api.result("getChatMemberCount", chat_id=group.id) == 3
