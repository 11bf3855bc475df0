"""WebSub discovery and signatures, as the W3C recommendation words them (§4, §8)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from bot.feeds.websub import HubLinks, discover, signature_valid

FEED = "https://news.example/world/feed.xml"

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>World</title>
  <link rel="hub" href="https://pubsubhubbub.appspot.com/"/>
  <link href="https://news.example/world/feed.xml" rel="self" type="application/atom+xml"/>
  <entry><title>One</title><link rel="hub" href="https://wrong.example/hub"/></entry>
</feed>"""

RSS = b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
  <title>World</title>
  <atom:link rel='hub' href='/hub?site=world&amp;x=1'/>
  <atom:link rel="self" href="feed.xml"/>
  <item><title>One</title></item>
</channel></rss>"""


def test_an_atom_feed_names_its_hub_and_self_in_link_elements() -> None:
    assert discover(ATOM, {}, FEED) == HubLinks(
        "https://pubsubhubbub.appspot.com/", "https://news.example/world/feed.xml"
    )


def test_an_rss_feed_names_them_in_atom_links_resolved_against_the_feed_url() -> None:
    assert discover(RSS, {}, FEED) == HubLinks(
        "https://news.example/hub?site=world&x=1", "https://news.example/world/feed.xml"
    )


def test_http_link_headers_come_before_the_document() -> None:
    headers = {
        "link": '<https://hub.example/>; rel="hub", <https://news.example/canonical>; rel=self'
    }

    assert discover(ATOM, headers, FEED) == HubLinks(
        "https://hub.example/", "https://news.example/canonical"
    )


def test_a_link_header_with_several_relations_and_other_links_is_read() -> None:
    headers = {
        "link": '<https://news.example/>; rel="alternate", '
        '<https://hub.example/p>; rel="hub other"; title="Hub"'
    }

    assert discover(b"<rss/>", headers, FEED) == HubLinks("https://hub.example/p", None)


@pytest.mark.parametrize(
    "body",
    [
        b"<rss><channel><title>No hub</title><item><title>x</title></item></channel></rss>",
        b'<feed><link rel="hub" href="javascript:alert(1)"/></feed>',
        b'<feed><entry><link rel="hub" href="https://late.example/hub"/></entry></feed>',
        b"",
    ],
)
def test_no_hub_is_found_where_the_feed_names_none_usable(body: bytes) -> None:
    assert discover(body, {}, FEED).hub is None


@pytest.mark.parametrize(
    ("body", "links"),
    [
        (
            b'<feed><!-- <link rel="hub" href="https://old-hub.example/"/> -->'
            b'<link rel="hub" href="https://hub.example/"/></feed>',
            HubLinks("https://hub.example/", None),
        ),
        (
            b"<rss><channel><description><![CDATA[<link rel='hub' href='https://evil.example/'>"
            b"]]></description><atom:link xmlns:atom='http://www.w3.org/2005/Atom' rel='hub'"
            b" href='https://hub.example/'/></channel></rss>",
            HubLinks("https://hub.example/", None),
        ),
        (
            b'<feed><link rel="self" href="https://news.example/f?a=1&#38;b=2&#x26;c=3"/>'
            b'<link rel="hub" href="https://hub.example/"/></feed>',
            HubLinks("https://hub.example/", "https://news.example/f?a=1&b=2&c=3"),
        ),
        (
            b"<rss><channel><title>World&nbsp;News</title><atom:link rel='hub'"
            b" href='https://hub.example/'/></channel></rss>",
            HubLinks("https://hub.example/", None),
        ),
        (
            '<?xml version="1.0" encoding="utf-16"?><feed xmlns="http://www.w3.org/2005/Atom">'
            '<link rel="hub" href="https://hub.example/"/></feed>'.encode("utf-16"),
            HubLinks("https://hub.example/", None),
        ),
    ],
)
def test_links_are_read_as_xml_not_from_comments_or_cdata(body: bytes, links: HubLinks) -> None:
    assert discover(body, {}, FEED) == links


def test_hub_and_self_come_from_the_same_source_when_it_names_both() -> None:
    # The header names only a self URL; the document names its hub and its own self URL.
    headers = {"link": '<https://other.example/self>; rel="self"'}
    body = (
        b'<feed><link rel="hub" href="https://hub.example/"/>'
        b'<link rel="self" href="https://news.example/self"/></feed>'
    )

    assert discover(body, headers, FEED) == HubLinks(
        "https://hub.example/", "https://news.example/self"
    )


def sign(body: bytes, secret: str, method: str) -> str:
    return f"{method}={hmac.new(secret.encode(), body, getattr(hashlib, method)).hexdigest()}"


@pytest.mark.parametrize("method", ["sha1", "sha256", "sha384", "sha512"])
def test_a_signature_by_any_method_of_the_recommendation_is_accepted(method: str) -> None:
    body = b"<rss>new story</rss>"

    assert signature_valid(body, sign(body, "s3cret", method), "s3cret")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=" + "0" * 64,
        sign(b"<rss>other body</rss>", "s3cret", "sha256"),
        sign(b"<rss>new story</rss>", "another secret", "sha256"),
        sign(b"<rss>new story</rss>", "s3cret", "md5"),
        "sha256",
    ],
)
def test_a_missing_wrong_or_unknown_signature_is_refused(header: str | None) -> None:
    assert not signature_valid(b"<rss>new story</rss>", header, "s3cret")
