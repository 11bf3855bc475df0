"""Settings and logging set-up; knows nothing of the rest of Herald."""

from config.logging import configure_logging, redact
from config.settings import Settings, SettingsError, load_settings

__all__ = ["Settings", "SettingsError", "configure_logging", "load_settings", "redact"]
