"""Joining words the way the document writes lists; shared by the flow and the sections."""

from __future__ import annotations

from collections.abc import Iterable


def or_list(items: Iterable[str], last: str = "or") -> str:
    """Join as "a, b or c" (or "a, b and c")."""
    listed = list(items)
    if len(listed) < 2:
        return "".join(listed)
    return ", ".join(listed[:-1]) + f" {last} " + listed[-1]
