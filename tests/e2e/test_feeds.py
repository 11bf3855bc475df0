"""The feed watcher in a running bot: fresh entries arrive, hostile feeds don't hurt."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path

from bot.sandbox.emulator import BotApiEmulator, Chat, User
from bot.sandbox.feedserver import FeedItem, FeedServer
from tests.e2e.harness import HeraldProcess, query, running_herald, wait_for_rows

ADMIN_ID = "1000001"  # the emulator's first user


def items(count: int, *, prefix: str = "Story") -> list[FeedItem]:
    now = dt.datetime.now(dt.UTC)
    return [
        FeedItem(
            title=f"{prefix} {n}",
            link=f"https://news.example/{prefix.lower()}-{n}",
            summary=f"Details of {prefix.lower()} {n}.",
            published=now - dt.timedelta(minutes=count - n),
        )
        for n in range(count)
    ]


async def test_a_new_entry_is_stored_within_the_poll_interval_and_repolls_are_conditional(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.publish_rss("/world.xml", items(3), title="World")
    interval = 1.0

    async with running_herald(
        emulator,
        tmp_path,
        HERALD_FEEDS=feed_server.url("/world.xml"),
        HERALD_POLL_INTERVAL=str(interval),
    ):
        await wait_for_rows(tmp_path, "SELECT 1 FROM feeds WHERE baseline_done = 1")
        published = time.monotonic()
        feed_server.publish_rss("/world.xml", [*items(3), *items(1, prefix="Breaking")])
        await wait_for_rows(tmp_path, "SELECT 1 FROM entries WHERE title = 'Breaking 0'")
        stored_after = time.monotonic() - published
        deadline = time.monotonic() + 10
        while not any(r.status == 304 for r in feed_server.requests("/world.xml")):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)

    assert stored_after < interval + 2
    assert query(tmp_path, "SELECT COUNT(*) FROM entries") == [(4,)]
    not_modified = [r for r in feed_server.requests("/world.xml") if r.status == 304]
    assert all(r.conditional for r in not_modified)


async def test_feeds_shows_health_truthfully_for_good_failing_and_backing_off_feeds(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    admin = emulator.add_user("Ada")
    chat = emulator.private_chat(admin)
    feed_server.publish_rss("/good.xml", items(14), title="Good News")
    feed_server.fail("/broken.xml", 500)
    feed_server.fail("/busy.xml", 503, retry_after=3600)
    urls = [feed_server.url(path) for path in ("/good.xml", "/broken.xml", "/busy.xml")]

    async with running_herald(
        emulator,
        tmp_path,
        HERALD_FEEDS=",".join(urls),
        HERALD_ADMIN_IDS=str(admin.id),
        HERALD_POLL_INTERVAL="1",
    ):
        await wait_for_rows(
            tmp_path, "SELECT COUNT(*) FROM feeds WHERE polls >= 1 HAVING COUNT(*) = 3", within=15
        )
        await emulator.user_says(chat, admin, "/feeds")
        answer = await emulator.wait_for_message(chat)

    good, broken, busy = answer.text.split("\n\n")[-3:]
    assert "✅ #1 Good News" in good
    assert "304 answers" in good
    assert "336.0 stories/day" in good  # 14 stories over the hour before it was added
    assert "last error" not in good
    assert "⚠️ #2" in broken
    assert "last error: HTTP 500" in broken
    assert "backing off" in broken
    assert "⚠️ #3" in busy
    assert "HTTP 503" in busy
    assert "next poll: in 1.0 h" in busy or "next poll: in 59 min" in busy


async def test_feeds_commands_are_refused_to_non_admins(
    emulator: BotApiEmulator, tmp_path: Path
) -> None:
    stranger = emulator.add_user("Eve")
    chat = emulator.private_chat(stranger)

    async with running_herald(emulator, tmp_path, HERALD_ADMIN_IDS="42"):
        await emulator.user_says(chat, stranger, "/feeds add https://evil.example/rss")
        answer = await emulator.wait_for_message(chat)

    assert "only for Herald's admins" in answer.text
    assert query(tmp_path, "SELECT COUNT(*) FROM feeds") == [(0,)]


async def test_an_admin_adds_a_feed_by_its_page_and_removes_it(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    admin = emulator.add_user("Ada")
    chat = emulator.private_chat(admin)
    feed_server.publish_rss("/rss.xml", items(4), title="Site News")
    feed_server.publish_html("/", feed_links=[("/rss.xml", "application/rss+xml")])

    async with running_herald(emulator, tmp_path, HERALD_ADMIN_IDS=str(admin.id)):
        await emulator.user_says(chat, admin, f"/feeds add {feed_server.url('/')}")
        progress = await emulator.wait_for_message(chat)
        await emulator.wait_until(lambda: progress.edit_count > 0, description="edited result")
        await emulator.user_says(chat, admin, "/feeds remove 1")
        removed = await emulator.wait_for_message(chat)
        still_there = query(tmp_path, "SELECT COUNT(*) FROM entries")
        await emulator.press_button(chat, removed.message_id, admin, "🗑 Stop watching")
        await emulator.wait_until(lambda: removed.edit_count > 0, description="edited answer")
        await emulator.user_says(chat, admin, "/feeds remove 1")
        missing = await emulator.wait_for_message(chat)
        await emulator.user_says(chat, admin, "/feeds frobnicate")
        usage = await emulator.wait_for_message(chat)

    assert "Found this feed on" in progress.text
    assert "Added feed #1 Site News with 4 stories" in progress.text
    assert removed.history[0].text.startswith("Stop watching #1 Site News?")
    assert still_there == [(4,)]
    assert "Stopped watching #1 Site News" in removed.text
    assert "There is no feed #1" in missing.text
    assert "/feeds add url" in usage.text
    assert query(tmp_path, "SELECT COUNT(*) FROM entries") == [(0,)]


HOSTILE: dict[str, tuple[bytes, str]] = {
    "/truncated.xml": (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Cut</title>'
        b"<item><title>Whole item</title><link>https://cut.example/1</link></item>"
        b"<item><title>Half an it",
        "application/rss+xml",
    ),
    "/wrong-encoding.xml": (
        '<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel>'
        "<title>Enc</title><item><title>Zelénsky in Kyiv</title>"
        "<link>https://enc.example/1</link></item></channel></rss>".encode(),
        "text/xml",
    ),
    "/nul.xml": (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Nul</title>'
        b"<item><title>Bad\x00 bytes \xff\xfe here</title><link>https://nul.example/1</link>"
        b"</item></channel></rss>",
        "application/rss+xml",
    ),
    "/page.html": (b"<!DOCTYPE html><html><body><h1>Hello</h1></body></html>", "text/html"),
    "/empty.xml": (b"", "application/rss+xml"),
    "/laughs.xml": (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(
            b'<!ENTITY %s "%s">'
            % (chr(98 + i).encode(), (b"&" + chr(97 + i).encode() + b";") * 10)
            for i in range(8)
        )
        + b']><rss version="2.0"><channel><title>&i;</title></channel></rss>',
        "application/rss+xml",
    ),
    "/dup-guids.xml": (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Dup</title>'
        + b"<item><guid>same</guid><title>First</title></item>" * 2
        + b"</channel></rss>",
        "application/rss+xml",
    ),
    "/odd.xml": (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Odd</title>'
        b"<item><title>From the future</title><link>/future</link>"
        b"<pubDate>Tue, 01 Jan 2999 00:00:00 GMT</pubDate></item>"
        b"<item><title>Bad date</title><link>/bad</link><pubDate>yesterday-ish</pubDate></item>"
        b"<item><link>https://odd.example/untitled</link><description>No title at all"
        b"</description></item>"
        b"<item><title>&lt;b&gt;Bold&lt;/b&gt; &lt;script&gt;alert(1)&lt;/script&gt; &amp;amp;"
        b" &amp;nbsp;</title><link>relative/link</link></item>"
        b"</channel></rss>",
        "application/rss+xml",
    ),
}


async def test_the_bot_stays_up_and_keeps_working_through_every_hostile_feed(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    user = emulator.add_user("Ada")
    chat = emulator.private_chat(user)
    for path, (body, content_type) in HOSTILE.items():
        feed_server.publish(path, body, content_type=content_type)
    big = 10_000
    many = "".join(f"<item><guid>g{n}</guid><title>Item {n}</title></item>" for n in range(big))
    feed_server.publish(
        "/ten-thousand.xml",
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Many</title>{many}'
        "</channel></rss>",
    )
    feed_server.huge("/fifty-megabytes.xml", 50 * 1024 * 1024)
    feed_server.publish_rss("/good.xml", items(2), title="Good")
    async with FeedServer() as slow_host:
        slow_host.hang("/never-answers.xml")
        slow_host.trickle("/streams-forever.xml")
        urls = [feed_server.url(path) for path in HOSTILE]
        urls += [feed_server.url("/ten-thousand.xml"), feed_server.url("/fifty-megabytes.xml")]
        urls += [slow_host.url("/never-answers.xml"), slow_host.url("/streams-forever.xml")]
        urls.append(feed_server.url("/good.xml"))

        async with running_herald(
            emulator, tmp_path, HERALD_FEEDS=",".join(urls), HERALD_POLL_INTERVAL="1"
        ) as herald:
            fast = len(urls) - 2
            await wait_for_rows(
                tmp_path,
                "SELECT COUNT(*) FROM feeds WHERE polls >= 1 HAVING COUNT(*) >= ?",
                fast,
                within=30,
            )
            feed_server.publish_rss("/good.xml", [*items(2), *items(1, prefix="Fresh")])
            await wait_for_rows(tmp_path, "SELECT 1 FROM entries WHERE title = 'Fresh 0'")
            await emulator.user_says(chat, user, "/help")
            answer = await emulator.wait_for_message(chat)
            peak_mb = _peak_memory_mb(herald)
            assert herald.process.returncode is None

    assert "/topic" in answer.text
    assert peak_mb < 400
    errors = {
        str(url): str(error) for url, error in query(tmp_path, "SELECT url, last_error FROM feeds")
    }
    assert errors[feed_server.url("/page.html")] == "this is an HTML page, not a feed"
    assert errors[feed_server.url("/empty.xml")] == "empty response"
    assert "10 MiB" in errors[feed_server.url("/fifty-megabytes.xml")]
    assert "entit" in errors[feed_server.url("/laughs.xml")]
    titles = {str(row[0]) for row in query(tmp_path, "SELECT title FROM entries")}
    assert {"Whole item", "Zelénsky in Kyiv", "First", "From the future", "Bad date"} <= titles
    assert "Bold alert(1) &amp; " not in titles
    assert any(title.startswith("Bold") and "<" not in title for title in titles)
    assert query(tmp_path, "SELECT COUNT(*) FROM entries WHERE title LIKE 'Item %'") == [(1000,)]
    links = {row[0] for row in query(tmp_path, "SELECT link FROM entries")}
    assert feed_server.url("/relative/link") in links


def _peak_memory_mb(herald: HeraldProcess) -> float:
    status = Path(f"/proc/{herald.process.pid}/status").read_text()
    peak_kb = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))
    return int(peak_kb) / 1024


async def add_feed(emulator: BotApiEmulator, chat: Chat, admin: User, url: str) -> str:
    """The bot's answer to /feeds add: the progress message, once edited with the outcome."""
    await emulator.user_says(chat, admin, f"/feeds add {url}")
    progress = await emulator.wait_for_message(chat)
    await emulator.wait_until(lambda: progress.edit_count > 0, description="edited result")
    return progress.text


