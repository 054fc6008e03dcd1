"""Build the edges (connectors) from validated settings; vendor modules load only when used."""

from __future__ import annotations

from collections.abc import Mapping

from bot.config import Config
from bot.errors import ConfigError
from bot.models import Classifier
from connectors.base import Connector


def build_connector(config: Config, platform: str, secrets: Mapping[str, str]) -> Connector:
    if platform == "x":
        from connectors.x import XConnector

        return XConnector(config.x, config.brand, secrets)
    if platform == "reddit":
        from connectors.reddit import RedditConnector

        return RedditConnector(config.reddit, config.brand, secrets)
    if platform == "file":
        from connectors.file import FileConnector

        return FileConnector(config.file.path, (config.x.handle, config.reddit.username))
    raise ConfigError([f"unknown platform {platform!r}; use x, reddit or file"])


def platforms_to_poll(config: Config, only: str | None) -> list[str]:
    """The enabled platforms, or the one asked for (which must be enabled)."""
    if only is None:
        return config.enabled_platforms()
    if not getattr(config, only).enabled:
        raise ConfigError(
            [f"[{only}] enabled = false: set enabled = true in [{only}] to poll {only}"]
        )
    return [only]


def load_classifier(config: Config) -> Classifier:
    """The trained complaint classifier (imports torch: call it only when it is needed)."""
    from classifiers import load_classifier as load

    return load(config.classifier)
