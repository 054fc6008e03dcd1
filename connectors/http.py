"""One requests transport for both vendor clients: a timeout they do not set, and a new host.

tweepy has ``https://api.twitter.com`` built in and sets no timeout; prawcore
reads its timeout once, from the environment, at import. A transport adapter
mounted on the client's public session fixes both without touching either
library.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter


class RoutedAdapter(HTTPAdapter):
    """Applies ``timeout`` to every request and sends ``source``-prefixed URLs to ``target``.

    The OAuth 1.0a signature is computed for the original URL before the adapter
    runs, which is what the real service checks.
    """

    def __init__(self, timeout: float, source: str = "", target: str = "") -> None:
        super().__init__()
        self.timeout = timeout
        self.source = source.rstrip("/")
        self.target = target.rstrip("/")

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if self.source and request.url and request.url.startswith(self.source):
            request.url = self.target + request.url[len(self.source) :]
        kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


def route(session: requests.Session, timeout: float, source: str, target: str) -> None:
    """Mount the adapter on ``session`` for ``source``; loopback-safe (no proxies from env)."""
    session.trust_env = False
    session.mount(source, RoutedAdapter(timeout, source, target))


def timed_session(timeout: float) -> requests.Session:
    """A session whose every request carries ``timeout``, ignoring proxy variables."""
    session = requests.Session()
    session.trust_env = False
    adapter = RoutedAdapter(timeout)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
