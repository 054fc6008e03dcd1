"""The policy document as plain data: numbered sections of blocks, each block made of spans.

One model keeps Markdown, HTML and Word saying the same thing. A value the configuration
lacks is a ``Missing`` span, which every renderer shows highlighted, so no format can quietly
print an invented value instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.policydoc.flow import Flow


@dataclass(frozen=True)
class Missing:
    """Something the document cannot say because nobody configured it; ``key`` says where."""

    text: str
    key: str = ""

    @property
    def plain(self) -> str:
        return f"{self.text} — set {self.key}" if self.key else self.text


@dataclass(frozen=True)
class Code:
    """A configuration key, a command or a value exactly as it is typed."""

    text: str


@dataclass(frozen=True)
class Link:
    url: str


Span = str | Missing | Code | Link
Line = tuple[Span, ...]


def unset(key: str, text: str = "not configured") -> Missing:
    return Missing(text, key)


def plain(spans: Line) -> str:
    """The spans as one plain string (what a reader of any format sees)."""
    out = []
    for span in spans:
        match span:
            case Missing():
                out.append(span.plain)
            case Code():
                out.append(span.text)
            case Link():
                out.append(span.url)
            case _:
                out.append(span)
    return "".join(out)


@dataclass(frozen=True)
class Para:
    spans: Line


@dataclass(frozen=True)
class Bullets:
    items: tuple[Line, ...]
    numbered: bool = False


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[Line, ...], ...]


@dataclass(frozen=True)
class Quote:
    """A text shown exactly as configured (a reply template), under a title."""

    title: str
    text: str


@dataclass(frozen=True)
class Flowchart:
    flow: Flow
    caption: str


Block = Para | Bullets | Table | Quote | Flowchart


def para(*spans: Span) -> Para:
    return Para(tuple(span for span in spans if span != ""))


def bullets(*items: Line | str, numbered: bool = False) -> Bullets:
    return Bullets(tuple((item,) if isinstance(item, str) else item for item in items), numbered)


def table(header: Iterable[str], rows: Iterable[Iterable[Line | Span]]) -> Table:
    """A table; a cell may be a single span or a line of spans."""
    return Table(
        tuple(header),
        tuple(tuple(cell if isinstance(cell, tuple) else (cell,) for cell in row) for row in rows),
    )


@dataclass(frozen=True)
class Section:
    number: str
    title: str
    blocks: tuple[Block, ...]
    appendix: bool = False

    @property
    def heading(self) -> str:
        return (
            f"Appendix {self.number}. {self.title}"
            if self.appendix
            else (f"{self.number}. {self.title}")
        )

    @property
    def anchor(self) -> str:
        return f"appendix-{self.number.lower()}" if self.appendix else f"section-{self.number}"


@dataclass(frozen=True)
class Stamp:
    """Which configuration a copy describes: compare ``digest`` with a fresh render."""

    generated: date
    version: str
    digest: str
    source: str

    @property
    def line(self) -> str:
        return (
            f"Version {self.generated.isoformat()} · complaintbot {self.version} · "
            f"configuration {self.digest[:12]} ({self.source})"
        )


@dataclass(frozen=True)
class Document:
    title: str
    stamp: Stamp
    notice: tuple[Line, ...]
    sections: tuple[Section, ...]
