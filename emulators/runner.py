"""Start and stop all three emulators from Python: ``with Emulators() as emu: ...``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from emulators.admin import RedditAdmin, SlackAdmin, XAdmin
from emulators.core import ServerThread
from emulators.reddit import RedditEmulator
from emulators.slack import SlackEmulator
from emulators.x import XEmulator


class Emulators:
    """The X, Reddit and Slack emulators on 127.0.0.1, served from one background thread.

    Ports default to 0 (the OS picks). After ``start()`` the base URLs are in
    :attr:`urls` and each emulator's admin API is at :attr:`x`, :attr:`reddit`
    and :attr:`slack`. The server objects themselves (:attr:`x_server` ...) are
    for inspection only: their state belongs to the server thread.
    """

    def __init__(
        self,
        *,
        port_x: int = 0,
        port_reddit: int = 0,
        port_slack: int = 0,
        x_username: str = "acme",
        enforce_rate_limits: bool = True,
        reddit_window_s: float = 60.0,
        slack_ack_timeout_s: float = 3.0,
        slack_max_retries: int = 3,
    ) -> None:
        self.x_server = XEmulator(username=x_username, enforce_rate_limits=enforce_rate_limits)
        self.reddit_server = RedditEmulator(
            window_s=reddit_window_s, enforce_rate_limits=enforce_rate_limits
        )
        self.slack_server = SlackEmulator(
            ack_timeout_s=slack_ack_timeout_s, max_retries=slack_max_retries
        )
        self._thread = ServerThread(
            [
                (self.x_server, port_x),
                (self.reddit_server, port_reddit),
                (self.slack_server, port_slack),
            ]
        )
        self._admins: tuple[XAdmin, RedditAdmin, SlackAdmin] | None = None

    def start(self) -> Emulators:
        self._thread.start()
        self._admins = (
            XAdmin(self.x_url),
            RedditAdmin(self.reddit_url),
            SlackAdmin(self.slack_url),
        )
        return self

    def stop(self) -> None:
        self._thread.stop()

    def __enter__(self) -> Emulators:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _admin(self, index: int) -> Any:
        if self._admins is None:
            raise RuntimeError("call start() (or use 'with Emulators()') first")
        return self._admins[index]

    @property
    def x(self) -> XAdmin:
        admin: XAdmin = self._admin(0)
        return admin

    @property
    def reddit(self) -> RedditAdmin:
        admin: RedditAdmin = self._admin(1)
        return admin

    @property
    def slack(self) -> SlackAdmin:
        admin: SlackAdmin = self._admin(2)
        return admin

    @property
    def x_url(self) -> str:
        """Base URL standing in for ``https://api.twitter.com`` (no trailing slash)."""
        return self.x_server.base_url

    @property
    def reddit_url(self) -> str:
        """Both praw ``oauth_url`` and ``reddit_url`` (no trailing slash)."""
        return self.reddit_server.base_url

    @property
    def slack_url(self) -> str:
        """The Slack emulator's root: the web page, ``/_admin/`` and the upload URLs."""
        return self.slack_server.base_url

    @property
    def slack_api_url(self) -> str:
        """What ``WebClient(base_url=...)`` takes: ends in ``/api/``."""
        return self.slack_server.base_url + "/api/"

    @property
    def urls(self) -> dict[str, str]:
        """The four base URLs the CLI prints."""
        return {
            "x": self.x_url,
            "reddit_oauth": self.reddit_url,
            "reddit_www": self.reddit_url,
            "slack_api": self.slack_api_url,
        }

    def reset(self) -> None:
        """Forget all posts, messages, faults and logs on every emulator."""
        for admin in (self.x, self.reddit, self.slack):
            admin.reset()


@contextmanager
def running(**options: Any) -> Iterator[Emulators]:
    """``with running() as emu:`` — the same as ``with Emulators(**options) as emu:``."""
    emulators = Emulators(**options)
    emulators.start()
    try:
        yield emulators
    finally:
        emulators.stop()
