"""The command menus Telegram shows: one for private chats, one for groups, one for admins."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from telegram import Bot, BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeChat
from telegram.error import TelegramError

from handlers import texts

log = logging.getLogger(__name__)


def _commands(pairs: Sequence[tuple[str, str]]) -> list[BotCommand]:
    return [BotCommand(command, description) for command, description in pairs]


async def set_menus(bot: Bot, admin_ids: Iterable[int]) -> None:
    """Register every menu: each audience sees the commands it may use."""
    await bot.set_my_commands(_commands(texts.BOT_COMMANDS))
    await bot.set_my_commands(
        _commands(texts.GROUP_COMMANDS), scope=BotCommandScopeAllGroupChats()
    )
    for admin_id in admin_ids:
        await set_admin_menu(bot, admin_id)


async def set_admin_menu(bot: Bot, admin_id: int) -> None:
    """An admin's private chat also lists the admin commands.

    Telegram knows a private chat only once its user has started the bot; until then this
    fails, and /start sets it.
    """
    try:
        await bot.set_my_commands(
            _commands([*texts.BOT_COMMANDS, *texts.ADMIN_COMMANDS]),
            scope=BotCommandScopeChat(admin_id),
        )
    except TelegramError as error:
        log.info("No admin menu for user %s yet (%s); /start sets it", admin_id, error)
