"""Reply drafts: choose a template, fill it safely, add the bot disclosure, and guard the wording.

Template filling never evaluates anything: a placeholder is replaced by its
value as plain text, and text from a post is never part of a template.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from bot.config import Config

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
FLAG_TEMPLATE_ORDER = ("safety", "data_exposure", "legal", "privacy_request")
HANDLE_CHARS = re.compile(r"[^A-Za-z0-9_-]")

# Wording a reply must never contain (Civ. Code 1670.8, the Consumer Review
# Fairness Act, FTC 16 CFR 465): asking to delete or change a post or review,
# paying for that, or threatening the customer.
BUILT_IN_BANNED = (
    r"\b(delete|remove|take down|edit|change|update|retract)\b[^.!?]{0,30}"
    r"\b(tweet|post|review|comment|rating|thread)s?\b",
    r"\btake (it|this|that) down\b",
    r"\bif you (delete|remove|edit|change|retract|take down)\b",
    r"\bin exchange for\b",
    r"\bin return for\b[^.!?]{0,40}\b(review|post|tweet|rating)",
    r"\b(we|we'll|we will|our lawyers?)\b[^.!?]{0,20}\b(sue|take legal action|report you)\b",
    r"\blegal action against you\b",
    r"\bdefamat(ion|ory)\b",
    r"\bcease and desist\b",
)


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
    return HANDLE_CHARS.sub("", handle.lstrip("@u/"))[:40] or "there"


def draft_reply(
    config: Config,
    *,
    category: str,
    flags: Iterable[str],
    handle: str,
    case_id: int,
    first_name: str = "",
) -> str:
    """The suggested public reply for a case, with the disclosure suffix."""
    template = choose_template(category, flags, config.policy.templates)
    values = {
        "handle": safe_handle(handle),
        "case_id": str(case_id),
        "support_url": config.brand.support_url,
        "privacy_url": config.brand.privacy_url,
        "first_name": first_name or safe_handle(handle),
        "brand": config.brand.name,
    }
    return with_disclosure(fill(template, values), config.policy.replies.disclosure)


def with_disclosure(text: str, disclosure: str) -> str:
    """Add the bot-disclosure suffix (B&P 17940) unless the text already carries it."""
    if not disclosure or disclosure.strip() in text:
        return text
    return text.rstrip() + disclosure


def banned_phrase(text: str, extra: Iterable[str] = ()) -> str | None:
    """The first forbidden wording found in a reply, as written in it, or None."""
    lowered = text.lower()
    for phrase in extra:
        if phrase and phrase.lower() in lowered:
            return phrase
    for pattern in BUILT_IN_BANNED:
        match = re.search(pattern, text, re.IGNORECASE)
        if match:
            return match.group(0)
    return None
