"""The WebSub subscriber's side of the protocol (W3C WebSub, 2018-01-23): finding a feed's
hub, asking it for a subscription, and checking what it pushes.

https://www.w3.org/TR/websub/
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import re
from collections.abc import Mapping
from urllib.parse import urljoin
from xml.parsers import expat

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
_LINK_VALUE = re.compile(r"<([^>]*)>((?:\s*;\s*[^,;]+)*)")
_PARAM = re.compile(r""";\s*([\w*-]+)\s*=\s*(?:"([^"]*)"|([^;,\s]*))""")


@dataclasses.dataclass(frozen=True, slots=True)
class HubLinks:
    """A feed's hub and self (topic) URLs, absolute; None where the feed names none."""

    hub: str | None = None
    self_url: str | None = None


def discover(body: bytes, headers: Mapping[str, str], url: str) -> HubLinks:
    """The hub and self URL of a fetched feed (§4): the HTTP ``Link`` header first, then the
    feed's own ``<link rel="hub">`` / ``<atom:link rel="self">`` elements; the self URL is
    taken from the same source as the hub when it names one.

    ``headers`` has lower-case names; relative URLs resolve against ``url``. Only http(s)
    URLs count.
    """
    from_header = _header_links(headers.get("link", ""), url)
    from_body = _document_links(body, url)
    # The hub and the topic it knows the feed by go together: both from the source that
    # names the hub, the other's self URL only when that source names none.
    first, other = (from_header, from_body) if "hub" in from_header else (from_body, from_header)
    return HubLinks(first.get("hub"), first.get("self") or other.get("self"))


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


class _FirstEntry(Exception):
    """The document's first entry: its links are the entry's, not the feed's."""


def _document_links(body: bytes, base: str) -> dict[str, str]:
    """The feed-level ``<link rel=... href=...>`` elements (any prefix: Atom's own, or
    ``atom:link`` in RSS), read with an XML parser so comments, CDATA and character
    references mean what XML says; reading stops at the first item or entry, at
    ``_HEAD_BYTES``, or where the document stops being well-formed."""
    found: dict[str, str] = {}
    parser = expat.ParserCreate()
    # HTML entities (&nbsp;) are common in feeds: as if a DTD, never read, defined them,
    # they are skipped instead of ending the parse.
    parser.UseForeignDTD(True)
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def start(name: str, attributes: dict[str, str]) -> None:
        local = name.rpartition(":")[2].lower()
        if local in {"item", "entry"}:
            raise _FirstEntry
        named = {key.lower(): value for key, value in attributes.items()}
        href, rel = named.get("href"), named.get("rel")
        if local == "link" and href is not None and rel is not None:
            for one in rel.lower().split():
                _keep(found, one, href.strip(), base)

    parser.StartElementHandler = start
    with contextlib.suppress(_FirstEntry, expat.ExpatError):
        parser.Parse(body[:_HEAD_BYTES], False)
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