async def test_feeds_on_private_addresses_are_refused_unless_their_range_is_allowed(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    admin = emulator.add_user("Ada")
    chat = emulator.private_chat(admin)
    feed_server.publish_rss("/inside.xml", items(2), title="Inside")
    port = feed_server.base_url.rsplit(":", 1)[1]
    by_name = f"http://localhost:{port}/inside.xml"
    async with FeedServer(host="127.0.0.2") as outside:
        # 127.0.0.2 stands for a public server here: it is the one range allowed.
        outside.redirect("/moved.xml", feed_server.url("/inside.xml"), status=301)
        attempts = [feed_server.url("/inside.xml"), by_name, outside.url("/moved.xml")]

        async with running_herald(
            emulator,
            tmp_path,
            HERALD_ADMIN_IDS=str(admin.id),
            HERALD_ALLOW_PRIVATE_NETWORKS="127.0.0.2/32",
        ):
            answers = [await add_feed(emulator, chat, admin, url) for url in attempts]
        redirects_followed = outside.hits("/moved.xml")

    assert answers[0] == (
        f"❌ Couldn't fetch {feed_server.url('/inside.xml')}: 127.0.0.1 is a loopback address,"
        " and Herald fetches feeds only from public addresses."
    )
    assert answers[1].startswith(
        f"❌ Couldn't fetch {by_name}: localhost resolves to 127.0.0.1, a loopback address"
    )
    assert answers[2].startswith(
        f"❌ Couldn't fetch {outside.url('/moved.xml')}: 127.0.0.1 is a loopback address"
    )
    assert redirects_followed == 1
    assert feed_server.hits("/inside.xml") == 0
    assert query(tmp_path, "SELECT COUNT(*) FROM feeds") == [(0,)]

    async with running_herald(
        emulator,
        tmp_path,
        HERALD_ADMIN_IDS=str(admin.id),
        HERALD_ALLOW_PRIVATE_NETWORKS="127.0.0.0/8",
    ):
        answer = await add_feed(emulator, chat, admin, by_name)

    assert "Added feed #1 Inside with 2 stories" in answer
    assert feed_server.hits("/inside.xml") == 1


async def test_a_configured_feed_that_moved_permanently_is_one_feed_after_a_restart(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.publish_rss("/new.xml", items(2), title="Moved")
    feed_server.redirect("/old.xml", feed_server.url("/new.xml"), status=301)
    old = feed_server.url("/old.xml")

    async with running_herald(emulator, tmp_path, HERALD_FEEDS=old, HERALD_POLL_INTERVAL="1"):
        await wait_for_rows(tmp_path, "SELECT 1 FROM feeds WHERE url LIKE '%/new.xml'")
    async with running_herald(emulator, tmp_path, HERALD_FEEDS=old, HERALD_POLL_INTERVAL="1"):
        polled = feed_server.hits("/new.xml")
        deadline = time.monotonic() + 10
        while feed_server.hits("/new.xml") <= polled:
            assert time.monotonic() < deadline, "the moved feed was not polled after a restart"
            await asyncio.sleep(0.05)

    assert query(tmp_path, "SELECT id, url FROM feeds") == [(1, feed_server.url("/new.xml"))]
    assert query(tmp_path, "SELECT url, feed_id FROM feed_aliases") == [
        (feed_server.url("/old.xml"), 1)
    ]
    assert query(tmp_path, "SELECT COUNT(*) FROM entries") == [(2,)]


async def test_a_brotli_encoded_feed_is_read(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    feed_server.publish_rss("/brotli.xml", items(3, prefix="Squeezed"), encoding="br")

    async with running_herald(emulator, tmp_path, HERALD_FEEDS=feed_server.url("/brotli.xml")):
        await wait_for_rows(tmp_path, "SELECT 1 FROM feeds WHERE baseline_done = 1")

    [request] = feed_server.requests("/brotli.xml")
    assert "br" in request.headers["accept-encoding"]
    assert query(tmp_path, "SELECT title FROM entries ORDER BY title") == [
        ("Squeezed 0",),
        ("Squeezed 1",),
        ("Squeezed 2",),
    ]
