"""Point tweepy's fixed ``https://api.twitter.com`` host at an emulator, through public hooks only.

tweepy.Client has no base-URL setting, but its ``session`` is a public
``requests.Session``; the connectors' transport adapter, mounted for the X
prefix, rewrites each URL and adds the timeout tweepy never sets.
"""

from __future__ import annotations

from typing import Any

from connectors.http import route

X_HOST = "https://api.twitter.com"


def point_tweepy_client(client: Any, base_url: str, *, timeout: float = 10.0) -> Any:
    """Route a ``tweepy.Client``'s calls to ``base_url`` (an X emulator); returns the client."""
    route(client.session, timeout, X_HOST, base_url)
    return client
