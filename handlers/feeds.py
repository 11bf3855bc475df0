"""Admin commands for feeds: /feeds, /feeds add <url>, /feeds remove <id>."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot import formatting
from bot.services.feeds import FeedError
from handlers import texts
from handlers.context import BotContext
from handlers.permissions import admins_only


@admins_only
async def manage_feeds(update: Update, context: BotContext) -> None:
    message = update.effective_message
    if message is None:
        return
    args = context.args or []
    action = args[0].lower() if args else ""
    if not args:
        await show_feeds(update, context)
    elif action == "add" and len(args) == 2:
        await add_feed(update, context, args[1])
    elif action == "remove" and len(args) == 2 and args[1].lstrip("#").isdigit():
        await remove_feed(update, context, int(args[1].lstrip("#")))
    else:
        await message.reply_text(texts.FEEDS_USAGE)


async def show_feeds(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None
    health = await context.services.feeds.health()
    for part in formatting.feed_list(health, now=context.services.clock()):
        await update.effective_message.reply_text(part)


async def add_feed(update: Update, context: BotContext, url: str) -> None:
    assert update.effective_message is not None
    # Fetching can take up to 20 s; say so at once and edit in the outcome.
    progress = await update.effective_message.reply_text(f"⏳ Checking {formatting.escape(url)}…")
    try:
        added = await context.services.feeds.add(url)
    except FeedError as error:
        await progress.edit_text(f"❌ {formatting.escape(error.user_message)}")
        return
    await progress.edit_text(
        formatting.feed_added(
            added.feed, entries=added.entries, discovered_from=added.discovered_from
        )
    )


async def remove_feed(update: Update, context: BotContext, feed_id: int) -> None:
    assert update.effective_message is not None
    try:
        feed = await context.services.feeds.remove(feed_id)
    except FeedError as error:
        await update.effective_message.reply_text(formatting.escape(error.user_message))
        return
    await update.effective_message.reply_text(
        f"Stopped watching #{feed.id} {formatting.escape(feed.name)} and deleted its entries."
    )


HANDLERS = [CommandHandler("feeds", manage_feeds)]
