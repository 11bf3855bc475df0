"""Every fixed reply Herald sends, in Telegram HTML."""

from __future__ import annotations

from bot.domain import TopicAction

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
    "/topic <i>query</i>: follow a topic\n"
    "/topic: list this chat's topics, with buttons to switch, silence or remove them\n"
    "/topic remove <i>number or query</i>: stop following one\n\n"
    "<b>Reading</b>\n"
    "/latest [<i>n</i>] [<i>query</i>]: the newest stories, e.g. <code>/latest 3 Putin</code>\n"
    "/search <i>words</i>: search the archive, best matches first\n"
    "In any chat, type <code>@{bot} words</code> to pick a story to share there\n\n"
    "<b>Delivery</b>\n"
    "/digest: a daily digest at your local time; /digest on, off, <i>HH:MM</i>, now; "
    "/digest here in a forum thread sends digests there\n"
    "/timezone <i>Area/City</i> or <i>UTC+3</i>: this chat's time zone\n"
    "/quiet <i>22:00-07:00</i>, /quiet off: hold alerts during those hours\n"
    "/mute <i>30m|2h|1d</i> (or just /mute, for buttons), /unmute: pause alerts for a while\n"
    "/preview off, small or large: the link preview on single alerts\n"
    "Under each alert: 🔕 mute its topic for a day, 📰 digest only, ✖️ unfollow, with Undo\n\n"
    "<b>This chat</b>\n"
    "/start: subscribe this chat\n"
    "/stop: unsubscribe and delete this chat's data (asks first)\n"
    "/id: your user id and this chat's id\n"
    "/help: this message\n\n"
    "<b>Channels and groups</b>\n"
    "Name a chat you administer first to manage it from here: "
    "<code>/topic @yourchannel North Korea</code>, <code>/digest -100123456789 on</code>\n"
    "/chats: the channels and groups you manage through Herald\n"
    "In a forum group, a topic added inside a thread alerts that thread.\n\n"
    "<b>Topic language</b>\n"
    "<code>North Korea</code>: the words as a phrase\n"
    "<code>Putin OR Kremlin</code>: either\n"
    "<code>Putin AND Vietnam</code>: both, anywhere in the story\n"
    "<code>North Korea -Vietnam</code>: but not stories that mention Vietnam\n"
    '<code>"exact words"</code>: exactly these words, no other forms\n'
    "<code>site:bbc.co.uk</code>: stories linking to that site (subdomains too)\n"
    "<code>feed:12</code>: every story of one feed\n"
    '<code>title:Putin</code>, <code>title:"North Korea"</code>: in the title only\n'
    "Case, accents, hyphens and apostrophes don't matter, <i>sanction</i> also finds "
    "<i>sanctions</i> and <i>sanctioned</i>, and every script works: Chinese, Japanese and "
    "Korean are matched by character pairs."
)

ADMIN_HELP = (
    "\n\n<b>Admin</b>\n"
    "/feeds: feeds with their health; /feeds add <i>url</i>, /feeds remove <i>id</i>\n"
    "/broadcast <i>message</i>: preview, then send to every subscriber\n"
    "/breaking <i>story id or link</i>: push a stored story to everyone\n"
    "/stats: chats, stories, outbox and delivery"
)

# The command menu Telegram shows; (command, description).
BOT_COMMANDS = [
    ("topic", "Follow a topic, or list this chat's topics"),
    ("latest", "The newest stories, optionally matching a query"),
    ("search", "Search the archive"),
    ("digest", "The daily digest: on, off, a time, or now"),
    ("preview", "Link previews on alerts: off, small or large"),
    ("timezone", "This chat's time zone"),
    ("quiet", "Quiet hours for alerts"),
    ("mute", "Pause alerts for a while"),
    ("unmute", "Resume alerts"),
    ("start", "Subscribe this chat"),
    ("help", "Commands and the topic language"),
    ("id", "Your user id and this chat's id"),
    ("chats", "Channels and groups you manage through Herald"),
]
# In groups: what members read and what the group's admins set.
GROUP_COMMANDS = [
    ("topic", "Follow a topic, or list this group's topics"),
    ("latest", "The newest stories, optionally matching a query"),
    ("search", "Search the archive"),
    ("digest", "The daily digest: on, off, a time, now, or here"),
    ("preview", "Link previews on alerts: off, small or large"),
    ("mute", "Pause alerts for a while"),
    ("unmute", "Resume alerts"),
    ("quiet", "Quiet hours for alerts"),
    ("timezone", "This group's time zone"),
    ("help", "Commands and the topic language"),
]
# Added to an admin's own menu (HERALD_ADMIN_IDS).
ADMIN_COMMANDS = [
    ("feeds", "Feeds and their health; add or remove one"),
    ("broadcast", "Send a message to every subscriber"),
    ("breaking", "Push a stored story to everyone"),
    ("stats", "Chats, stories, outbox and delivery"),
]

