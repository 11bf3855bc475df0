"""Admin commands for feeds: /feeds, /feeds add <url>, /feeds remove <id>."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

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
    feed = await context.services.feeds.get(feed_id)
    if feed is None:
        await update.effective_message.reply_text(texts.NO_SUCH_FEED.format(feed_id=feed_id))
        return
    # A feed's whole archive goes with it: one tap must not do that.
    await update.effective_message.reply_text(
        texts.FEED_REMOVE_CONFIRM.format(feed_id=feed.id, name=formatting.escape(feed.name)),
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        texts.FEED_REMOVE_YES, callback_data=f"feeds:remove:{feed.id}"
                    ),
                    InlineKeyboardButton(texts.FEED_KEEP, callback_data=f"feeds:keep:{feed.id}"),
                ]
            ]
        ),
    )


@admins_only
async def press_feed_button(update: Update, context: BotContext) -> None:
    """The confirmation /feeds remove asked for."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    _, action, feed_id = query.data.split(":")
    await query.answer()
    if action != "remove":
        await query.edit_message_text(texts.FEED_KEPT)
        return
    try:
        feed = await context.services.feeds.remove(int(feed_id))
    except FeedError as error:
        await query.edit_message_text(formatting.escape(error.user_message))
        return
    await query.edit_message_text(
        f"Stopped watching #{feed.id} {formatting.escape(feed.name)} and deleted its stories."
    )


HANDLERS = [
    CommandHandler("feeds", manage_feeds),
    CallbackQueryHandler(press_feed_button, pattern=r"^feeds:(remove|keep):\d+$"),
]
