"""Every fixed reply Herald sends, in Telegram HTML."""

from __future__ import annotations

WELCOME = (
    "<b>Welcome to Herald!</b>\n"
    "I watch news feeds and tell this chat, within seconds, about new stories on the "
    "topics it follows.\n\n"
    "Add a first topic, for example:\n"
    "<code>/topic North Korea</code>\n"
    "<code>/topic Putin OR Kremlin</code>\n"
    "<code>/topic sanctions -Iran</code>\n\n"
    "/help lists every command."
)

WELCOME_BACK = (
    "<b>Welcome back!</b> This chat is subscribed again and keeps the topics it had.\n"
    "/help lists every command."
)

HELP = (
    "<b>Herald</b> pushes news as it breaks, for the topics this chat follows.\n\n"
    "<b>Topics</b>\n"
    "/topic <i>query</i>: follow a topic (coming soon)\n"
    "/topic: list this chat's topics (coming soon)\n"
    "/topic remove <i>query or number</i>: stop following one (coming soon)\n\n"
    "<b>Reading</b>\n"
    "/latest [<i>n</i>] [<i>query</i>]: the newest entries (coming soon)\n"
    "/search <i>words</i>: search the archive (coming soon)\n\n"
    "<b>Delivery</b>\n"
    "/digest: a daily digest at your local time (coming soon)\n"
    "/timezone <i>Area/City</i>: this chat's time zone (coming soon)\n"
    "/quiet <i>HH:MM-HH:MM</i>: hold alerts during those hours (coming soon)\n"
    "/mute <i>30m|2h|1d</i>, /unmute: pause alerts (coming soon)\n\n"
    "<b>This chat</b>\n"
    "/start: subscribe this chat\n"
    "/stop: unsubscribe and delete this chat's data\n"
    "/help: this message\n\n"
    "<b>Topic language</b>\n"
    "<code>North Korea</code>: the words as a phrase\n"
    "<code>Putin OR Kremlin</code>: either\n"
    "<code>Putin AND Vietnam</code>: both, anywhere in the story\n"
    "<code>North Korea -Vietnam</code>: but not stories that mention Vietnam\n"
    '<code>"exact words"</code>: exactly these words, no other forms\n'
    "Case, accents, hyphens and apostrophes don't matter, and <i>sanction</i> also finds "
    "<i>sanctions</i> and <i>sanctioned</i>."
)

ADMIN_HELP = (
    "\n\n<b>Admin</b>\n"
    "/feeds: feeds with their health; /feeds add <i>url</i>, /feeds remove <i>id</i>\n"
    "/broadcast <i>message</i>: preview, then send to every subscriber\n"
    "/breaking <i>entry id or link</i>: push a stored entry to everyone\n"
    "/stats: chats, entries, outbox and delivery"
)

# The command menu Telegram shows; (command, description).
BOT_COMMANDS = [
    ("start", "Subscribe this chat"),
    ("help", "Commands and the topic language"),
    ("stop", "Unsubscribe and delete this chat's data"),
]

STOPPED = (
    "This chat is unsubscribed and everything Herald stored for it is deleted. "
    "Send /start to subscribe again."
)
NOT_SUBSCRIBED = (
    "This chat isn't subscribed, so there was nothing to delete. /start subscribes it."
)
GROUP_ADMINS_ONLY = "Only this group's admins can change its Herald settings."
APOLOGY = "Sorry, something went wrong on my side while handling that. Please try again shortly."
APOLOGY_SHORT = "Sorry, something went wrong. Please try again."
ADMINS_ONLY = "Sorry, that command is only for Herald's admins."
FEEDS_USAGE = (
    "Usage:\n"
    "/feeds: every feed with its health\n"
    "/feeds add <i>url</i>: watch a feed (or a page that links to one)\n"
    "/feeds remove <i>id</i>: stop watching a feed"
)
BROADCAST_USAGE = (
    "Usage: /broadcast <i>message</i>\n"
    "You'll see a preview with the audience size and Send / Cancel buttons first."
)
BREAKING_USAGE = (
    "Usage: /breaking <i>entry id or link</i>\n"
    "Pushes a stored entry to every subscriber, whatever their topics, never twice to a chat."
)
