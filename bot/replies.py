"""Reply drafts: choose a template, fill it safely, add the bot disclosure.

What a reply may not say is the guard's (``bot.guard``); ``banned_phrase`` is its wording
part, as one phrase.

Template filling never evaluates anything: a placeholder is replaced by its
value as plain text, and text from a post is never part of a template.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from bot.config import Config
from bot.guard import banned_phrases, find_acts, normalise

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
FLAG_TEMPLATE_ORDER = ("safety", "data_exposure", "legal", "privacy_request")
HANDLE_CHARS = re.compile(r"[^A-Za-z0-9_-]")
SPACE = re.compile(r"\s+")


def choose_template(category: str, flags: Iterable[str], templates: Mapping[str, str]) -> str:
    """The most specific template: a risk flag's first, then the category's, then the default."""
    flag_set = set(flags)
    for flag in FLAG_TEMPLATE_ORDER:
        if flag in flag_set and flag in templates:
            return templates[flag]
    return templates.get(category) or templates["default"]


def fill(template: str, values: Mapping[str, str]) -> str:
    """Replace ``{name}`` with ``values[name]`` as plain text; unknown names stay as written."""
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), template)


def safe_handle(handle: str) -> str:
    """The handle as a reply may write it: no "@" or "u/" in front (a name that starts with
    "u" keeps it), no character a handle cannot have, at most 40 characters."""
    name = handle.strip()
    for prefix in ("@", "/u/", "u/", "U/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    return HANDLE_CHARS.sub("", name)[:40] or "there"


def draft_reply(
    config: Config,
    *,
    category: str,
    flags: Iterable[str],
    handle: str,
    case_id: int,
    first_name: str = "",
    platform: str = "x",
) -> str:
    """The suggested public reply for a case, with the disclosure suffix, addressing the
    author as ``platform`` does."""
    template = choose_template(category, flags, config.policy.templates)
    values = {
        "handle": safe_handle(handle),
        "case_id": str(case_id),
        "support_url": config.brand.support_url,
        "privacy_url": config.brand.privacy_url,
        "first_name": first_name or safe_handle(handle),
        "brand": config.brand.name,
    }
    text = with_disclosure(fill(template, values), config.policy.replies.disclosure)
    return addressed(text, handle, platform)


def addressed(text: str, handle: str, platform: str) -> str:
    """The templates write ``@{handle}``; Reddit addresses a user as ``u/name``."""
    if platform != "reddit":
        return text
    name = re.escape(safe_handle(handle))
    return re.sub(rf"(?<![\w/])@({name})\b", r"u/\1", text)


def with_disclosure(text: str, disclosure: str) -> str:
    """Add the bot-disclosure suffix (B&P 17940) unless the text already carries it (spaces
    aside: a reply edited in Slack may have its line breaks changed)."""
    if not disclosure or _squashed(disclosure) in _squashed(text):
        return text
    return text.rstrip() + disclosure


def _squashed(text: str) -> str:
    return SPACE.sub(" ", text).strip()


def banned_phrase(text: str, extra: Iterable[str] = ()) -> str | None:
    """The first forbidden wording in a reply, as written in it, or None: a configured
    phrase (``extra``), or the words of an act no reply may commit (``bot.guard``)."""
    normalised = normalise(text)
    for finding in banned_phrases(normalised, extra) or find_acts(normalised):
        return finding.quote
    return None
