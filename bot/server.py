"""Herald's one HTTP server: ``/healthz``, ``/metrics``, the webhook path, WebSub callbacks.

Routes are added before ``start()``; what each route does beyond HTTP is a callable or a
service passed in, so this module speaks neither Telegram nor SQL.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from bot import metrics
from bot.services.health import HealthReport
from bot.services.push import CALLBACK_PATH, PushService

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
# Telegram sends the setWebhook secret_token in this header with every update (Bot API,
# setWebhook).
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# What a request may carry: a WebSub push is a whole feed, as large as a fetched one may be
# (updates are a few kilobytes).
MAX_BODY_BYTES = 10 << 20
# How many update_ids the webhook remembers to acknowledge a resent update without
# handling it twice (Telegram resends until it gets a 200).
RECENT_UPDATES = 1000

CheckHealth = Callable[[], Awaitable[HealthReport]]
RefreshGauges = Callable[[], Awaitable[None]]
TakeUpdate = Callable[[dict[str, Any]], Awaitable[None]]


class HttpServer:
    """Serves on ``host:port`` (port 0: the system picks one, and ``port`` tells it after
    ``start()``). Every route answers within the request; none waits on Telegram."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        check_health: CheckHealth,
        refresh_gauges: RefreshGauges | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self._check_health = check_health
        self._refresh_gauges = refresh_gauges
        self._app = web.Application(client_max_size=MAX_BODY_BYTES)
        self._app.router.add_get(HEALTH_PATH, self._healthz)
        self._app.router.add_get(METRICS_PATH, self._metrics)
        self._runner: web.AppRunner | None = None

    def add_webhook(
        self,
        path: str,
        secret: str,
        take_update: TakeUpdate,
        *,
        first_time: Callable[[int], Awaitable[bool]] | None = None,
        forget: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        """Take Telegram's updates POSTed to ``path`` (the webhook URL's path, raw or
        percent-encoded, matched exactly), each with ``secret`` in its header.

        A request without the right secret gets 401 and changes nothing; a body that is not
        an update (update_id an integer) gets 400, one over ``MAX_BODY_BYTES`` 413; an
        update_id among the last ``RECENT_UPDATES`` taken is acknowledged, not handled again.
        An accepted update is handed to ``take_update`` before the 200,
        so Telegram resends it if Herald stops before taking it.

        With several processes behind one webhook URL, ``first_time(update_id)`` says
        whether no process took the update yet, and ``forget(update_id)`` undoes that when
        it could not be taken after all.
        """

        # The update_ids taken lately, oldest first.
        recent: dict[int, None] = {}

        async def webhook(request: web.Request) -> web.Response:
            given = request.headers.get(SECRET_HEADER, "")
            if not hmac.compare_digest(given.encode(), secret.encode()):
                metrics.WEBHOOK_UPDATES.labels("refused").inc()
                log.warning(
                    "Refused a webhook request from %s: %s secret token",
                    request.remote,
                    "wrong" if given else "no",
                )
                return web.Response(status=401, text="wrong or missing secret token\n")
            try:
                body = await request.read()
            except web.HTTPRequestEntityTooLarge:
                metrics.WEBHOOK_UPDATES.labels("bad").inc()
                log.warning("Ignored a webhook request over %d bytes", MAX_BODY_BYTES)
                raise
            try:
                update = json.loads(body)
            except (ValueError, UnicodeDecodeError, RecursionError):
                update = None
            update_id = update.get("update_id") if isinstance(update, dict) else None
            if type(update_id) is not int:
                metrics.WEBHOOK_UPDATES.labels("bad").inc()
                log.warning("Ignored a webhook request whose body is not a Telegram update")
                return web.Response(status=400, text="not a Telegram update\n")
            assert isinstance(update, dict)
            if update_id in recent:
                # Telegram resends an update it got no 200 for: handled once is enough.
                metrics.WEBHOOK_UPDATES.labels("duplicate").inc()
                log.info("Acknowledged update %d again without handling it twice", update_id)
                return web.Response(status=200)
            recent[update_id] = None
            if len(recent) > RECENT_UPDATES:
                del recent[next(iter(recent))]
            try:
                if first_time is not None and not await first_time(update_id):
                    metrics.WEBHOOK_UPDATES.labels("duplicate").inc()
                    log.info("Acknowledged update %d another process took", update_id)
                    return web.Response(status=200)
            except Exception as error:
                # The database can't say: Telegram sends the update again later.
                recent.pop(update_id, None)
                log.warning("Update %d left for Telegram to resend: %s", update_id, error)
                return web.Response(status=503, text="try again\n")
            try:
                await take_update(update)
            except BaseException:
                # Not taken: Telegram's resend must be handled.
                recent.pop(update_id, None)
                if forget is not None:
                    with contextlib.suppress(Exception):
                        await forget(update_id)
                raise
            metrics.WEBHOOK_UPDATES.labels("accepted").inc()
            return web.Response(status=200)

        # Matched literally, as Telegram requests it (percent-decoded): no route variables.
        resource = web.PlainResource(unquote(path))
        resource.add_route("POST", webhook)
        self._app.router.register_resource(resource)

    def add_websub(self, push: PushService) -> None:
        """The WebSub callbacks, ``/websub/<token>``: GET for the hub's verification of
        intent (W3C WebSub §5.3), POST for content distribution (§7)."""

        async def verify(request: web.Request) -> web.Response:
            token, query = request.match_info["token"], request.query
            mode = query.get("hub.mode", "")
            topic = query.get("hub.topic", "")
            if mode == "denied":
                await push.denied(token, topic=topic, reason=query.get("hub.reason", ""))
                return web.Response(status=200)
            challenge = await push.verify(
                token,
                mode=mode,
                topic=topic,
                challenge=query.get("hub.challenge", ""),
                lease_seconds=query.get("hub.lease_seconds"),
            )
            if challenge is None:
                return web.Response(status=404, text="no such subscription was asked for\n")
            return web.Response(status=200, text=challenge, content_type="text/plain")

        async def distribute(request: web.Request) -> web.Response:
            outcome = await push.push(
                request.match_info["token"],
                await request.read(),
                signature=request.headers.get("X-Hub-Signature"),
                content_type=request.headers.get("Content-Type"),
            )
            return web.Response(status=outcome.status)

        path = f"{CALLBACK_PATH}{{token}}"
        self._app.router.add_get(path, verify)
        self._app.router.add_post(path, distribute)

    async def start(self) -> None:
        """Listen; raises OSError when the address can't be had (in use, not local)."""
        runner = web.AppRunner(self._app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = _bound_port(runner, self.port)
        log.info("HTTP server listening on %s", self.url)

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    @property
    def url(self) -> str:
        return server_url(self.host, self.port)

    async def _healthz(self, request: web.Request) -> web.Response:
        try:
            report = await self._check_health()
        except Exception as error:
            log.exception("The health check failed")
            report = HealthReport(False, f"health check failed: {type(error).__name__}")
        body = {"status": "ok" if report.healthy else "unhealthy", "detail": report.detail}
        return web.Response(
            status=200 if report.healthy else 503,
            text=json.dumps(body) + "\n",
            content_type="application/json",
        )

    async def _metrics(self, request: web.Request) -> web.Response:
        if self._refresh_gauges is not None:
            try:
                await self._refresh_gauges()
            except Exception as error:
                # The counters still say something; stale gauges are better than no page.
                log.warning("Could not read the gauges for /metrics: %s", error)
        return web.Response(
            body=metrics.exposition(), headers={"Content-Type": metrics.CONTENT_TYPE}
        )


def _bound_port(runner: web.AppRunner, asked: int) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return asked


def server_url(host: str, port: int) -> str:
    """``http://host:port``, with an IPv6 host in brackets."""
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def local_url(host: str, port: int) -> str:
    """The URL a client on this machine uses to reach a server listening on ``host:port``:
    the wildcard addresses mean "every interface", which includes loopback."""
    return server_url({"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host), port)