STOPPED = (
    "This chat is unsubscribed and everything Herald stored for it is deleted. "
    "Send /start to subscribe again."
)

ALREADY_SUBSCRIBED = "This chat is already subscribed to Herald; /help lists every command."
ID_HINT = "An operator makes a user an admin by adding their id to HERALD_ADMIN_IDS."
GROUP_START_ADMINS_ONLY = (
    "Only this group's admins can subscribe it to Herald. An admin can send /start."
)
NOT_SUBSCRIBED = (
    "This chat isn't subscribed, so there was nothing to delete. /start subscribes it."
)
GROUP_ADMINS_ONLY = "Only this group's admins can change its Herald settings."
APOLOGY = "Sorry, something went wrong on my side while handling that. Please try again shortly."
APOLOGY_SHORT = "Sorry, something went wrong. Please try again."
ADMINS_ONLY = (
    "Sorry, that command is only for Herald's admins. (Running Herald? /id shows the user "
    "id to put in HERALD_ADMIN_IDS.)"
)
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
    "Usage: /breaking <i>story id or link</i>\n"
    "Pushes a stored story to every subscriber, whatever their topics, never twice to a chat."
)
TOPIC_USAGE = (
    "Usage:\n"
    "/topic <i>query</i>: follow a topic, e.g. <code>/topic North Korea</code>\n"
    "/topic: list this chat's topics, with buttons\n"
    "/topic remove <i>number or query</i>: stop following one\n"
    "/help explains the topic language."
)
LATEST_USAGE = (
    "Usage: /latest [<i>n</i>] [<i>query</i>], n from 1 to 20 (5 if left out).\n"
    "Examples: <code>/latest</code>, <code>/latest 10</code>, <code>/latest 3 Putin</code>"
)
SEARCH_USAGE = (
    "Usage: /search <i>words</i>. Every word must appear, in any order.\n"
    "Examples:\n"
    "<code>/search sanctions oil</code>\n"
    '<code>/search "Kim Jong Un" missile</code>: an exact phrase\n'
    "<code>/search Putin OR Kremlin</code>: either\n"
    "<code>/search tariffs -China</code>: but not China"
)
DIGEST_USAGE = (
    "Usage: /digest on, /digest off, /digest <i>HH:MM</i> (sets the time and turns it on), "
    "/digest now, /digest here (in a forum thread: digests go there)."
)
DIGEST_NOTHING = "Nothing new for this chat's topics since the last digest."
TIMEZONE_USAGE = (
    "Usage: /timezone <i>Area/City</i> or <i>UTC±H[:MM]</i>, e.g. "
    "<code>/timezone Europe/London</code>, <code>/timezone UTC+5:45</code>."
)
QUIET_USAGE = (
    "Usage: /quiet <i>HH:MM-HH:MM</i> holds alerts during those hours every day (they may "
    "cross midnight, e.g. <code>/quiet 22:00-07:00</code>); /quiet off ends them."
)
PREVIEW_USAGE = (
    "Usage: /preview off, /preview small or /preview large: how a single alert shows its "
    "article's link preview."
)
# (setting, button label) for a bare /preview.
PREVIEW_CHOICES = (("off", "Off"), ("small", "Small"), ("large", "Large"))
DIGEST_TIME_PROMPT = "What time should the daily digest come? Reply with HH:MM, e.g. 07:30."
TIMEZONE_PROMPT = "Which city's time should this chat follow? Reply with a city or Area/City."
# (hours as /quiet takes them, button label) for a bare /quiet.
QUIET_CHOICES = (
    ("22:00-07:00", "22:00–07:00"),
    ("23:00-08:00", "23:00–08:00"),
    ("21:00-06:00", "21:00–06:00"),
    ("00:00-08:00", "00:00–08:00"),
)
MUTE_USAGE = "Usage: /mute <i>30m</i>, <i>2h</i> or <i>1d</i>; /unmute ends it sooner."
MUTE_ASK = "🔕 Mute alerts for how long? What arrives meanwhile comes as one message after."
# (callback choice, button label) for a bare /mute.
MUTE_CHOICES = (
    ("30m", "30 min"),
    ("2h", "2 h"),
    ("8h", "8 h"),
    ("1d", "1 day"),
    ("morning", "Until 08:00"),
)
UNKNOWN_COMMAND = "I don't know {command}. /help lists what I can do."
PLAIN_TEXT = (
    "I answer commands. To follow “{text}”, send /topic {text}; to search the archive for "
    "it, send /search {text}. /help lists every command."
)
UNDO = "↩️ Undo"
# The button above an inline answer with no stories (at most 64 characters).
INLINE_NOTHING = "Nothing found. Tap for search tips."
INLINE_EMPTY = "No stories stored yet. Tap for help."
ALERT_TOO_OLD = (
    "This alert's buttons have expired. /topic lists the topics, with buttons to change them."
)
# What the one button left under an alert says after a press, beside Undo.
ALERT_DONE = {
    TopicAction.MUTE: "🔕 muted 1 day",
    TopicAction.DIGEST: "📰 digest only",
    TopicAction.UNFOLLOW: "✖️ unfollowed",
}
STALE_BUTTON = "This button no longer works. Send the command again for fresh buttons."

