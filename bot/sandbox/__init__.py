"""Loopback stand-ins for Telegram and for news feeds, used by `herald demo` and the tests."""
