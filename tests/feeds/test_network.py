"""Tests of the public-addresses-only rule: which addresses are refused, and on which hop."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator

import pytest

from bot.feeds import AddressPolicy, FetchFailed, HttpFeedFetcher, feed_client
from bot.feeds.network import why_not_public
from bot.sandbox.feedserver import FeedItem, FeedServer

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("192.168.1.1", "a private address"),
        ("fd12:3456::1", "a private address"),
        ("169.254.169.254", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("100.64.0.1", "a carrier-grade NAT address"),
        ("224.0.0.251", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("0.0.0.0", "an unspecified address"),
        ("::", "an unspecified address"),
        ("::ffff:192.168.0.1", "a private address"),
    ],
)
def test_non_public_addresses_are_named_by_kind(address: str, kind: str) -> None:
    assert why_not_public(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize("address", ["192.0.2.1", "240.0.0.1", "255.255.255.255", "2001:db8::1"])
def test_documentation_and_reserved_ranges_are_refused_too(address: str) -> None:
    assert why_not_public(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert why_not_public(ipaddress.ip_address(address)) is None


def test_allowed_ranges_open_only_themselves() -> None:
    policy = AddressPolicy([ipaddress.ip_network("10.0.0.0/8")])

    assert policy.refusal(ipaddress.ip_address("10.9.9.9")) is None
    assert policy.refusal(ipaddress.ip_address("::ffff:10.9.9.9")) is None
    assert policy.refusal(ipaddress.ip_address("192.168.0.1")) == "a private address"
    assert policy.refusal(ipaddress.ip_address("127.0.0.1")) == "a loopback address"


@pytest.fixture
async def second_server() -> AsyncIterator[FeedServer]:
    # Another loopback address: allowed on its own while 127.0.0.1 stays private.
    async with FeedServer(host="127.0.0.2") as server:
        yield server


async def fetch(url: str, policy: AddressPolicy) -> object:
    async with feed_client(policy) as client:
        return await HttpFeedFetcher(client).fetch(url)


async def test_a_loopback_feed_is_refused_and_never_asked(feed_server: FeedServer) -> None:
    feed_server.publish_rss("/feed.xml", [FeedItem("Inside")])

    result = await fetch(feed_server.url("/feed.xml"), AddressPolicy())

    assert result == FetchFailed(
        "127.0.0.1 is a loopback address, and Herald fetches feeds only from public addresses"
    )
    assert feed_server.hits("/feed.xml") == 0


async def test_a_name_that_resolves_to_loopback_is_refused(feed_server: FeedServer) -> None:
    feed_server.publish_rss("/feed.xml", [FeedItem("Inside")])
    port = feed_server.base_url.rsplit(":", 1)[1]

    result = await fetch(f"http://localhost:{port}/feed.xml", AddressPolicy())

    assert isinstance(result, FetchFailed)
    assert result.reason.startswith("localhost resolves to 127.0.0.1, a loopback address")
    assert feed_server.hits("/feed.xml") == 0


async def test_an_allowed_range_is_fetched_by_address_and_by_name(
    feed_server: FeedServer,
) -> None:
    feed_server.publish_rss("/feed.xml", [FeedItem("Inside")])
    port = feed_server.base_url.rsplit(":", 1)[1]
    policy = AddressPolicy([LOOPBACK])

    by_address = await fetch(feed_server.url("/feed.xml"), policy)
    by_name = await fetch(f"http://localhost:{port}/feed.xml", policy)

    assert not isinstance(by_address, FetchFailed)
    assert not isinstance(by_name, FetchFailed)
    assert feed_server.hits("/feed.xml") == 2


async def test_a_redirect_to_a_private_address_is_refused_before_it_is_followed(
    feed_server: FeedServer, second_server: FeedServer
) -> None:
    feed_server.publish_rss("/feed.xml", [FeedItem("Inside")])
    second_server.redirect("/feed.xml", feed_server.url("/feed.xml"), status=301)
    policy = AddressPolicy([ipaddress.ip_network("127.0.0.2/32")])

    result = await fetch(second_server.url("/feed.xml"), policy)

    assert isinstance(result, FetchFailed)
    assert result.reason.startswith("127.0.0.1 is a loopback address")
    assert second_server.hits("/feed.xml") == 1
    assert feed_server.hits("/feed.xml") == 0


async def test_a_closed_port_and_a_refused_one_read_alike(feed_server: FeedServer) -> None:
    # One reason for every way a connection fails, so errors can't map ports behind a firewall.
    closed = FeedServer(host="127.0.0.1")
    await closed.start()
    url = closed.url("/feed.xml")
    await closed.close()

    result = await fetch(url, AddressPolicy([LOOPBACK]))

    assert result == FetchFailed("could not connect")
