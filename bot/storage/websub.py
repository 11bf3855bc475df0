"""WebSub subscriptions: the hub, topic, callback and secret of each pushed feed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.domain import PushState, Subscription
from bot.storage.database import Database, from_epoch, to_epoch

_COLUMNS = (
    "feed_id, hub, topic, callback_token, secret, state, requested_at, lease_seconds,"
    " expires_at, last_push_at, pushes, error"
)


def _moment(value: Any) -> dt.datetime | None:
    return None if value is None else from_epoch(float(value))


def _subscription(row: Any) -> Subscription:
    return Subscription(
        feed_id=row["feed_id"],
        hub=row["hub"],
        topic=row["topic"],
        callback_token=row["callback_token"],
        secret=row["secret"],
        state=PushState(row["state"]),
        requested_at=from_epoch(row["requested_at"]),
        lease_seconds=row["lease_seconds"],
        expires_at=_moment(row["expires_at"]),
        last_push_at=_moment(row["last_push_at"]),
        pushes=row["pushes"],
        error=row["error"],
    )


class SubscriptionRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def requested(
        self,
        feed_id: int,
        *,
        hub: str,
        topic: str,
        callback_token: str,
        secret: str,
        now: dt.datetime,
    ) -> Subscription:
        """Record that the hub was asked to subscribe (a renewal keeps the lease it has,
        while it lasts)."""
        await self._db.execute(
            "INSERT INTO websub_subscriptions"
            " (feed_id, hub, topic, callback_token, secret, state, requested_at)"
            " VALUES (:feed, :hub, :topic, :token, :secret, 'requested', :now)"
            " ON CONFLICT (feed_id) DO UPDATE SET"
            "  hub = excluded.hub, topic = excluded.topic,"
            "  callback_token = excluded.callback_token, secret = excluded.secret,"
            "  requested_at = excluded.requested_at, error = NULL,"
            "  state = CASE WHEN websub_subscriptions.state = 'active'"
            "   AND websub_subscriptions.hub = excluded.hub"
            "   AND websub_subscriptions.topic = excluded.topic"
            "   AND websub_subscriptions.expires_at > :now"
            "   THEN 'active' ELSE 'requested' END",
            {
                "feed": feed_id,
                "hub": hub,
                "topic": topic,
                "token": callback_token,
                "secret": secret,
                "now": to_epoch(now),
            },
        )
        found = await self.for_feed(feed_id)
        assert found is not None
        return found

    async def for_feed(self, feed_id: int) -> Subscription | None:
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM websub_subscriptions WHERE feed_id = ?", (feed_id,)
        )
        return None if row is None else _subscription(row)

    async def by_token(self, callback_token: str) -> Subscription | None:
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM websub_subscriptions WHERE callback_token = ?",
            (callback_token,),
        )
        return None if row is None else _subscription(row)

    async def all(self) -> list[Subscription]:
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM websub_subscriptions ORDER BY feed_id"
        )
        return [_subscription(row) for row in rows]

    async def verified(self, feed_id: int, *, lease_seconds: int, now: dt.datetime) -> None:
        await self._db.execute(
            "UPDATE websub_subscriptions SET state = 'active', lease_seconds = ?,"
            " expires_at = ?, error = NULL WHERE feed_id = ?",
            (lease_seconds, to_epoch(now + dt.timedelta(seconds=lease_seconds)), feed_id),
        )

    async def set_state(self, feed_id: int, state: PushState, *, error: str | None = None) -> None:
        await self._db.execute(
            "UPDATE websub_subscriptions SET state = ?, error = ? WHERE feed_id = ?",
            (state.value, error, feed_id),
        )

    async def pushed(self, feed_id: int, *, now: dt.datetime) -> None:
        await self._db.execute(
            "UPDATE websub_subscriptions SET pushes = pushes + 1, last_push_at = ?"
            " WHERE feed_id = ?",
            (to_epoch(now), feed_id),
        )

    async def delete(self, feed_id: int) -> None:
        await self._db.execute("DELETE FROM websub_subscriptions WHERE feed_id = ?", (feed_id,))