# Managing a channel or group from another chat.
DIGEST_HERE_ONLY_IN_THREADS = (
    "/digest here works inside a forum topic: send it in the topic where digests and "
    "catch-up messages should go. Nothing was changed."
)
CHANNEL_COMMAND_ELSEWHERE = (
    "In a channel I take only its settings: /topic, /digest, /timezone, /quiet, /mute, "
    "/unmute and /stop. /latest, /search and the rest work in a private chat with me."
)
STOP_CONFIRM = (
    "Unsubscribe this chat? Herald deletes everything it stored for it: {topics}, the "
    "digest and quiet-hour settings. Alerts keep coming until you confirm."
)
STOP_YES = "🗑 Yes, unsubscribe"
STOP_NO = "Keep it"
STOP_KEPT = "Nothing was deleted; this chat stays subscribed."
LATEST_CAPPED = "\n\n<i>{most} at a time at most; More shows the ones before.</i>"
# Questions asked with ForceReply: plain text, since a reply is recognised by its words.
TOPIC_PROMPT = "Which topic should this chat follow? Reply with the words."
SEARCH_PROMPT = "What should I search the archive for? Reply with the words."
NO_DAYLIGHT_SAVING = (
    "\n\n⚠️ {name} keeps one offset all year, with no daylight saving. Where clocks change, "
    "name a city instead{instead}."
)
ADD_TOPIC = "➕ Add a topic"
NO_SUCH_FEED = "There is no feed #{feed_id}. /feeds lists them with their ids."
FEED_REMOVE_CONFIRM = (
    "Stop watching #{feed_id} {name}? Its stories leave the archive, /latest and /search."
)
FEED_REMOVE_YES = "🗑 Stop watching"
FEED_KEEP = "Keep it"
FEED_KEPT = "Nothing was removed; the feed is still watched."
STOP_USAGE = (
    "/stop takes no argument but a chat you manage, such as /stop @mynews. Nothing was changed."
)
CHAT_NOT_FOUND = (
    "I can't see the chat {reference}. Add me to it first (to a channel as an administrator "
    "with the “Post messages” right), then try again."
)
NOT_CHAT_ADMIN = (
    "Only the admins of {title} can change its Herald settings, and Telegram says you're "
    "not one. Nothing was changed."
)
BOT_NOT_IN_CHAT = (
    "I'm not in {title}. Add me to the channel as an administrator with the "
    "“Post messages” right (to a group, as a member), then try again. Nothing was changed."
)
BOT_CANNOT_POST_IN_CHANNEL = (
    "I can't post in {title}. In the channel's settings, make me an administrator with the "
    "“Post messages” right, then try again. Nothing was changed."
)
BOT_CANNOT_POST_IN_GROUP = (
    "I can't send messages in {title}. Let me send messages there (the group's "
    "Permissions), then try again. Nothing was changed."
)
NAME_CHATS_AS_YOURSELF = (
    "To manage another chat, name it in your private chat with me, e.g. "
    "<code>/topic @yourchannel North Korea</code>."
)
ADDED_WITHOUT_POSTING_TO_CHANNEL = (
    "⚠️ I can't post there yet: make me an administrator with the “Post messages” right "
    "in the channel's settings, and alerts start at once."
)
ADDED_WITHOUT_POSTING_TO_GROUP = (
    "⚠️ I can't send messages there yet: let me send messages in the group's Permissions, "
    "and alerts start at once."
)
ADDED_TO_CHAT = (
    "I was added to <b>{title}</b> (id <code>{chat_id}</code>). Manage it from here by "
    "naming it first:\n"
    "<code>/topic {reference} North Korea</code>: follow a topic there\n"
    "<code>/topic {reference}</code>: its topics, with buttons\n"
    "<code>/digest {reference} on</code>, <code>/timezone {reference} Europe/Kyiv</code>, "
    "<code>/mute {reference} 2h</code>, <code>/stop {reference}</code>\n"
    "/chats lists every chat you manage through Herald."
)
NO_MANAGED_CHATS = (
    "You don't manage any channel or group through Herald yet. Add me to your channel as an "
    "administrator with the “Post messages” right, then follow topics for it from here: "
    "<code>/topic @yourchannel North Korea</code>."
)
