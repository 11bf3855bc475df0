"""Tests of the sandbox feed server's HTTP semantics, which the fetcher tests rely on."""

from __future__ import annotations

import email.utils

import httpx

from bot.sandbox.feedserver import FeedItem, FeedServer, render_rss

ITEM = FeedItem(title="Headline", link="https://wire.example/a")


async def test_publication_gets_a_strong_etag_and_a_last_modified(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.publish("/f", "<rss/>")

    response = await client.get(feed_server.url("/f"))

    assert response.status_code == 200
    assert response.content == b"<rss/>"
    assert response.headers["etag"].startswith('"')
    assert email.utils.parsedate_to_datetime(response.headers["last-modified"]) is not None


async def test_matching_etag_in_any_form_is_answered_304(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.publish("/f", b"<rss/>")
    etag = (await client.get(feed_server.url("/f"))).headers["etag"]

    statuses = [
        (await client.get(feed_server.url("/f"), headers={"If-None-Match": value})).status_code
        for value in (etag, f'"other", {etag}', f"W/{etag}", "*", '"stale"')
    ]

    assert statuses == [304, 304, 304, 304, 200]


async def test_if_modified_since_is_answered_by_date(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.publish("/f", b"<rss/>", etag=False)
    stamp = (await client.get(feed_server.url("/f"))).headers["last-modified"]
    earlier = "Mon, 01 Jan 2001 00:00:00 GMT"

    same = await client.get(feed_server.url("/f"), headers={"If-Modified-Since": stamp})
    older = await client.get(feed_server.url("/f"), headers={"If-Modified-Since": earlier})

    assert (same.status_code, older.status_code) == (304, 200)


async def test_if_none_match_wins_over_if_modified_since(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.publish("/f", b"<rss/>")
    first = await client.get(feed_server.url("/f"))
    headers = {"If-None-Match": '"stale"', "If-Modified-Since": first.headers["last-modified"]}

    response = await client.get(feed_server.url("/f"), headers=headers)

    assert response.status_code == 200


async def test_republishing_within_a_second_still_changes_last_modified(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.publish("/f", b"one", etag=False)
    first = (await client.get(feed_server.url("/f"))).headers["last-modified"]
    feed_server.publish("/f", b"two", etag=False)

    response = await client.get(feed_server.url("/f"), headers={"If-Modified-Since": first})

    assert response.status_code == 200
    assert response.content == b"two"


async def test_requests_are_recorded_with_their_validators_and_statuses(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.publish_rss("/f", [ITEM])
    await client.get(feed_server.url("/f"))
    await client.get(feed_server.url("/f"), headers={"If-None-Match": '"x"'})
    await client.get(feed_server.url("/missing"))

    recorded = [(r.path, r.conditional, r.if_none_match, r.status) for r in feed_server.requests()]

    assert recorded == [
        ("/f", False, None, 200),
        ("/f", True, '"x"', 200),
        ("/missing", False, None, 404),
    ]
    assert feed_server.hits("/f") == 2


async def test_removed_path_answers_404(
    feed_server: FeedServer, client: httpx.AsyncClient
) -> None:
    feed_server.publish_rss("/f", [ITEM])
    feed_server.remove("/f")

    assert (await client.get(feed_server.url("/f"))).status_code == 404


def test_rss_rendering_escapes_markup_and_marks_non_url_guids() -> None:
    body = render_rss(
        [FeedItem(title="A & <B>", id="id-1", summary="<p>x</p>")],
        title="T",
        link="https://wire.example/",
    )

    assert b"<title>A &amp; &lt;B&gt;</title>" in body
    assert b'<guid isPermaLink="false">id-1</guid>' in body
    assert b"<description>&lt;p&gt;x&lt;/p&gt;</description>" in body
