"""The document as Markdown (GitHub-flavoured): tables, templates in code blocks, and the
flowchart as Mermaid, which GitHub and most Markdown viewers draw."""

from __future__ import annotations

import re

from bot.policydoc.flow import mermaid
from bot.policydoc.model import (
    Block,
    Bullets,
    Code,
    Document,
    Flowchart,
    Line,
    Link,
    Missing,
    Para,
    Quote,
    Table,
)

_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def render_markdown(doc: Document) -> str:
    out = [f"# {_escape(doc.title)}", "", f"*{_escape(doc.stamp.line)}*", ""]

    for index, line in enumerate(doc.notice):
        out += [">", f"> {_spans(line)}"] if index else [f"> **{_spans(line)}**"]
    out += ["", "## Contents", ""]
    out += [f"- [{_escape(s.heading)}](#{_slug(s.heading)})" for s in doc.sections]
    for section in doc.sections:
        out += ["", f"## {_escape(section.heading)}", ""]
        for block in section.blocks:
            out += [*_block(block), ""]
    return "\n".join(out).rstrip() + "\n"


def _block(block: Block) -> list[str]:
    match block:
        case Para():
            return [_spans(block.spans)]
        case Bullets():
            marks = (f"{n}." if block.numbered else "-" for n in range(1, len(block.items) + 1))
            return [f"{mark} {_spans(item)}" for mark, item in zip(marks, block.items, strict=True)]
        case Table():
            rows = [
                "| " + " | ".join(_escape(cell) for cell in block.header) + " |",
                "|" + "---|" * len(block.header),
            ]
            rows += ["| " + " | ".join(_spans(cell) for cell in row) + " |" for row in block.rows]
            return rows
        case Quote():
            fence = "````" if "```" in block.text else "```"
            return [f"**{_escape(block.title)}**", "", f"{fence}text", block.text, fence]
        case Flowchart():
            return [f"*{_escape(block.caption)}*", "", "```mermaid", mermaid(block.flow), "```"]
    raise TypeError(f"unknown block {block!r}")


def _spans(spans: Line) -> str:
    out = []
    for span in spans:
        match span:
            case Missing():
                key = f" — set {_code(span.key)}" if span.key else ""
                out.append(f"**⚠ {_escape(span.text)}**{key}")
            case Code():
                out.append(_code(span.text))
            case Link():
                out.append(f"<{span.url}>")
            case _:
                out.append(_escape(span))
    return "".join(out)


def _code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}" if fence == "`" else f"{fence} {text} {fence}"


def _escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text).replace("\n", " ")


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
