"""/latest and /search, with their More, Next and Prev buttons."""

from __future__ import annotations

from telegram import (
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import CallbackQueryHandler, CommandHandler, InlineQueryHandler, MessageHandler

from bot import formatting
from bot.domain import HeraldError
from bot.services.reading import (
    LATEST_DEFAULT,
    LATEST_MAX,
    SEARCH_PAGE,
    LatestPage,
    SearchPage,
)
from handlers import texts
from handlers.context import BotContext
from handlers.permissions import is_admin
from handlers.prompts import ANSWERS, RepliesTo, ask_for

# Inline answers are the same for everyone and change as stories arrive: cached briefly.
INLINE_CACHE_SECONDS = 30


def _command_text(update: Update) -> str:
    """What follows the command, spacing and quotes intact."""
    message = update.effective_message
    parts = (message.text or "").split(maxsplit=1) if message is not None else []
    return parts[1].strip() if len(parts) > 1 else ""


def _more_button(page: LatestPage) -> InlineKeyboardMarkup | None:
    if not page.has_more or page.resume_before is None:
        return None
    data = f"latest:{page.search_id}:{page.count}:{page.resume_before}"
    return InlineKeyboardMarkup([[InlineKeyboardButton("More ▼", callback_data=data)]])


def _paging_buttons(page: SearchPage) -> InlineKeyboardMarkup | None:
    row = []
    if page.page > 0:
        row.append(
            InlineKeyboardButton(
                "◀ Prev", callback_data=f"search:{page.search_id}:{page.page - 1}"
            )
        )
    if page.has_next:
        row.append(
            InlineKeyboardButton(
                "Next ▶", callback_data=f"search:{page.search_id}:{page.page + 1}"
            )
        )
    return InlineKeyboardMarkup([row]) if row else None


async def _timezone(context: BotContext, chat_id: int) -> str:
    chat = await context.services.chats.get(chat_id)
    return chat.timezone if chat is not None else context.services.default_timezone


def _render_latest(page: LatestPage, *, timezone: str, context: BotContext, admin: bool) -> str:
    return formatting.latest_list(
        page.entries,
        query=page.query.display if page.query is not None else None,
        timezone=timezone,
        now=context.services.clock(),
        show_ids=admin,
        examined=page.examined if page.capped else None,
        also=page.also,
    )


async def show_latest(update: Update, context: BotContext) -> None:
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    text = _command_text(update)
    count, query = LATEST_DEFAULT, text or None
    first, _, rest = text.partition(" ")
    if first.lstrip("-+").isdigit():
        count, query = int(first), rest.strip() or None
    note = ""
    if count > LATEST_MAX:
        # What the person obviously means: as many as there may be.
        count, note = LATEST_MAX, texts.LATEST_CAPPED.format(most=LATEST_MAX)
    try:
        page = await context.services.reading.latest(chat.id, count, query)
    except HeraldError as error:
        await message.reply_text(
            f"{formatting.escape(error.user_message)}\n\n{texts.LATEST_USAGE}"
        )
        return
    await message.reply_text(
        _render_latest(
            page,
            timezone=await _timezone(context, chat.id),
            context=context,
            admin=is_admin(update, context),
        )
        + note,
        reply_markup=_more_button(page),
    )


async def press_more(update: Update, context: BotContext) -> None:
    query, chat = update.callback_query, update.effective_chat
    if query is None or query.data is None or chat is None:
        return
    _, search_id, count, last = query.data.split(":")
    try:
        page = await context.services.reading.more_latest(
            chat.id, int(search_id), int(count), int(last)
        )
    except HeraldError as error:
        await query.answer(error.user_message, show_alert=True)
        return
    await query.answer()
    # The listing so far stays; More moves to the new page, which is sent below it.
    await query.edit_message_reply_markup(reply_markup=None)
    if query.message is not None:
        await context.bot.send_message(
            chat.id,
            _render_latest(
                page,
                timezone=await _timezone(context, chat.id),
                context=context,
                admin=is_admin(update, context),
            ),
            reply_markup=_more_button(page),
        )


async def search(update: Update, context: BotContext) -> None:
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    text = _command_text(update)
    if not text:
        if chat.type == Chat.PRIVATE:
            # Tapped from the menu: ask, and the reply is searched for.
            await message.reply_text(texts.SEARCH_PROMPT, reply_markup=ask_for("tariffs"))
        else:
            await message.reply_text(texts.SEARCH_USAGE)
        return
    await _search(update, context, text)


async def answer_search_prompt(update: Update, context: BotContext) -> None:
    """The words someone replied to "What should I search the archive for?"."""
    message = update.effective_message
    if message is not None and message.text:
        await _search(update, context, message.text)


async def _search(update: Update, context: BotContext, text: str) -> None:
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    try:
        page = await context.services.reading.search(chat.id, text)
    except HeraldError as error:
        await message.reply_text(
            f"{formatting.escape(error.user_message)}\n\n{texts.SEARCH_USAGE}"
        )
        return
    await message.reply_text(
        await _render_search(page, update, context, chat.id), reply_markup=_paging_buttons(page)
    )


async def _render_search(
    page: SearchPage, update: Update, context: BotContext, chat_id: int
) -> str:
    return formatting.search_results(
        page.hits,
        query=page.query.display,
        page=page.page,
        per_page=SEARCH_PAGE,
        timezone=await _timezone(context, chat_id),
        now=context.services.clock(),
        show_ids=is_admin(update, context),
    )


async def turn_search_page(update: Update, context: BotContext) -> None:
    query, chat = update.callback_query, update.effective_chat
    if query is None or query.data is None or chat is None:
        return
    _, search_id, number = query.data.split(":")
    try:
        page = await context.services.reading.search_page(chat.id, int(search_id), int(number))
    except HeraldError as error:
        await query.answer(error.user_message, show_alert=True)
        return
    await query.answer()
    await query.edit_message_text(
        await _render_search(page, update, context, chat.id), reply_markup=_paging_buttons(page)
    )


async def answer_inline_query(update: Update, context: BotContext) -> None:
    """``@bot words`` in any chat: matching stories, each sent as a card when chosen."""
    inline = update.inline_query
    if inline is None:
        return
    offset = int(inline.offset) if inline.offset.isdigit() else 0
    try:
        page = await context.services.reading.inline(inline.query, offset=offset)
    except HeraldError as error:
        # Not a query: no stories, and a button to the help in a private chat says why.
        await inline.answer(
            [],
            cache_time=INLINE_CACHE_SECONDS,
            is_personal=False,
            button=InlineQueryResultsButton(
                formatting.shorten(f"⚠️ {error.user_message}", 64), start_parameter="help"
            ),
        )
        return
    # The answer is cached for everyone (is_personal false): times are in UTC, said so.
    now = context.services.clock()
    results = [
        InlineQueryResultArticle(
            id=str(entry.id),
            title=formatting.shorten(entry.title, 200) or "(untitled)",
            description=formatting.inline_description(entry, now=now),
            url=entry.link or None,
            input_message_content=InputTextMessageContent(
                formatting.alert_card(entry, topics=(), timezone="UTC", now=now, zone_shown=True),
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=not entry.link),
            ),
        )
        for entry in page.entries
    ]
    hint = None
    if not results and not offset:
        # Nothing to show: a button to the help says so, rather than an empty list.
        hint = InlineQueryResultsButton(
            texts.INLINE_NOTHING if inline.query.strip() else texts.INLINE_EMPTY,
            start_parameter="help",
        )
    await inline.answer(
        results,
        cache_time=INLINE_CACHE_SECONDS,
        is_personal=False,
        next_offset=str(page.next_offset) if page.next_offset is not None else None,
        button=hint,
    )


HANDLERS = [
    CommandHandler("latest", show_latest),
    CommandHandler("search", search),
    MessageHandler(ANSWERS & RepliesTo(texts.SEARCH_PROMPT), answer_search_prompt),
    CallbackQueryHandler(press_more, pattern=r"^latest:\d+:\d+:\d+$"),
    CallbackQueryHandler(turn_search_page, pattern=r"^search:\d+:\d+$"),
    InlineQueryHandler(answer_inline_query),
]
