"""The reply guard: what a public reply may never say, read from its wording, not its
strings (``check_reply``); the acts and rules it names are in ``bot.guard.model``."""

from bot.guard.acts import find_acts
from bot.guard.check import ReplyContext, banned_phrases, check_reply
from bot.guard.holding import keeps_stop_using
from bot.guard.model import ACTS, WORDING_ACTS, Act, Finding
from bot.guard.words import normalise

__all__ = [
    "ACTS",
    "WORDING_ACTS",
    "Act",
    "Finding",
    "ReplyContext",
    "banned_phrases",
    "check_reply",
    "find_acts",
    "keeps_stop_using",
    "normalise",
]
