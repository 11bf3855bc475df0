"""Alert, digest and list rendering in Telegram HTML, every message within Telegram's limit."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import urlsplit

from bot.domain import (
    PUSHED_POLL_INTERVAL,
    AddedTopic,
    BroadcastProgress,
    BroadcastState,
    Button,
    Chat,
    DigestSection,
    Entry,
    Feed,
    FeedHealth,
    Keyboard,
    LinkPreview,
    PushState,
    SearchHit,
    Stats,
    Subscription,
    Topic,
    TopicAction,
    TopicChange,
    TopicMode,
)
from config.timezones import zone as tz_zone

# Telegram counts a message's length in UTF-16 code units after parsing entities. Measuring
# the HTML source instead is an upper bound, so a message that fits here always fits there.
MAX_MESSAGE = 4096
SUMMARY_LIMIT = 400
TITLE_LIMIT = 300
ELLIPSIS = "…"

_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def escape(text: str) -> str:
    """Text from a feed or a user, made safe to put between tags."""
    return html.escape(text, quote=False)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` UTF-16 units, cut at a word boundary with an ellipsis when cut."""
    text = _SPACE.sub(" ", text).strip()
    if utf16_len(text) <= limit:
        return text
    cut = _utf16_prefix(text, limit - 1)
    space = cut.rfind(" ")
    # A single enormous word is cut mid-word rather than dropped.
    if space >= len(cut) // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—") + ELLIPSIS


def _utf16_prefix(text: str, units: int) -> str:
    encoded = text.encode("utf-16-le")[: units * 2]
    # Never split a surrogate pair: drop a dangling high surrogate.
    return encoded.decode("utf-16-le", errors="ignore")


def link(text: str, url: str) -> str:
    """``text`` as a link to ``url``, or plain escaped text when the URL isn't http(s)."""
    if urlsplit(url).scheme not in {"http", "https"}:
        return escape(text)
    return f'<a href="{html.escape(url, quote=True)}">{escape(text)}</a>'


def plain_text(markup: str) -> str:
    """What a user would read of ``markup``: tags dropped, entities decoded."""
    return html.unescape(_TAG.sub("", markup))


def local_time(moment: dt.datetime, timezone: str, *, now: dt.datetime) -> str:
    """``14:05`` today, ``13 Mar 14:05`` otherwise, in the chat's time zone."""
    zone = tz_zone(timezone)
    local, today = moment.astimezone(zone), now.astimezone(zone)
    if local.date() == today.date():
        return local.strftime("%H:%M")
    if local.year == today.year:
        return f"{local.day} {local:%b %H:%M}"
    return f"{local.day} {local:%b %Y %H:%M}"


def publication_time(
    entry: Entry, timezone: str, *, now: dt.datetime, relative: bool = False
) -> str:
    """When ``entry`` was published, as ``local_time`` or ``relative_time`` put it.

    A feed that gave only a day gets that day: its stored midnight UTC is no time of day,
    and moved into the chat's time zone it could even show the day before.
    """
    if not entry.date_only:
        if relative:
            return relative_time(entry.published_at, now=now)
        return local_time(entry.published_at, timezone, now=now)
    day = entry.published_at.astimezone(dt.UTC).date()
    today = now.astimezone(tz_zone(timezone)).date()
    if relative:
        days = (today - day).days
        if days <= 0:
            return "today"
        return "yesterday" if days == 1 else f"{days} days ago"
    if day.year == today.year:
        return f"{day.day} {day:%b}"
    return f"{day.day} {day:%b %Y}"


