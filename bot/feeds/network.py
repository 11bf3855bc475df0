"""Where feeds may be fetched from: public addresses only, checked on the address connected to."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import typing
from collections.abc import Iterable

import httpcore
import httpx

IPAddress: typing.TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork: typing.TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network

# is_global leaves this out, but it is worth naming: it is where cloud providers and ISPs
# put their inside networks.
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")


def why_not_public(address: IPAddress) -> str | None:
    """What kind of non-public address ``address`` is ("a loopback address"), or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return why_not_public(address.ipv4_mapped)
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return "a carrier-grade NAT address"
    if address.is_private or (
        isinstance(address, ipaddress.IPv6Address) and address.is_site_local
    ):
        return "a private address"
    if address.is_reserved or not address.is_global:
        return "a reserved address"
    return None


class AddressPolicy:
    """Public addresses, plus the ranges the operator opened (HERALD_ALLOW_PRIVATE_NETWORKS)."""

    def __init__(self, allowed: Iterable[IPNetwork] = ()) -> None:
        self.allowed = tuple(allowed)

    def refusal(self, address: IPAddress) -> str | None:
        """Why Herald won't connect to ``address``, or None when it may."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if any(address.version == net.version and address in net for net in self.allowed):
            return None
        return why_not_public(address)


class AddressRefusedError(httpcore.ConnectError):
    """The host resolves to no address the policy allows; ``str()`` says which and why."""

    def __init__(self, host: str, address: IPAddress, kind: str) -> None:
        named = str(address) == host.strip("[]")
        where = f"{address} is" if named else f"{host} resolves to {address},"
        super().__init__(f"{where} {kind}, and Herald fetches feeds only from public addresses")


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves each host itself and connects only to addresses the policy allows.

    Checking the address actually connected to, not a lookup made beforehand, is what keeps
    DNS rebinding out: a name can't answer a public address to the check and a private one
    to the connection.
    """

    def __init__(self, policy: AddressPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                infos = await asyncio.get_running_loop().getaddrinfo(
                    host.strip("[]"), port, type=socket.SOCK_STREAM
                )
        except TimeoutError as error:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from error
        except OSError as error:
            raise httpcore.ConnectError(str(error)) from error
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
        allowed = [address for address in addresses if self._policy.refusal(address) is None]
        if not allowed:
            first = addresses[0]
            raise AddressRefusedError(host, first, self._policy.refusal(first) or "refused")
        failure: Exception | None = None
        for address in allowed:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("feeds are never fetched over a Unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, with connections opened through the address check.

    httpx takes no network backend, so the connection pool it built is replaced by the
    same pool over ``_GuardedBackend``. Proxies are never used: a proxy would connect on
    Herald's behalf to addresses nobody checked.
    """

    def __init__(self, policy: AddressPolicy, *, limits: httpx.Limits) -> None:
        super().__init__(limits=limits, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(policy),
        )


def feed_client(policy: AddressPolicy, *, limits: httpx.Limits | None = None) -> httpx.AsyncClient:
    """The client every feed fetch goes through; the caller closes it."""
    limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=100)
    return httpx.AsyncClient(
        transport=GuardedTransport(policy, limits=limits),
        follow_redirects=False,
        trust_env=False,
    )


async def address_refusal(url: str, policy: AddressPolicy) -> str | None:
    """Why Herald won't use ``url``'s host (the same rule as for feeds), or None if it may.

    For a URL Herald hands on rather than connects to itself (a WebSub topic): a URL it
    connects to is checked on the connection instead.
    """
    host = httpx.URL(url).host
    if not host:
        return f"{url} names no host"
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return f"{host} does not resolve"
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        kind = policy.refusal(address)
        if kind is not None:
            return str(AddressRefusedError(host, address, kind))
    return None
