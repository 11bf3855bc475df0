"""The WebSub subscriber's side of the protocol (W3C WebSub, 2018-01-23): finding a feed's
hub, asking it for a subscription, and checking what it pushes.

https://www.w3.org/TR/websub/
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
from collections.abc import Mapping
from urllib.parse import urljoin

import httpx

# §8: the hub signs with one of these; sha1 is what older hubs (PubSubHubbub 0.4) send.
SIGNATURE_METHODS = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}
# §5.1: hub.secret "MUST be less than 200 bytes in length".
MAX_SECRET_BYTES = 199
# A hub's answer to a (un)subscription request is a status line; it has no need to talk long.
REQUEST_TIMEOUT = 10.0
# The hub's links sit at the top of a feed, before its first entry: no need to read past it.
_HEAD_BYTES = 64 * 1024
_LINK_TAG = re.compile(rb"<(?:[A-Za-z][\w.-]*:)?link\b([^>]*)>", re.IGNORECASE)
_ATTRIBUTE = re.compile(rb"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_FIRST_ENTRY = re.compile(rb"<(?:[A-Za-z][\w.-]*:)?(?:item|entry)\b", re.IGNORECASE)
_LINK_VALUE = re.compile(r"<([^>]*)>((?:\s*;\s*[^,;]+)*)")
_PARAM = re.compile(r""";\s*([\w*-]+)\s*=\s*(?:"([^"]*)"|([^;,\s]*))""")


@dataclasses.dataclass(frozen=True, slots=True)
class HubLinks:
    """A feed's hub and self (topic) URLs, absolute; None where the feed names none."""

    hub: str | None = None
    self_url: str | None = None


def discover(body: bytes, headers: Mapping[str, str], url: str) -> HubLinks:
    """The hub and self URL of a fetched feed (§4): the HTTP ``Link`` header first, then the
    feed's own ``<link rel="hub">`` / ``<atom:link rel="self">`` elements.

    ``headers`` has lower-case names; relative URLs resolve against ``url``. Only http(s)
    URLs count.
    """
    from_header = _header_links(headers.get("link", ""), url)
    from_body = _document_links(body, url)
    hub = from_header.get("hub") or from_body.get("hub")
    self_url = from_header.get("self") or from_body.get("self")
    return HubLinks(hub, self_url)


def _header_links(value: str, base: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _LINK_VALUE.finditer(value):
        target = match[1].strip()
        for param in _PARAM.finditer(match[2]):
            if param[1].lower() != "rel":
                continue
            for rel in (param[2] if param[2] is not None else param[3]).lower().split():
                _keep(found, rel, target, base)
    return found


def _document_links(body: bytes, base: str) -> dict[str, str]:
    head = body[:_HEAD_BYTES]
    first_entry = _FIRST_ENTRY.search(head)
    if first_entry is not None:
        head = head[: first_entry.start()]
    found: dict[str, str] = {}
    for tag in _LINK_TAG.finditer(head):
        attributes = {
            name.lower(): quoted or single for name, quoted, single in _ATTRIBUTE.findall(tag[1])
        }
        href, rel = attributes.get(b"href"), attributes.get(b"rel")
        if href is None or rel is None:
            continue
        target = href.decode("utf-8", "replace").replace("&amp;", "&").strip()
        for one in rel.decode("ascii", "replace").lower().split():
            _keep(found, one, target, base)
    return found


def _keep(found: dict[str, str], rel: str, target: str, base: str) -> None:
    if rel in {"hub", "self"} and rel not in found:
        absolute = urljoin(base, target)
        if absolute.startswith(("http://", "https://")):
            found[rel] = absolute


def signature_valid(body: bytes, header: str | None, secret: str) -> bool:
    """Whether ``X-Hub-Signature`` (``method=hexdigest``) is the HMAC of ``body`` under
    ``secret`` (§8); an unknown method, a missing header or a wrong digest is False."""
    if not header:
        return False
    method, _, signature = header.strip().partition("=")
    digest = SIGNATURE_METHODS.get(method.strip().lower())
    if digest is None or not signature:
        return False
    expected = hmac.new(secret.encode(), body, digest).hexdigest()
    return hmac.compare_digest(expected, signature.strip().lower())


async def ask_hub(
    client: httpx.AsyncClient,
    hub: str,
    *,
    mode: str,
    topic: str,
    callback: str,
    secret: str | None = None,
    lease_seconds: int | None = None,
) -> str | None:
    """Send a (un)subscription request (§5.1); None when the hub took it (202), else why not.

    ``mode`` is ``"subscribe"`` or ``"unsubscribe"``. The hub then verifies the intent by
    calling ``callback`` (§5.3); taking the request is not yet a subscription.
    """
    form = {"hub.mode": mode, "hub.topic": topic, "hub.callback": callback}
    if secret is not None:
        form["hub.secret"] = secret
    if lease_seconds is not None:
        form["hub.lease_seconds"] = str(lease_seconds)
    try:
        response = await client.post(hub, data=form, timeout=REQUEST_TIMEOUT)
    except httpx.HTTPError as error:
        return f"could not reach the hub: {error}" if str(error) else "could not reach the hub"
    if 200 <= response.status_code < 300:
        return None
    text = response.text.strip().splitlines()
    detail = f": {text[0][:200]}" if text else ""
    return f"the hub answered {response.status_code}{detail}"
