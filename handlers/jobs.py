"""Jobs PTB's JobQueue runs on a schedule; like every handler they only call a service."""

from __future__ import annotations

import datetime as dt
from typing import Any

from telegram.ext import Application

from bot.services.health import BEAT_EVERY
from handlers.context import BotContext


async def beat(context: BotContext) -> None:
    await context.services.health.beat()


# A run that comes due while the loop is busy runs late rather than not at all, and a backlog
# of missed runs becomes one.
JOB_KWARGS = {"misfire_grace_time": None, "coalesce": True}
# APScheduler moves a first run that is already past when the scheduler starts to the next
# interval, so first runs are set a moment after start-up (schedule() runs in post_init).
FIRST_RUN = dt.timedelta(seconds=1)


def schedule(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Schedule every job; call from post_init, just before the job queue starts."""
    queue = application.job_queue
    if queue is None:
        raise RuntimeError("Herald needs python-telegram-bot's job-queue extra")
    queue.run_repeating(
        beat, interval=BEAT_EVERY, first=FIRST_RUN, name="heartbeat", job_kwargs=JOB_KWARGS
    )
