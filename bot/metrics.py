"""Herald's Prometheus metrics: one registry of its own, counted from every layer.

The registry is Herald's, not prometheus-client's global default, so nothing else a process
imports shows up on ``/metrics`` and several bots in one process (tests) never collide on
registration; they share the counts, which only ever grow. Names follow Prometheus practice
(https://prometheus.io/docs/practices/naming/): a ``herald_`` prefix, base units (seconds)
in the name, ``_total`` on counters.
"""

from __future__ import annotations

import asyncio
import time

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

# A ``_created`` gauge beside every counter doubles the page for a timestamp that the
# process start time already gives.
disable_created_metrics()  # type: ignore[no-untyped-call]
REGISTRY = CollectorRegistry(auto_describe=True)

# Seconds. Sends: a loopback Bot API answers in milliseconds, Telegram in tens to hundreds.
_SEND_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Seconds from a story's publication to its alert: seconds when pushed, minutes when polled.
_PUBLISH_BUCKETS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)

POLLS = Counter(
    "herald_polls",
    "Feed polls by outcome: 200 (a body, changed or not), 304 (not modified), error.",
    ["outcome"],
    registry=REGISTRY,
)
PARSE_FAILURES = Counter(
    "herald_feed_parse_failures",
    "Feed bodies (polled or pushed) that could not be read as a feed.",
    registry=REGISTRY,
)
ENTRIES_STORED = Counter(
    "herald_entries_stored", "Entries stored for the first time.", registry=REGISTRY
)
ENTRIES_ROUTED = Counter(
    "herald_entries_routed", "Entries matched against every topic.", registry=REGISTRY
)
ALERTS_QUEUED = Counter(
    "herald_alerts_queued",
    "Alerts written to the outbox (or held for quiet hours or a mute).",
    registry=REGISTRY,
)
SENDS = Counter(
    "herald_sends",
    "Messages sent to Telegram by outcome: ok, 429, 403, other.",
    ["outcome"],
    registry=REGISTRY,
)
SEND_LATENCY = Histogram(
    "herald_send_latency_seconds",
    "Time one sendMessage took, from request to answer.",
    buckets=_SEND_BUCKETS,
    registry=REGISTRY,
)
PUBLISH_TO_ALERT = Histogram(
    "herald_publish_to_alert_latency_seconds",
    "From an entry's publication time (as its feed states it) to its alert's sending.",
    buckets=_PUBLISH_BUCKETS,
    registry=REGISTRY,
)
EVENT_LOOP_LAG = Gauge(
    "herald_event_loop_lag_seconds",
    "How late the event loop last woke a timer: the delay every task sees.",
    registry=REGISTRY,
)
OUTBOX_DEPTH = Gauge(
    "herald_outbox_depth", "Messages waiting in the outbox, by kind.", ["kind"], registry=REGISTRY
)
TOPICS = Gauge("herald_topics", "Topics followed, across every chat.", registry=REGISTRY)
ACTIVE_CHATS = Gauge("herald_active_chats", "Chats subscribed and reachable.", registry=REGISTRY)
WEBHOOK_UPDATES = Counter(
    "herald_webhook_updates",
    "Requests to the webhook path by outcome: accepted, refused (wrong or no secret), bad,"
    " duplicate (an update resent, acknowledged again).",
    ["outcome"],
    registry=REGISTRY,
)
WEBSUB_PUSHES = Counter(
    "herald_websub_pushes",
    "WebSub content distributions by outcome: accepted, bad_signature, unsigned, unknown"
    " (no such subscription), ignored (not a feed, or its feed is gone).",
    ["outcome"],
    registry=REGISTRY,
)

for _outcome in ("200", "304", "error"):
    POLLS.labels(_outcome)
for _outcome in ("ok", "429", "403", "other"):
    SENDS.labels(_outcome)

CONTENT_TYPE = CONTENT_TYPE_LATEST
LAG_EVERY = 0.5


def exposition() -> bytes:
    """Every metric in the Prometheus text format (``CONTENT_TYPE``)."""
    return generate_latest(REGISTRY)


async def watch_event_loop(every: float = LAG_EVERY) -> None:
    """Measure event-loop lag every ``every`` seconds until cancelled.

    Lag is how much later than asked a sleep returns: the time a ready task waits for the
    loop because something else holds it.
    """
    while True:
        asked = time.monotonic()
        await asyncio.sleep(every)
        EVENT_LOOP_LAG.set(max(time.monotonic() - asked - every, 0.0))
