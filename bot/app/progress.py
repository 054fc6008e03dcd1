"""Progress bars for long commands (train, evaluate, classify --input, a file import).

Shown on stderr only when both stdout and stderr are a terminal and the command was not
asked for ``--json``: piped output and scripts see nothing extra. The work itself only
calls back ``(done, total)``; the bars live here, so the core, the classifier and the
connectors stay free of them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click

from bot.models import Classification, Classifier


def wanted(as_json: bool = False) -> bool:
    """A bar helps a person at a terminal; in piped or JSON output it is noise."""
    return not as_json and sys.stdout.isatty() and sys.stderr.isatty()


class Bar:
    """One bar: call it with (done, total); ``say`` prints a line above it."""

    def __init__(self, bar: Any) -> None:
        self._bar = bar

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            return
        if total and self._bar.total != total:
            self._bar.total = total
            self._bar.refresh()
        self._bar.update(done - self._bar.n)

    def add(self, count: int) -> None:
        """Advance by ``count`` (for work whose total is not known)."""
        if self._bar is not None:
            self._bar.update(count)

    def say(self, line: str) -> None:
        if self._bar is None:
            click.echo(line, err=True)
        else:
            self._bar.write(line, file=sys.stderr)


@contextmanager
def bar(
    label: str, unit: str, show: bool, total: int | None = None, scale: bool = False
) -> Iterator[Bar]:
    """A bar on stderr when ``show``, else a ``Bar`` that only passes ``say`` lines on.
    ``scale``: show 1.2MB rather than 1234567B."""
    if not show:
        yield Bar(None)
        return
    from tqdm import tqdm

    with tqdm(
        desc=label,
        unit=unit,
        unit_scale=scale,
        total=total,
        file=sys.stderr,
        leave=False,
        dynamic_ncols=True,
    ) as shown:
        yield Bar(shown)


class CountingClassifier:
    """A classifier that advances a bar by the posts it classifies (a backfill's count)."""

    def __init__(self, inner: Classifier, advance: Bar) -> None:
        self.inner = inner
        self.advance = advance

    def classify(self, texts: Sequence[str]) -> list[Classification]:
        results = self.inner.classify(texts)
        self.advance.add(len(texts))
        return results


@contextmanager
def poll_bars(daemon: Any, show: bool) -> Iterator[None]:
    """For ``poll-once``: a bar over the bytes of the ``[file]`` import (when it is polled)
    and a count of the posts the daemon classifies, for the length of the ``with``."""
    if not show:
        yield
        return
    source = daemon.connectors.get("file")
    classifier = daemon.classifier
    with (
        bar("reading the file", "B", True, scale=True) as reading,
        bar("classified", " posts", True) as done,
    ):
        if source is not None:
            source.progress = reading
        daemon.classifier = CountingClassifier(classifier, done)
        try:
            yield
        finally:
            daemon.classifier = classifier
            if source is not None:
                source.progress = None
