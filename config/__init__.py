"""Typed settings for Check-in, read once from the environment."""

from config.settings import ConfigError, Settings

__all__ = ["ConfigError", "Settings"]
