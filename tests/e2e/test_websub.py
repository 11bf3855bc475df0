"""WebSub: a feed that names a hub is pushed to herald, verified, signed and renewed."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from bot.sandbox.emulator import BotApiEmulator, Chat, User
from bot.sandbox.feedserver import FeedItem, FeedServer, render_rss
from bot.sandbox.websubhub import WebSubHub
from tests.e2e.harness import HeraldProcess, free_port, running_herald, wait_for_rows

PATH = "/world.xml"
TITLE = "World Desk"


@dataclass
class Pushed:
    """A herald whose one feed is served by ``feeds`` and pushed by ``hub``."""

    herald: HeraldProcess
    hub: WebSubHub
    feeds: FeedServer
    topic: str
    public_url: str
    stories: list[FeedItem]

    def document(self) -> bytes:
        return render_rss(self.stories, title=TITLE, link=self.feeds.url("/"))

    def serve(self) -> None:
        self.feeds.publish(
            PATH, self.document(), headers={"Link": self.hub.link_header(self.topic)}
        )

    async def publish(self, title: str) -> None:
        """A new story: on the feed for polls, and pushed by the hub at once."""
        story = FeedItem(
            title,
            f"https://news.example/{len(self.stories)}",
            summary=f"{title}, reported.",
            published=dt.datetime.now(dt.UTC),
        )
        self.stories.insert(0, story)
        self.serve()
        await self.hub.publish(self.topic, self.document())

    async def subscribed(self) -> str:
        """The callback herald subscribed with, once the hub has verified it."""
        await self.hub.wait_until(lambda: self.hub.live(self.topic), description="subscription")
        [subscription] = self.hub.live(self.topic)
        return subscription.callback


@contextlib.asynccontextmanager
async def pushed_herald(
    emulator: BotApiEmulator,
    feed_server: FeedServer,
    workdir: Path,
    *,
    lease_seconds: int | None = None,
    admin: User | None = None,
) -> AsyncIterator[Pushed]:
    """Herald watching one feed whose hub pushes it; polled every 10 minutes otherwise."""
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    async with WebSubHub(lease_seconds=lease_seconds) as hub:
        topic = feed_server.url(PATH)
        old = FeedItem("Harbour reopens", "https://news.example/old", summary="Ships sail.")
        setup = Pushed(None, hub, feed_server, topic, public_url, [old])  # type: ignore[arg-type]
        setup.serve()
        async with running_herald(
            emulator,
            workdir,
            HERALD_FEEDS=topic,
            HERALD_POLL_INTERVAL="600",
            HERALD_LISTEN=f"127.0.0.1:{port}",
            HERALD_PUBLIC_URL=public_url,
            HERALD_ADMIN_IDS=str(admin.id if admin else 1),
        ) as herald:
            setup.herald = herald
            yield setup


async def follow(emulator: BotApiEmulator, chat: Chat, user: User, topic: str) -> None:
    for text in ("/start", f"/topic {topic}"):
        await emulator.user_says(chat, user, text)
        await emulator.wait_for_message(chat)


async def test_a_pushed_story_is_alerted_with_no_poll_of_its_feed(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    reader = emulator.add_user("Rosa")
    chat = emulator.private_chat(reader)

    async with pushed_herald(emulator, feed_server, tmp_path) as pushed:
        callback = await pushed.subscribed()
        await follow(emulator, chat, reader, "sanctions")
        polls_before = feed_server.hits(PATH)
        await pushed.publish("New sanctions on oil exports")
        alert = await emulator.wait_for_message(chat, timeout=10)
        polls_after = feed_server.hits(PATH)

    [request] = [r for r in pushed.hub.requests if r.mode == "subscribe"]
    [verification] = pushed.hub.verifications
    [delivery] = pushed.hub.deliveries
    assert callback.startswith(f"{pushed.public_url}/websub/")
    assert request.topic == pushed.topic
    assert request.secret is not None
    assert request.lease_seconds == str(10 * 24 * 3600)
    assert verification.confirmed
    assert delivery.status == 202
    assert delivery.signature is not None
    assert delivery.signature.startswith("sha256=")
    assert "New sanctions on oil exports" in alert.text
    assert polls_after == polls_before


async def test_a_push_with_a_bad_or_no_signature_is_acknowledged_ignored_and_logged(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    reader = emulator.add_user("Rosa")
    chat = emulator.private_chat(reader)

    async with pushed_herald(emulator, feed_server, tmp_path) as pushed:
        callback = await pushed.subscribed()
        await follow(emulator, chat, reader, "sanctions")
        forged = FeedItem("Forged sanctions story", "https://evil.example/1", summary="Fake.")
        body = render_rss([forged], title=TITLE, link=feed_server.url("/"))
        wrong = await pushed.hub.post_content(
            callback, body, topic=pushed.topic, signature="sha256=" + "0" * 64
        )
        unsigned = await pushed.hub.post_content(
            callback, body, topic=pushed.topic, signature=None
        )
        await pushed.publish("Real sanctions story")
        alert = await emulator.wait_for_message(chat, timeout=10)
        log = pushed.herald.log

    # §8: a bad signature is acknowledged with a 2xx, and the content not used.
    assert (wrong.status, unsigned.status) == (202, 202)
    assert "Real sanctions story" in alert.text
    assert not any("Forged" in message.text for message in emulator.messages(chat))
    assert "Ignored a WebSub push for feed 1: a wrong X-Hub-Signature" in log
    assert "Ignored a WebSub push for feed 1: no X-Hub-Signature" in log


async def test_a_verification_herald_did_not_ask_for_is_refused(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    async with pushed_herald(emulator, feed_server, tmp_path) as pushed:
        callback = await pushed.subscribed()
        hub = pushed.hub
        other_topic = await hub.verify_intent(callback, "https://elsewhere.example/feed")
        no_such_callback = await hub.verify_intent(
            f"{pushed.public_url}/websub/guessed-token", pushed.topic
        )
        never_asked_to_stop = await hub.verify_intent(callback, pushed.topic, mode="unsubscribe")
        log = pushed.herald.log

    assert other_topic == (404, False)
    assert no_such_callback == (404, False)
    assert never_asked_to_stop == (404, False)
    assert "Herald asked for no such thing" in log
    assert "the subscription is active" in log


async def test_feeds_shows_push_status_and_removing_the_feed_unsubscribes(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    admin = emulator.add_user("Ada")
    chat = emulator.private_chat(admin)

    async with pushed_herald(emulator, feed_server, tmp_path, admin=admin) as pushed:
        await pushed.subscribed()
        await emulator.user_says(chat, admin, "/feeds")
        listing = await emulator.wait_for_message(chat)
        await emulator.user_says(chat, admin, "/feeds remove 1")
        asked = await emulator.wait_for_message(chat)
        await emulator.press_button(chat, asked.message_id, admin, "🗑 Stop watching")
        hub = pushed.hub
        await hub.wait_until(lambda: not hub.subscriptions, description="unsubscription")

    hub_host = pushed.hub.hub_url.split("/")[2]
    assert f"⚡ pushed by {hub_host} (WebSub)" in listing.text
    assert "polled every 30 min as a safety net" in listing.text
    assert [r.mode for r in hub.requests] == ["subscribe", "unsubscribe"]
    assert hub.verifications[-1].mode == "unsubscribe"
    assert hub.verifications[-1].confirmed


async def test_a_hub_on_a_private_address_is_not_asked_and_feeds_says_why(
    emulator: BotApiEmulator, feed_server: FeedServer, tmp_path: Path
) -> None:
    admin = emulator.add_user("Ada")
    chat = emulator.private_chat(admin)
    story = FeedItem("Harbour reopens", "https://news.example/old", summary="Ships sail.")
    feed_server.publish(
        PATH,
        render_rss([story], title=TITLE, link=feed_server.url("/")),
        headers={"Link": '<http://10.1.2.3/hub>; rel="hub"'},
    )
    port = free_port()

    async with running_herald(
        emulator,
        tmp_path,
        HERALD_FEEDS=feed_server.url(PATH),
        HERALD_LISTEN=f"127.0.0.1:{port}",
        HERALD_PUBLIC_URL=f"http://127.0.0.1:{port}",
        HERALD_ADMIN_IDS=str(admin.id),
    ) as herald:
        await wait_for_rows(tmp_path, "SELECT 1 FROM websub_subscriptions WHERE state = 'failed'")
        await emulator.user_says(chat, admin, "/feeds")
        listing = await emulator.wait_for_message(chat)
        log = herald.log

    assert (
        "⚡ push: 10.1.2.3 could not be asked: not subscribing: 10.1.2.3 is a private address"
        in listing.text
    )
    assert "WebSub subscription at http://10.1.2.3/hub failed" in log
