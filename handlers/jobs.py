"""Jobs PTB's JobQueue runs on a schedule; like every handler they only call a service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.ext import Application

from bot.services.health import BEAT_EVERY
from handlers.admin import report_broadcasts
from handlers.context import BotContext


async def beat(context: BotContext) -> None:
    await context.services.health.beat()


async def every_minute(context: BotContext) -> None:
    """Digests whose local time has come, holds that start or end, failures to report."""
    await context.services.digests.send_due()
    await context.services.quiet.refresh_all()
    await context.services.outbox.report_failures()


async def prune_entries(context: BotContext) -> None:
    await context.services.feeds.prune()
    await context.services.outbox.prune()


# A run that comes due while the loop is busy runs late rather than not at all, and a backlog
# of missed runs becomes one.
JOB_KWARGS = {"misfire_grace_time": None, "coalesce": True}
# First runs a moment after the job queue starts (schedule() runs right after it does).
FIRST_RUN = dt.timedelta(seconds=1)
MINUTE = dt.timedelta(minutes=1)
PRUNE_EVERY = dt.timedelta(hours=6)
# Telegram allows about one edit a second in a chat; every two seconds leaves room for
# the admin's own replies.
BROADCAST_PROGRESS_EVERY = dt.timedelta(seconds=2)


Job = Callable[[BotContext], Coroutine[Any, Any, None]]


def once(job: Job, every: dt.timedelta) -> Job:
    """``job`` run by one process of those sharing the database each time it comes due."""

    async def run(context: BotContext) -> None:
        if await context.services.jobs.claim(job.__name__, every):
            await job(context)

    run.__name__ = job.__name__
    return run


def on_the_leader(job: Job) -> Job:
    """``job`` run by the process that leads: it sends to chats itself, and only the
    leader's sends are paced per chat together with the outbox's."""

    async def run(context: BotContext) -> None:
        if context.services.jobs.leading():
            await job(context)

    run.__name__ = job.__name__
    return run


def schedule(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Schedule every job; call once the job queue has started."""
    queue = application.job_queue
    if queue is None:
        raise RuntimeError("Herald needs python-telegram-bot's job-queue extra")
    queue.run_repeating(
        beat, interval=BEAT_EVERY, first=FIRST_RUN, name="heartbeat", job_kwargs=JOB_KWARGS
    )
    # Feeds are not polled from here: FeedService.run() starts each poll the moment it is
    # due and a slot is free, which a tick of the job queue could only approximate.
    # Each process beats (the heartbeat says the database has a live bot); the rest run once
    # across the processes sharing the database.
    # One job for every chat's digest: each chat's next due time lives in the database.
    queue.run_repeating(
        once(every_minute, MINUTE),
        interval=MINUTE,
        first=FIRST_RUN,
        name="digests and quiet hours",
        job_kwargs=JOB_KWARGS,
    )
    queue.run_repeating(
        on_the_leader(report_broadcasts),
        interval=BROADCAST_PROGRESS_EVERY,
        first=FIRST_RUN,
        name="broadcast progress",
        job_kwargs=JOB_KWARGS,
    )
    queue.run_repeating(
        once(prune_entries, PRUNE_EVERY),
        interval=PRUNE_EVERY,
        first=FIRST_RUN,
        name="prune",
        job_kwargs=JOB_KWARGS,
    )
