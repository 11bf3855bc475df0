"""Telegram-facing callbacks: commands, buttons, member updates and jobs, each thin."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application

from handlers import admin, chats, errors, feeds, reading, settings, topics
from handlers.jobs import schedule as schedule_jobs
from handlers.menus import set_menus
from handlers.texts import BOT_COMMANDS

__all__ = ["BOT_COMMANDS", "register", "schedule_jobs", "set_menus"]


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add every handler, in the order PTB should try them."""
    # Subscription commands and membership updates first: they create the chat rows the
    # other handlers work on.
    application.add_handlers(chats.HANDLERS)
    application.add_handlers(topics.HANDLERS)
    application.add_handlers(reading.HANDLERS)
    application.add_handlers(settings.HANDLERS)
    application.add_handlers(feeds.HANDLERS)
    application.add_handlers(admin.HANDLERS)
    # Last: only what no handler above took (unknown commands, plain text, stale buttons).
    application.add_handlers(chats.FALLBACK_HANDLERS)
    application.add_error_handler(errors.report_error)
