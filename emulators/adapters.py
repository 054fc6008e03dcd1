"""Point tweepy's fixed ``https://api.twitter.com`` host at an emulator, through public hooks only.

tweepy.Client has no base-URL setting, but its ``session`` is a public
``requests.Session``; a transport adapter mounted for the X prefix rewrites
each URL and adds the timeout tweepy never sets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter

X_HOST = "https://api.twitter.com"


class HostRewriteAdapter(HTTPAdapter):
    """Sends requests for ``source`` to ``target`` instead, with a default timeout.

    The OAuth 1.0a signature was computed for the original https URL before the
    adapter runs, which is what the real X would check.
    """

    def __init__(self, target: str, *, source: str = X_HOST, timeout: float = 10.0) -> None:
        super().__init__()
        self.source = source.rstrip("/")
        self.target = target.rstrip("/")
        self.timeout = timeout

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        if request.url and request.url.startswith(self.source):
            request.url = self.target + request.url[len(self.source) :]
        return super().send(
            request,
            stream=stream,
            timeout=self.timeout if timeout is None else timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )


def point_tweepy_client(client: Any, base_url: str, *, timeout: float = 10.0) -> Any:
    """Route a ``tweepy.Client``'s calls to ``base_url`` (an X emulator); returns the client."""
    client.session.mount(X_HOST, HostRewriteAdapter(base_url, timeout=timeout))
    client.session.trust_env = False
    return client