def relative_time(moment: dt.datetime, *, now: dt.datetime) -> str:
    seconds = int((now - moment).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    days = seconds // 86400
    return "yesterday" if days == 1 else f"{days} days ago"


def _title(entry: Entry) -> str:
    return shorten(entry.title, TITLE_LIMIT) or "(untitled)"


def alert_card(
    entry: Entry,
    *,
    topics: Sequence[str],
    timezone: str,
    now: dt.datetime,
    breaking: bool = False,
    zone_shown: bool = False,
) -> str:
    """One entry as a push alert: title link, source and time, summary, matched topics.

    ``zone_shown`` names the time zone after the time, for a card read in many zones.
    """
    lines = []
    if breaking:
        lines.append("🔴 <b>BREAKING</b>")
    lines.append(f"<b>{link(_title(entry), entry.link)}</b>")
    lines.append(
        f"<i>{escape(shorten(entry.feed_title, 100))} · "
        f"{publication_time(entry, timezone, now=now)}"
        f"{' ' + escape(timezone) if zone_shown and not entry.date_only else ''}</i>"
    )
    summary = shorten(entry.summary, SUMMARY_LIMIT)
    if summary and summary != entry.title:
        lines.append("")
        lines.append(escape(summary))
    if topics:
        shown = ", ".join(escape(shorten(topic, 60)) for topic in topics[:5])
        more = f" +{len(topics) - 5}" if len(topics) > 5 else ""
        lines.append("")
        lines.append(f"🏷 {shown}{more}")
    return fit("\n".join(lines))


# Buttons under an alert send "alert:<action>:<outbox id>": the alert knows its chat and the
# topics that matched it.
ALERT_ACTIONS = {"mute": "🔕 Mute 1 day", "digest": "📰 Digest only", "unfollow": "✖️ Unfollow"}


def alert_buttons(outbox_id: int, *, unfollow: bool) -> Keyboard:
    """The buttons under a single alert: mute, digest only and, if ``unfollow``, unfollow."""
    actions = [action for action in ALERT_ACTIONS if unfollow or action != "unfollow"]
    return (tuple(Button(ALERT_ACTIONS[a], f"alert:{a}:{outbox_id}") for a in actions),)


def inline_description(entry: Entry, *, now: dt.datetime) -> str:
    """The grey line under a story's title in an inline answer: source and how long ago."""
    when = publication_time(entry, "UTC", now=now, relative=True)
    return f"{shorten(entry.feed_title, 60)} · {when}"


def with_sources(card: str, sources: Sequence[str]) -> str:
    """An alert card with a last line naming the other outlets its story came from."""
    if not sources:
        return card
    names = ", ".join(escape(shorten(source, 60)) for source in sources)
    return fit(f"{card}\n\n<i>Also: {names}</i>")


def entry_line(
    entry: Entry,
    *,
    timezone: str,
    now: dt.datetime,
    relative: bool = False,
    also: Sequence[str] = (),
) -> str:
    """One entry as a list item: title link, source and time, and ``also`` the other feeds
    that told its story."""
    when = publication_time(entry, timezone, now=now, relative=relative)
    source = escape(shorten(entry.feed_title, 60))
    line = f"• {link(shorten(entry.title, 200) or '(untitled)', entry.link)} · {source} · {when}"
    return line + _also(also)


def _also(sources: Sequence[str]) -> str:
    """ " · also A, B" naming a story's other sources (3 at most, then how many more)."""
    if not sources:
        return ""
    named = ", ".join(escape(shorten(source, 40)) for source in sources[:3])
    more = f" +{len(sources) - 3}" if len(sources) > 3 else ""
    return f" · also {named}{more}"


def alert_list(
    entries: Sequence[tuple[Entry, Sequence[str]]], *, timezone: str, now: dt.datetime
) -> list[str]:
    """Several waiting alerts for one chat as a list, split over as many messages as needed."""
    return _listing(f"📰 <b>{len(entries)} new stories</b>", entries, timezone=timezone, now=now)


def _listing(
    header: str,
    entries: Sequence[tuple[Entry, Sequence[str]]],
    *,
    timezone: str,
    now: dt.datetime,
) -> list[str]:
    return split_messages(header, _listing_lines(entries, timezone=timezone, now=now))


def _listing_lines(
    entries: Sequence[tuple[Entry, Sequence[str]]], *, timezone: str, now: dt.datetime
) -> list[str]:
    lines = []
    for entry, topics in entries:
        line = entry_line(entry, timezone=timezone, now=now)
        if topics:
            line += f" · 🏷 {escape(shorten(', '.join(topics), 80))}"
        lines.append(line)
    return lines


def split_messages(
    header: str, lines: Iterable[str], *, limit: int = MAX_MESSAGE, separator: str = "\n"
) -> list[str]:
    """``header`` then ``lines``, split at line boundaries into messages within ``limit``.

    Each line must be balanced HTML on its own, so any split point is a valid one. A line
    too long for a message by itself is shortened as plain text.
    """
    messages: list[str] = []
    current = header
    for line in lines:
        if utf16_len(line) > limit - len(separator):
            line = escaped_within(plain_text(line), limit - len(separator))
        candidate = f"{current}{separator}{line}" if current else line
        if utf16_len(candidate) <= limit:
            current = candidate
            continue
        messages.append(current)
        current = line
    if current:
        messages.append(current)
    return messages


def fit(markup: str, *, limit: int = MAX_MESSAGE) -> str:
    """``markup`` if it fits in one message, else its plain text shortened to fit."""
    if utf16_len(markup) <= limit:
        return markup
    return escaped_within(plain_text(markup), limit)


def escaped_within(text: str, limit: int) -> str:
    """``text`` escaped for HTML and shortened so the escaped form fits ``limit``."""
    budget = limit
    while True:
        escaped = escape(shorten(text, budget))
        overflow = utf16_len(escaped) - limit
        if overflow <= 0:
            return escaped
        budget -= max(overflow, 1)


def _ago(moment: dt.datetime | None, now: dt.datetime) -> str:
    return "never" if moment is None else relative_time(moment, now=now)


def _in(moment: dt.datetime, now: dt.datetime) -> str:
    seconds = int((moment - now).total_seconds())
    if seconds <= 0:
        return "due now"
    return f"in {_duration(dt.timedelta(seconds=seconds))}"


def _duration(span: dt.timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds / 3600:.1f} h"


def feed_list(feeds: Sequence[FeedHealth], *, now: dt.datetime) -> list[str]:
    """/feeds: every feed with its health, split over messages as needed."""
    if not feeds:
        return ["No feeds yet. Add one with /feeds add <i>url</i>."]
    blocks = []
    for health in feeds:
        feed = health.feed
        ratio = f"{feed.polls_not_modified / feed.polls:.0%}" if feed.polls else "n/a"
        state = "✅" if feed.consecutive_failures == 0 else "⚠️"
        lines = [f"{state} <b>#{feed.id} {escape(shorten(feed.name, 80))}</b>"]
        if feed.title:
            lines.append(escape(shorten(feed.url, 200)))
        lines += [
            f"last success: {_ago(feed.last_success_at, now)} · "
            + (
                "polling now"
                if health.polling_now
                else f"next poll: {_in(feed.next_poll_at, now)}"
            ),
            f"304 answers: {ratio} of {feed.polls} polls · "
            f"{health.entries_per_day:.1f} stories/day",
        ]
        if feed.min_interval is not None and feed.min_interval > health.poll_interval:
            lines.append(
                f"server asks for {_duration(feed.min_interval)} between polls"
                " (Cache-Control/Expires)"
            )
        if health.push is not None:
            lines.append(push_status(health.push, health.poll_interval, now=now))
        if feed.last_error is not None:
            lines.append(
                f"last error: {escape(shorten(feed.last_error, 200))} "
                f"({_ago(feed.last_error_at, now)})"
            )
        if feed.consecutive_failures:
            lines.append(
                f"failing since {_ago(feed.failing_since, now)}, "
                f"{plural(feed.consecutive_failures, 'failure')} in a row: backing off"
            )
        blocks.append("\n".join(lines))
    header = f"<b>Feeds</b> ({len(feeds)}) · /feeds add <i>url</i> · /feeds remove <i>id</i>"
    return split_messages(header, blocks, separator="\n\n")


def push_status(push: Subscription, poll_interval: dt.timedelta, *, now: dt.datetime) -> str:
    """/feeds' line on a feed's WebSub subscription."""
    hub = escape(shorten(urlsplit(push.hub).netloc or push.hub, 60))
    if push.live(now):
        assert push.expires_at is not None
        pushes = plural(push.pushes, "push", "pushes")
        last = f", last {_ago(push.last_push_at, now)}" if push.last_push_at else ""
        safety = _duration(max(poll_interval, PUSHED_POLL_INTERVAL))
        trouble = (
            f" · renewal failed: {escape(shorten(push.error, 150))}; retrying"
            if push.error
            else ""
        )
        if not push.secret:
            trouble += " · unsigned (plain-HTTP hub): each push only prompts a poll"
        return (
            f"⚡ pushed by {hub} (WebSub), lease ends {_in(push.expires_at, now)} · "
            f"{pushes}{last} · polled every {safety} as a safety net{trouble}"
        )
    if push.state is PushState.REQUESTED:
        return f"⚡ push: asked {hub} (WebSub), awaiting its verification"
    usual = f"polled every {_duration(poll_interval)}"
    if push.state is PushState.ACTIVE:
        return f"⚡ push: lease at {hub} ended {_ago(push.expires_at, now)}; {usual}"
    if push.state is PushState.DENIED:
        return f"⚡ push: {hub} denied it: {escape(shorten(push.error or '', 150))}; {usual}"
    error = escape(shorten(push.error or "", 150))
    if push.expires_at is not None and push.expires_at > now:
        return f"⚡ push: pushes from {hub} are ignored: {error}; {usual}"
    if push.expires_at is not None:
        return f"⚡ push: lease at {hub} ended {_ago(push.expires_at, now)}: {error}; {usual}"
    return f"⚡ push: {hub} could not be asked: {error}; {usual}"


def series(items: Sequence[str], conjunction: str = "and") -> str:
    """``a``, ``a and b``, ``a, b and c`` (or with another conjunction)."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def either(options: Sequence[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    return series(options, "or")


def either_names(names: Iterable[str]) -> str:
    """Topic names in quotes as a phrase: “Gaza”, “Gaza” and “Iran”, “A”, “B” and “C”."""
    return series([f"“{name}”" for name in names])


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {nouns or noun + 's'}"


def failing_feed_notice(feed: Feed) -> str:
    return (
        f"⚠️ Feed <b>#{feed.id} {escape(shorten(feed.name, 100))}</b> has failed for over "
        f"24 hours. Last error: {escape(shorten(feed.last_error or 'unknown', 300))}\n"
        f"Herald keeps retrying with back-off; /feeds remove {feed.id} stops it."
    )


# To a forum whose thread Herald posted in was deleted or closed; sent once per thread.
THREAD_GONE = (
    "⚠️ A forum topic Herald posted in was deleted or closed, so what went there now goes "
    "to General. To send a topic's alerts to another thread, remove it here and add it "
    "again inside that thread."
)


def failed_messages_notice(count: int) -> str:
    return (
        f"⚠️ {plural(count, 'message was', 'messages were')} given up on: Telegram refused "
        "them, or they failed 20 times over a day. /stats counts them; the log names each."
    )


def feed_added(feed: Feed, *, entries: int, discovered_from: str | None) -> str:
    found = (
        f"Found this feed on {escape(shorten(discovered_from, 200))}.\n" if discovered_from else ""
    )
    return (
        f"{found}✅ Added feed <b>#{feed.id} {escape(shorten(feed.name, 100))}</b> "
        f"with {entries} stories. New stories will be alerted from now on."
    )


def broadcast_message(body_html: str) -> str:
    """What every chat receives for a broadcast whose body the admin wrote."""
    return f"📣 {body_html}"


def broadcast_preview(text: str, *, broadcast_id: int, audience: int) -> str:
    return (
        f"<b>Broadcast #{broadcast_id}</b>, preview. It goes to {plural(audience, 'active chat')}."
        f"\n\n{text}"
    )


def broadcast_progress(progress: BroadcastProgress) -> str:
    broadcast = progress.broadcast
    if broadcast.state is BroadcastState.CANCELLED:
        status = "cancelled"
    elif progress.finished:
        status = "done"
    else:
        status = "sending…"
    return (
        f"<b>Broadcast #{broadcast.id}</b>: {status}\n"
        f"queued {progress.queued} · sent {progress.sent} · blocked {progress.blocked} · "
        f"failed {progress.failed}"
        + (f" · cancelled {progress.cancelled}" if progress.cancelled else "")
        + f"\nof {plural(broadcast.audience, 'chat')}"
    )


def stats(report: Stats, *, now: dt.datetime) -> str:
    depth = ", ".join(f"{kind.value} {count}" for kind, count in sorted(report.outbox.items()))
    return (
        "📊 <b>Herald</b>\n"
        f"chats: {report.active_chats} active, {report.inactive_chats} inactive\n"
        f"topics: {report.topics}\n"
        f"stories: {report.entries}\n"
        f"outbox: {sum(report.outbox.values())} waiting" + (f" ({depth})" if depth else "") + "\n"
        f"sent: {report.sent_last_minute} in the last minute, "
        f"{report.sent_last_hour} in the last hour\n"
        f"failed for good in the last day: {report.failed_last_day}\n"
        f"since start-up {relative_time(report.since, now=now)}: "
        f"{report.throttled} × 429, {report.errors} send errors, "
        f"{plural(report.chats_gone, 'chat')} gone, {report.refused} refused as sent"
    )


def _topic_text(topic: Topic) -> str:
    return f"<b>{escape(topic.query)}</b>"


def topic_added(added: AddedTopic, *, timezone: str, now: dt.datetime) -> str:
    lines = [f"✅ This chat now follows {_topic_text(added.topic)}."]
    if added.recent_matches:
        count = f"{'at least ' if added.more_than_counted else ''}{added.recent_matches}"
        entries = "story" if added.recent_matches == 1 else "stories"
        lines.append(f"In the last 7 days it would have matched {count} {entries}:")
        lines += [entry_line(entry, timezone=timezone, now=now) for entry in added.examples]
    else:
        lines.append("Nothing in the last 7 days matches it; an alert comes when something does.")
    words = added.topic.query.split()
    if any(word.lower() in {"or", "and"} and not word.isupper() for word in words[1:-1]):
        # "Putin or Kremlin" is followed as a phrase, which is rarely what was meant.
        meant = " ".join(word.upper() if word.lower() in {"or", "and"} else word for word in words)
        lines.append(
            f"\nℹ️ A lowercase or/and is part of the phrase. For either or both words, "
            f"write it in capitals: <code>/topic {escape(meant)}</code>"
        )
    return fit("\n".join(lines))


TOPICS_PER_PAGE = 10


def topic_pages(count: int) -> int:
    """How many pages the /topic list of ``count`` topics takes (at least one)."""
    return max(1, -(-count // TOPICS_PER_PAGE))


def topic_list(
    topics: Sequence[Topic],
    *,
    limit: int,
    page: int = 0,
    timezone: str = "UTC",
    now: dt.datetime | None = None,
    digest_enabled: bool = True,
) -> str:
    """/topic: one page (``TOPICS_PER_PAGE``) of the chat's topics, numbered, with how each
    alerts: instant or digest only, silent, muted until when, and in which forum thread.

    ``page`` counts from 0 and is clamped to the pages there are. A digest-only topic while
    the chat's digest is off (``digest_enabled``) gets a warning: it would reach no one.
    """
    if not topics:
        return (
            "This chat follows no topics yet. Add one, for example:\n"
            "<code>/topic North Korea</code>"
        )
    pages = topic_pages(len(topics))
    page = min(max(page, 0), pages - 1)
    first = page * TOPICS_PER_PAGE
    heading = f"<b>Topics</b> ({len(topics)} of {limit})"
    if pages > 1:
        heading += f" · page {page + 1} of {pages}"
    lines = [heading]
    threaded = any(topic.thread_id for topic in topics)
    for number, topic in enumerate(topics[first : first + TOPICS_PER_PAGE], start=first + 1):
        parts = [
            f"{number}. {_topic_text(topic)}",
            "🔔 instant" if topic.mode is TopicMode.INSTANT else "📰 digest only",
        ]
        if topic.silent:
            parts.append("🔇 silent")
        if now is not None and topic.muted(now):
            assert topic.muted_until is not None
            parts.append(f"🔕 muted until {local_time(topic.muted_until, timezone, now=now)}")
        if threaded:
            # In a forum, say where each topic posts; elsewhere there is only one place.
            parts.append(thread_name(topic.thread_id))
        lines.append(" · ".join(parts))
    if not digest_enabled and any(topic.mode is TopicMode.DIGEST for topic in topics):
        lines.append(
            "\n⚠️ Digest-only topics wait for the daily digest, which is off in this chat: "
            "they reach no one until it is on."
        )
    lines.append(
        "\nThe buttons switch a topic between instant alerts and the digest only, make it "
        "silent or not, and remove it."
    )
    return split_messages("", lines)[0]


def topics_changed(
    change: TopicChange, *, timezone: str, now: dt.datetime, digest_enabled: bool = True
) -> str:
    """What a button or /topic remove just did to the chat's topics, with where Undo is."""
    shown = [_topic_text(topic) for topic in change.topics[:3]]
    if len(change.topics) > 3:
        shown.append(f"{len(change.topics) - 3} more")
    names = series(shown)
    one = len(change.topics) == 1
    if change.action is TopicAction.MUTE:
        assert change.until is not None
        text = (
            f"🔕 Muted {names} until {local_time(change.until, timezone, now=now)}: no alerts "
            f"for {'it' if one else 'them'} meanwhile"
        )
        text += ", though the digest still lists them." if digest_enabled else "."
    elif change.action is TopicAction.DIGEST:
        text = f"📰 {names}: digest only, no alerts."
        if not digest_enabled:
            text += " The digest is off in this chat: /digest on turns it on."
    else:
        text = f"✖️ This chat no longer follows {names}."
    return text + f" ↩️ Undo puts {'it' if one else 'them'} back, for a minute."


def link_preview_setting(chat: Chat) -> str:
    """/preview: how single alerts show their article's link here."""
    shown = {
        LinkPreview.OFF: "no link preview",
        LinkPreview.SMALL: "a small link preview",
        LinkPreview.LARGE: "a large link preview, its picture above the text",
    }[chat.preview]
    default = " (the default here)" if chat.link_preview is None else ""
    return f"🔗 Single alerts in this chat show {shown}{default}. Lists and digests show none."


def thread_name(thread_id: int) -> str:
    """A forum thread as /topic and /digest name it: by id, as no Bot API call names one."""
    return f"in thread #{thread_id}" if thread_id else "in General"


def latest_list(
    entries: Sequence[Entry],
    *,
    query: str | None,
    timezone: str,
    now: dt.datetime,
    show_ids: bool,
    examined: int | None = None,
    also: Mapping[int, Sequence[str]] | None = None,
) -> str:
    """/latest: newest first, each a title link with source and relative time.

    ``examined`` is set when the listing stopped after reading that many candidates;
    ``also`` names, by entry id, the other feeds that told an entry's story.
    """
    about = f" matching <i>{escape(shorten(query, 100))}</i>" if query else ""
    limit = (
        f"I looked through the newest {examined:,} stories with these words; More looks "
        "further back."
        if examined is not None
        else ""
    )
    if not entries:
        if limit:
            return f"Nothing{about} so far. {limit}"
        return f"Nothing{about} in the archive yet." if query else "The archive is empty so far."
    lines = []
    for entry in entries:
        line = entry_line(
            entry, timezone=timezone, now=now, relative=True, also=(also or {}).get(entry.id, ())
        )
        lines.append(f"{line} · #{entry.id}" if show_ids else line)
    if limit:
        lines.append(f"<i>{limit}</i>")
    return split_messages(f"🗞 <b>Latest</b>{about}", lines)[0]


def search_results(
    hits: Sequence[SearchHit],
    *,
    query: str,
    page: int,
    per_page: int,
    timezone: str,
    now: dt.datetime,
    show_ids: bool,
) -> str:
    """/search: best matches first, each with source, date and a snippet, matches in bold."""
    asked = escape(shorten(query, 100))
    if not hits:
        if page:
            return f"🔎 No more results for <b>{asked}</b>."
        return (
            f"🔎 Nothing found for <b>{asked}</b>.\n"
            "Try fewer or broader words, or either of two: <code>Putin OR Kremlin</code>."
        )
    blocks = []
    for number, hit in enumerate(hits, start=page * per_page + 1):
        entry = hit.entry
        found = "".join(
            f"<b>{escape(part)}</b>" if matched else escape(part) for part, matched in hit.snippet
        )
        ident = f" · #{entry.id}" if show_ids else ""
        blocks.append(
            f"{number}. <b>{link(shorten(entry.title, 200) or '(untitled)', entry.link)}</b>\n"
            f"<i>{escape(shorten(entry.feed_title, 60))} · "
            f"{publication_time(entry, timezone, now=now)}{_also(hit.also)}</i>{ident}"
            + (f"\n{found}" if found else "")
        )
    header = f"🔎 <b>{asked}</b>" + (f" · page {page + 1}" if page else "")
    return split_messages(header, blocks, separator="\n\n")[0]


def digest(
    sections: Sequence[DigestSection], *, since: dt.datetime, timezone: str, now: dt.datetime
) -> list[str]:
    """The digest: each topic with its entries, split at line boundaries into messages."""
    total = sum(len(section.entries) + section.more for section in sections)
    local = now.astimezone(tz_zone(timezone))
    header = (
        f"📰 <b>Your digest</b> · {local:%a} {local.day} {local:%b}\n"
        f"{plural(total, 'story', 'stories')} since {local_time(since, timezone, now=now)}"
    )
    lines: list[str] = []
    for section in sections:
        count = len(section.entries) + section.more
        lines.append(f"\n<b>{escape(shorten(section.topic, 100))}</b> ({count})")
        lines += [entry_line(entry, timezone=timezone, now=now) for entry in section.entries]
        if section.more:
            lines.append(f"and {section.more} more")
    return split_messages(header, lines)


def catch_up(
    held: Sequence[tuple[Entry, Sequence[str]]],
    *,
    more: int = 0,
    digest_enabled: bool = False,
    timezone: str,
    now: dt.datetime,
) -> list[str]:
    """The one message (split if it must be) for alerts held by quiet hours or a mute.

    ``held`` are the stories it lists; ``more`` counts the older ones it leaves to the digest.
    """
    header = f"🔔 <b>While alerts were paused</b>: {plural(len(held) + more, 'story', 'stories')}"
    lines = _listing_lines(held, timezone=timezone, now=now)
    if more:
        where = "in your next digest" if digest_enabled else "with /digest now"
        lines.append(f"…and {plural(more, 'older story', 'older stories')}: see them {where}.")
    return split_messages(header, lines)


def digest_settings(chat: Chat, *, upcoming: dt.datetime | None, now: dt.datetime) -> str:
    when = f"{chat.digest_time:%H:%M} {escape(chat.timezone)}"
    if chat.digest_enabled and upcoming is not None:
        state = (
            f"<b>on</b>, daily at {when}; the next one "
            f"{local_time(upcoming, chat.timezone, now=now)}"
        )
    else:
        state = f"<b>off</b> (when on, daily at {when})"
    return (
        f"📰 Daily digest: {state}.\n"
        "/digest on or off · /digest <i>HH:MM</i> sets the time and turns it on · "
        "/digest now sends it now · /timezone sets the time zone."
        + (f"\nDigests go {thread_name(chat.digest_thread_id)}." if chat.digest_thread_id else "")
    )


def managed_chats(chats: Sequence[Chat]) -> str:
    """/chats: the channels and groups a user set up through Herald, with their ids."""
    lines = ["<b>Chats you manage through Herald</b>"]
    for chat in chats:
        state = "" if chat.active else f" · ⏸ {chat.inactive_reason}"
        lines.append(
            f"• <b>{escape(shorten(chat.title, 100))}</b> ({chat.kind.value}) "
            f"<code>{chat.id}</code>{state}"
        )
    lines.append(
        f"\nName one first to manage it, e.g. <code>/topic {chats[0].id} North Korea</code>."
    )
    return split_messages("", lines)[0]


def digest_thread_set(thread_id: int) -> str:
    where = "this thread" if thread_id else "General"
    return f"📰 Digests and catch-up messages now go to {where}."


def clock(moment: dt.time) -> str:
    return f"{moment:%H:%M}"
