"""One requests transport for both vendor clients: a timeout they do not set, a new host, and
writes that go out once.

tweepy has ``https://api.twitter.com`` built in and sets no timeout; prawcore
reads its timeout once, from the environment, at import. A transport adapter
mounted on the client's public session fixes both without touching either
library.

prawcore also re-sends *any* request, a POST included, after a read timeout, a
dropped connection or a 5xx. For a write that is a second public comment when
the first one did arrive but its answer was late. ``single_attempt`` stops
that at the transport, the only layer we own: inside it, a request repeated
by the library is refused with ``RepeatRefused`` before it is sent. That is
not one of the exceptions prawcore retries on, so the call fails after one
request and the outbox, which looks for the reply before posting again,
decides what happens next.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

# A request answered with one of these was not acted on (Reddit: the bearer token was refused),
# so the library's re-send after refreshing the token is safe.
NOT_ACTED_ON = frozenset({401})


class RepeatRefused(requests.RequestException):
    """A library tried to send a request again inside ``single_attempt``; it was not sent.

    ``previous`` says how the first one ended (``"ReadTimeout"``, ``"HTTP 503"``): the
    write may have been done. Deliberately not a ``ConnectionError``/``Timeout``, which
    clients retry on.
    """

    def __init__(self, method: str, url: str, previous: str) -> None:
        super().__init__(f"{method} {url} already sent once ({previous}); not sent again")
        self.previous = previous


@dataclass
class _Attempt:
    """One ``single_attempt`` block: how each (method, URL) sent in it ended."""

    exempt: frozenset[str]
    sent: dict[tuple[str, str], tuple[int | None, str]] = field(default_factory=dict)

    def watches(self, key: tuple[str, str]) -> bool:
        return urlsplit(key[1]).path.rstrip("/") not in self.exempt

    def refuses(self, key: tuple[str, str]) -> bool:
        return key in self.sent and self.sent[key][0] not in NOT_ACTED_ON


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
        self._local = threading.local()

    @contextmanager
    def single_attempt(self, exempt: Collection[str] = ()) -> Iterator[None]:
        """In this block, on this thread, each (method, URL) is sent at most once.

        A repeat is sent only after a 401 (not acted on) or when the URL's path is in
        ``exempt``: requests without a public effect that the library may need again, such
        as prawcore's token fetch after a 401. Other threads (polling while a reply is
        posted) keep their library's retries.
        """
        outer = getattr(self._local, "attempt", None)
        self._local.attempt = _Attempt(frozenset(path.rstrip("/") for path in exempt))
        try:
            yield
        finally:
            self._local.attempt = outer

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        key = (request.method or "", request.url or "")
        attempt: _Attempt | None = getattr(self._local, "attempt", None)
        if attempt is not None and not attempt.watches(key):
            attempt = None
        if attempt is not None and attempt.refuses(key):
            raise RepeatRefused(*key, previous=attempt.sent[key][1])
        if self.source and request.url and request.url.startswith(self.source):
            request.url = self.target + request.url[len(self.source) :]
        kwargs["timeout"] = self.timeout
        try:
            response = super().send(request, **kwargs)
        except Exception as exc:
            if attempt is not None:
                attempt.sent[key] = (None, type(exc).__name__)
            raise
        if attempt is not None:
            attempt.sent[key] = (response.status_code, f"HTTP {response.status_code}")
        return response


def route(session: requests.Session, timeout: float, source: str, target: str) -> RoutedAdapter:
    """Mount the adapter on ``session`` for ``source``; loopback-safe (no proxies from env)."""
    session.trust_env = False
    adapter = RoutedAdapter(timeout, source, target)
    session.mount(source, adapter)
    return adapter


def timed_session(timeout: float) -> requests.Session:
    """A session whose every request carries ``timeout``, ignoring proxy variables."""
    session = requests.Session()
    session.trust_env = False
    adapter = RoutedAdapter(timeout)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


@contextmanager
def single_attempt(session: requests.Session, exempt: Collection[str] = ()) -> Iterator[None]:
    """``RoutedAdapter.single_attempt`` on every routed adapter mounted on ``session``.

    Wrap a platform write in it: a library-level retry of the write raises
    ``RepeatRefused`` instead of being sent. Retrying is the outbox's job.
    """
    adapters = {id(a): a for a in session.adapters.values() if isinstance(a, RoutedAdapter)}
    if not adapters:
        raise ValueError("the session has no RoutedAdapter; writes would not be single-shot")
    with ExitStack() as stack:
        for adapter in adapters.values():
            stack.enter_context(adapter.single_attempt(exempt))
        yield
