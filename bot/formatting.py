"""Alert, digest and list rendering in Telegram HTML, every message within Telegram's limit."""

from __future__ import annotations

import datetime as dt
import html
import re
import zoneinfo
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from bot.domain import BroadcastProgress, BroadcastState, Entry, Feed, FeedHealth, Stats

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


def _zone(timezone: str) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def local_time(moment: dt.datetime, timezone: str, *, now: dt.datetime) -> str:
    """``14:05`` today, ``13 Mar 14:05`` otherwise, in the chat's time zone."""
    zone = _zone(timezone)
    local, today = moment.astimezone(zone), now.astimezone(zone)
    if local.date() == today.date():
        return local.strftime("%H:%M")
    if local.year == today.year:
        return f"{local.day} {local:%b %H:%M}"
    return f"{local.day} {local:%b %Y %H:%M}"


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
) -> str:
    """One entry as a push alert: title link, source and time, summary, matched topics."""
    lines = []
    if breaking:
        lines.append("🔴 <b>BREAKING</b>")
    lines.append(f"<b>{link(_title(entry), entry.link)}</b>")
    lines.append(
        f"<i>{escape(shorten(entry.feed_title, 100))} · "
        f"{local_time(entry.published_at, timezone, now=now)}</i>"
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


def entry_line(entry: Entry, *, timezone: str, now: dt.datetime, relative: bool = False) -> str:
    """One entry as a list item: title link, source and time."""
    when = (
        relative_time(entry.published_at, now=now)
        if relative
        else local_time(entry.published_at, timezone, now=now)
    )
    source = escape(shorten(entry.feed_title, 60))
    return f"• {link(shorten(entry.title, 200) or '(untitled)', entry.link)} · {source} · {when}"


def alert_list(
    entries: Sequence[tuple[Entry, Sequence[str]]], *, timezone: str, now: dt.datetime
) -> list[str]:
    """Several waiting alerts for one chat as a list, split over as many messages as needed."""
    header = f"📰 <b>{len(entries)} new stories</b>"
    lines = []
    for entry, topics in entries:
        line = entry_line(entry, timezone=timezone, now=now)
        if topics:
            line += f" · 🏷 {escape(shorten(', '.join(topics), 80))}"
        lines.append(line)
    return split_messages(header, lines)


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
    if seconds < 60:
        return f"in {seconds} s"
    if seconds < 3600:
        return f"in {seconds // 60} min"
    return f"in {seconds / 3600:.1f} h"


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
            f"{health.entries_per_day:.1f} entries/day",
        ]
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


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def failing_feed_notice(feed: Feed) -> str:
    return (
        f"⚠️ Feed <b>#{feed.id} {escape(shorten(feed.name, 100))}</b> has failed for over "
        f"24 hours. Last error: {escape(shorten(feed.last_error or 'unknown', 300))}\n"
        f"Herald keeps retrying with back-off; /feeds remove {feed.id} stops it."
    )


def feed_added(feed: Feed, *, entries: int, discovered_from: str | None) -> str:
    found = (
        f"Found this feed on {escape(shorten(discovered_from, 200))}.\n" if discovered_from else ""
    )
    return (
        f"{found}✅ Added feed <b>#{feed.id} {escape(shorten(feed.name, 100))}</b> "
        f"with {entries} entries. New entries will be alerted from now on."
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
        f"entries: {report.entries}\n"
        f"outbox: {sum(report.outbox.values())} waiting" + (f" ({depth})" if depth else "") + "\n"
        f"sent: {report.sent_last_minute} in the last minute, "
        f"{report.sent_last_hour} in the last hour\n"
        f"failed for good in the last day: {report.failed_last_day}\n"
        f"since start-up {relative_time(report.since, now=now)}: "
        f"{report.throttled} × 429, {report.errors} send errors"
    )
