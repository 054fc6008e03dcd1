"""Build the edges (connectors) from validated settings, and name each platform's reply rule."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot.config import Config
from bot.connector import Connector, ReplyCheck
from bot.errors import ConfigError
from bot.models import Classifier, Mention
from connectors import file, reddit, x

# Whether the bot may answer a post at all, per platform, enabled or not: the core decides
# when it opens a case, before any text exists and without a connector or credentials.
REPLY_RULES: dict[str, Callable[[Mention], ReplyCheck]] = {
    "x": x.may_reply,
    "reddit": reddit.may_reply,
    "file": file.may_reply,
}


def build_connector(config: Config, platform: str, secrets: Mapping[str, str]) -> Connector:
    if platform == "x":
        return x.XConnector(config.x, config.brand, secrets)
    if platform == "reddit":
        return reddit.RedditConnector(config.reddit, config.brand, secrets)
    if platform == "file":
        return file.FileConnector(config.file.path, (config.x.handle, config.reddit.username))
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
    """The trained complaint classifier: the int8 graph cached beside the store (built once,
    with torch, when missing), run without torch."""
    from bot.app.retrain_model import following
    from classifiers import load_classifier as load

    return following(config, lambda settings: load(settings, config.store.path))
