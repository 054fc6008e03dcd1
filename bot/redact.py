"""Redaction for text that leaves the case record: Slack cards, digests and logs.

Posts are public, but the policy still masks emails, phone numbers, card
numbers and street addresses wherever the bot repeats them, and escapes
everything it hands to Slack mrkdwn so a post can't ping ``@channel`` or
forge a link. The patterns lean towards masking too much: a 10-digit order
number masked as ``[phone]`` costs nothing, a leaked phone number does.
"""

from __future__ import annotations

import re

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"
CARD_MASK = "[card]"
ADDRESS_MASK = "[address]"
HANDLE_MASK = "@[handle]"
REDDIT_USER_MASK = "u/[user]"

_EMAIL = re.compile(
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
    r"|[A-Za-z0-9._%+-]+\s*[(\[]at[)\]]\s*[A-Za-z0-9-]+(?:\s*[(\[]dot[)\]]\s*[A-Za-z0-9-]+)+",
    re.IGNORECASE,
)
# 13 to 19 digits, optionally grouped by spaces or dashes (every card scheme's length).
_CARD = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")
_PHONE = re.compile(
    r"""
    (?<![\w+])
    (?:
        \+\d{1,3}[\s.-]?(?:\(?\d{1,4}\)?[\s.-]?){2,4}\d{2,4}   # international: +44 20 7946 0958
      | (?:1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}        # North American: (415) 555-0134
      | \d{3}[.-]\d{4}                                        # local: 555-0134
    )
    (?:\s*(?:x|ext\.?)\s*\d{1,5})?                              # extension
    (?!\w)
    """,
    re.VERBOSE | re.IGNORECASE,
)
_HOUSE_NUMBER = r"\b\d{1,6}[A-Za-z]?(?:\s+(?:[NSEW]\.?|North|South|East|West))?"
_UNIT = r"(?:,?\s*(?:apt|apartment|unit|suite|ste|\#)\.?\s*[\w-]+)?"
# Abbreviated street types rarely end an ordinary phrase, so any street name will do ...
_ADDRESS_ABBREVIATED = re.compile(
    _HOUSE_NUMBER + r"(?:\s+[A-Za-z0-9][\w'.-]*){1,4}?"
    r"\s+(?:st|ave|rd|blvd|ln|dr|ct|hwy|pkwy|pl|ter|cir|trl|sq)\b\.?" + _UNIT,
    re.IGNORECASE,
)
# ... but "3 days on the way" is no address: spelled-out types need a capitalised name.
_ADDRESS_SPELLED = re.compile(
    _HOUSE_NUMBER + r"(?:\s+[A-Z0-9][\w'.-]*){1,4}?"
    r"\s+(?i:street|avenue|road|boulevard|lane|drive|court|way|place|terrace|circle|highway"
    r"|parkway|square|trail|alley)\b" + "(?i:" + _UNIT + ")",
)
_PO_BOX = re.compile(r"\bP\.?\s*O\.?\s*Box\s+\d+\b", re.IGNORECASE)
_HANDLE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{1,50}")
_REDDIT_USER = re.compile(r"(?<![\w/])/?u/[A-Za-z0-9_-]{2,30}", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def _luhn_valid(digits: str) -> bool:
    """Every payment card number passes the Luhn check; nine in ten post or order ids don't."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return CARD_MASK if _luhn_valid(digits) else match.group(0)


def mask_personal_data(text: str) -> str:
    """Mask emails, card numbers, phone numbers and street addresses (in that order, so a card
    number is not half-eaten as a phone number)."""
    text = _EMAIL.sub(EMAIL_MASK, text)
    text = _CARD.sub(_mask_card, text)
    text = _PHONE.sub(PHONE_MASK, text)
    text = _PO_BOX.sub(ADDRESS_MASK, text)
    text = _ADDRESS_ABBREVIATED.sub(ADDRESS_MASK, text)
    return _ADDRESS_SPELLED.sub(ADDRESS_MASK, text)


def mask_handles(text: str) -> str:
    """Mask ``@handles`` and Reddit ``u/names``: quotes in reports never name people."""
    text = _HANDLE.sub(HANDLE_MASK, text)
    return _REDDIT_USER.sub(REDDIT_USER_MASK, text)


def escape_mrkdwn(text: str) -> str:
    """Escape the three characters Slack reserves for links, mentions and entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def shorten(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters, cut at a word boundary with an ellipsis."""
    text = _SPACE.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:-") + "…"
