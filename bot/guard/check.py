"""The whole reply guard: one reply text and the case it answers in, every reason it may
not be posted.

In order: the installation's own ``[policy.replies] banned_phrases`` (matched in the
normalised wording too, so "Between  US" finds "between us"); the acts no reply may commit
(``bot.guard.acts``); personal data (``bot.guard.personal``); on a legal-flagged case, the
neutral holding statement (``bot.guard.holding``); on a safety-flagged case's first reply,
the instruction to stop using the product unless an approver gave a reason to drop it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.guard.acts import find_acts
from bot.guard.holding import keeps_stop_using, legal_problems
from bot.guard.model import Finding
from bot.guard.personal import personal_data
from bot.guard.words import Normalised, normalise

SAFETY_HOW = (
    'keep "please stop using the product" in the reply, or give the reason for removing it '
    "in the edit modal"
)


@dataclass(frozen=True)
class ReplyContext:
    """What the guard needs to know about the case a reply answers."""

    flags: frozenset[str] = frozenset()
    author_handle: str = ""
    own_handles: tuple[str, ...] = ()
    allowed_urls: tuple[str, ...] = ()
    banned_phrases: tuple[str, ...] = ()
    first_reply: bool = True
    safety_reason: str = ""

    @property
    def handles(self) -> tuple[str, ...]:
        return (self.author_handle, *self.own_handles)


def check_reply(text: str, context: ReplyContext = ReplyContext()) -> list[Finding]:
    """Every reason ``text`` may not go out as a public reply in ``context`` (none: it may)."""
    normalised = normalise(text)
    found = banned_phrases(normalised, context.banned_phrases)
    found += find_acts(normalised)
    found += personal_data(text, context.allowed_urls, context.handles)
    if "legal" in context.flags:
        found += legal_problems(normalised)
    if (
        "safety" in context.flags
        and context.first_reply
        and not context.safety_reason.strip()
        and not keeps_stop_using(normalised)
    ):
        found.append(Finding("safety_instruction", "", SAFETY_HOW, about="safety_reason"))
    return found


def banned_phrases(normalised: Normalised, phrases: Iterable[str]) -> list[Finding]:
    """The configured phrases the reply contains, as written or as normalised wording."""
    lowered = normalised.text.lower()
    found = []
    for phrase in phrases:
        if not phrase.strip():
            continue
        at = lowered.find(phrase.lower())
        if at != -1:
            found.append(Finding("banned_phrase", normalised.text[at : at + len(phrase)]))
            continue
        wording = normalise(phrase).line.strip(" ,.")
        if not wording:
            continue
        match = re.search(rf"(?<![^ ]){re.escape(wording)}(?![^ ])", normalised.line)
        if match:
            found.append(Finding("banned_phrase", normalised.quote(match.start(), match.end())))
    return found
