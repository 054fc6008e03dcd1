"""Redaction for text that leaves the case record: Slack cards, digests and logs.

Posts are public, but the policy still masks emails, phone numbers, card
numbers and street addresses wherever the bot repeats them, and escapes
everything it hands to Slack mrkdwn so a post can't ping ``@channel`` or
forge a link. The patterns lean towards masking too much: a 10-digit order
number masked as ``[phone]`` costs nothing, a leaked phone number does.
"""

from __future__ import annotations

import re
from collections.abc import Callable

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"
CARD_MASK = "[card]"
ADDRESS_MASK = "[address]"
HANDLE_MASK = "@[handle]"
REDDIT_USER_MASK = "u/[user]"

# Every pattern runs in time linear in the text: Python's ``re`` backtracks, and a pattern
# such as ``[\w.]+@`` retried from every position of a long run of word characters with no
# ``@`` costs the square of the run (0.7 s on 5,000 characters, minutes on 100 KB). So a
# run the pattern must consume whole can only be entered at its start (a lookbehind for the
# run's own characters), runs are consumed possessively (``++``, ``*+``: never given back
# when the rest fails), and what can start anywhere is bounded. bench/redaction.py times
# them on 1 MB of adversarial text.
_LOCAL_PART = r"[A-Za-z0-9._%+-]++"
_LABEL = r"[A-Za-z0-9-]++"
_EMAIL_HERE = (
    rf"(?:{_LOCAL_PART}@{_LABEL}(?:\.{_LABEL})++"
    rf"|{_LOCAL_PART}\s*+[(\[]at[)\]]\s*+{_LABEL}(?:\s*+[(\[]dot[)\]]\s*+{_LABEL})++)"
)
# Where a search may start: at the start of a run of local-part characters. Every other
# start in the run reaches the same "@" and fares the same (see _mask_emails).
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])" + _EMAIL_HERE, re.IGNORECASE)
# After a match that ended inside such a run ("a@b.co+c@d.com"), the next may start there.
_EMAIL_AT = re.compile(_EMAIL_HERE, re.IGNORECASE)
# 13 to 19 digits, optionally grouped by spaces or dashes (every card scheme's length). The
# pattern opens with the digit and checks the one before it afterwards (``(?<!\d\d)``, the
# same as ``(?<!\d)\d``), so the search skips to the next digit in C; same for addresses.
_CARD = re.compile(r"\d(?<!\d\d)(?:[ -]?\d){12,18}(?!\d)")
_PHONE = re.compile(
    r"""
    (?<![\w+])
    (?:
        \+\d{1,3}[\s.-]?(?:\(?\d{1,4}\)?[\s.-]?){2,4}\d{2,4}   # international: +44 20 7946 0958
      | (?:1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}        # North American: (415) 555-0134
      | \d{3}[.-]\d{4}                                        # local: 555-0134
    )
    (?:\s*+(?:x|ext\.?)\s*+\d{1,5})?                            # extension
    (?!\w)
    """,
    re.VERBOSE | re.IGNORECASE,
)
_HOUSE_NUMBER = r"\d(?<!\w.)\d{0,5}+[A-Za-z]?(?:\s++(?=[NSEW])(?:[NSEW]\.?|North|South|East|West))?"
_UNIT = r"(?:,?\s*+(?:apt|apartment|unit|suite|ste|\#)\.?\s*+[\w-]++)?"
# The street type is tried after each of up to four words; a lookahead on its first letter
# skips the alternatives where none can match (1 MB of "1 1 1 ..." in 0.16 s, not 0.4).
# Abbreviated street types rarely end an ordinary phrase, so any street name will do ...
_ADDRESS_ABBREVIATED = re.compile(
    _HOUSE_NUMBER + r"(?:\s++[A-Za-z0-9][\w'.-]*+){1,4}?"
    r"\s++(?=[abcdhlprst])(?:st|ave|rd|blvd|ln|dr|ct|hwy|pkwy|pl|ter|cir|trl|sq)\b\.?" + _UNIT,
    re.IGNORECASE,
)
# ... but "3 days on the way" is no address: spelled-out types need a capitalised name.
_ADDRESS_SPELLED = re.compile(
    _HOUSE_NUMBER + r"(?:\s++[A-Z0-9][\w'.-]*+){1,4}?"
    r"\s++(?=[abcdhlprstwABCDHLPRSTW])"
    r"(?i:street|avenue|road|boulevard|lane|drive|court|way|place|terrace|circle|highway"
    r"|parkway|square|trail|alley)\b" + "(?i:" + _UNIT + ")",
)
_PO_BOX = re.compile(r"\bP\.?\s*+O\.?\s*+Box\s++\d++\b", re.IGNORECASE)
_HANDLE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{1,50}")
_REDDIT_USER = re.compile(r"(?<![\w/])/?u/[A-Za-z0-9_-]{2,30}", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
# Longer than any one match of the patterns above in real text (an email address is at most
# 254 characters): text this far before a cut is masked as it is in the whole text.
_CUT_MARGIN = 1000
_LUHN_DOUBLED = str.maketrans("0123456789", "0246813579")  # 2d, less 9 when over 9


def _luhn_valid(digits: str) -> bool:
    """Every payment card number passes the Luhn check; nine in ten post or order ids don't."""
    doubled = digits[-2::-2].translate(_LUHN_DOUBLED)
    return (sum(map(int, digits[-1::-2])) + sum(map(int, doubled))) % 10 == 0


def _mask_card(match: re.Match[str]) -> str:
    digits = match.group(0).replace(" ", "").replace("-", "")
    if not digits.isascii():  # other scripts' digits, as \d matches them
        digits = "".join(str(int(char)) for char in digits)
    return CARD_MASK if _luhn_valid(digits) else match.group(0)


def _mask_emails(text: str) -> str:
    """``re.sub`` of the email pattern, with searches entering a run of local-part characters
    only at its start or where the previous match ended, as a plain ``sub`` would (which
    retries every position of the run: quadratic when the run has no "@")."""
    parts: list[str] = []
    position = 0
    while match := _EMAIL.search(text, position):
        parts += (text[position : match.start()], EMAIL_MASK)
        position = match.end()
        while match := _EMAIL_AT.match(text, position):
            parts.append(EMAIL_MASK)
            position = match.end()
    if not parts:
        return text
    parts.append(text[position:])
    return "".join(parts)


def mask_personal_data(text: str) -> str:
    """Mask emails, card numbers, phone numbers and street addresses (in that order, so a card
    number is not half-eaten as a phone number)."""
    text = _mask_emails(text)
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


def mask_start(text: str, length: int, mask: Callable[[str], str] = mask_personal_data) -> str:
    """The start of ``mask(text)``: more than ``length`` characters of it once whitespace is
    collapsed (all of it for a shorter text), at a cost set by ``length``, not by the text: a
    100 KB post costs what one of a few KB does.

    Masking a cut-off start would leave what the cut splits (half an email, the first digits
    of a phone number) unmasked, so the start is masked cut at two points ``_CUT_MARGIN``
    apart and only what both results agree on is kept.
    """
    window = length + _CUT_MARGIN
    while len(text) > window + _CUT_MARGIN:
        start = _common_start(mask(text[:window]), mask(text[: window + _CUT_MARGIN]))
        if len(_SPACE.sub(" ", start).strip()) > length:
            return start
        window *= 4
    return mask(text)


def _common_start(one: str, other: str) -> str:
    """The longest common prefix (found by bisection: slices compare in C)."""
    low, high = 0, min(len(one), len(other))
    while low < high:
        middle = (low + high + 1) // 2
        if one[:middle] == other[:middle]:
            low = middle
        else:
            high = middle - 1
    return one[:low]


def shorten_masked(text: str, limit: int, mask: Callable[[str], str] = mask_personal_data) -> str:
    """``shorten(mask(text), limit)``, masking no more of a long text than it shows."""
    return shorten(mask_start(text, limit, mask), limit)
