"""Personal data in a public reply, found by the redaction's own detectors (``bot.redact``).

``mask_personal_data`` is what masks e-mail addresses, phone numbers, card numbers and street
addresses in Slack cards, digests and logs; a reply is run through it, and whatever it would
mask is personal data the reply may not carry. ``mask_handles`` finds @handles and Reddit
u/names: the author's own handle and the brand's accounts are allowed (a reply addresses its
author), anyone else's is not. The brand's support and privacy URLs are allowed, so digits in
them are never read as a phone number.

The redaction has no order-number detector (a 10-digit order number it masks as a phone
number), so this module adds one for replies: an identifier with digits after "order",
"invoice", "tracking", "account" or "reference", or after "#".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from bot.guard.model import Finding
from bot.redact import (
    ADDRESS_MASK,
    CARD_MASK,
    EMAIL_MASK,
    HANDLE_MASK,
    PHONE_MASK,
    REDDIT_USER_MASK,
    mask_handles,
    mask_personal_data,
)

KINDS = {
    EMAIL_MASK: "an e-mail address",
    PHONE_MASK: "a phone number",
    CARD_MASK: "a card number",
    ADDRESS_MASK: "a street address",
    HANDLE_MASK: "another person's @handle",
    REDDIT_USER_MASK: "another person's Reddit username",
}
ORDER_NUMBER = re.compile(
    r"\b(?:order|invoice|tracking|account|acct|reference|ref|confirmation|receipt)"
    r"(?:\s*+(?:number|no\.?|num|nr|id|code))?\s*+[:#]?\s*+"
    r"(?=[A-Z0-9-]{0,30}\d)[A-Z0-9][A-Z0-9-]{3,30}\b"
    r"|(?<![\w&])#\s?\d{4,}\b",
    re.IGNORECASE,
)
PLACEHOLDER = "\x00"  # stands in for an allowed URL, which the detectors never match
MASKS = re.compile(
    "(" + "|".join(re.escape(mask) for mask in sorted(KINDS, key=len, reverse=True)) + ")"
)
LONGEST_ITEM = 400  # longer than any e-mail address (254), phone, card or street address


def personal_data(
    text: str, allowed_urls: Iterable[str] = (), allowed_handles: Iterable[str] = ()
) -> list[Finding]:
    """What in ``text`` is personal data, one finding per item, in order."""
    for url in sorted({u for u in allowed_urls if u}, key=len, reverse=True):
        text = text.replace(url, PLACEHOLDER)
    found = [(at, quote, kind) for at, quote, kind in _masked(text, mask_personal_data)]
    allowed = {h.lower().lstrip("@").removeprefix("u/") for h in allowed_handles if h}
    for at, quote, kind in _masked(text, mask_handles):
        if not _names_one_of(text[at:].lower(), allowed):
            found.append((at, quote, kind))
    for match in ORDER_NUMBER.finditer(text):
        if not any(at <= match.start() < at + len(quote) for at, quote, _ in found):
            found.append((match.start(), match.group(0), "an order or account number"))
    return [
        Finding("personal_data", quote.strip(), detail=kind)
        for _, quote, kind in sorted(found, key=lambda item: item[0])
    ]


def _names_one_of(text: str, handles: set[str]) -> bool:
    """Whether ``text`` starts with one of the handles, as "@name", "u/name" or "/u/name" (a
    Reddit name may have a "-", where the redaction's @handle pattern stops)."""
    name = text.lstrip("/").removeprefix("@").removeprefix("u/")
    return any(
        name.startswith(handle) and not re.match(r"[\w-]", name[len(handle) : len(handle) + 1])
        for handle in handles
    )


def _masked(text: str, mask: Callable[[str], str]) -> list[tuple[int, str, str]]:
    """Where ``mask`` replaced something in ``text`` with one of its masks, and what.

    The masked text is the original with some spans replaced: literal, mask, literal, ...
    Each span ends where the literal after it starts, at the first place where the span
    alone is still something the mask replaces (a phone number "415 555 0134" followed by
    " " is not cut at its first space). Linear in the text: a 10,000-character reply with
    a hundred addresses in it takes milliseconds."""
    masked = mask(text)
    if masked == text:
        return []
    parts = MASKS.split(masked)
    if not text.startswith(parts[0]):
        return [(0, text, KINDS[parts[1]])]
    found = []
    position = len(parts[0])
    for index in range(1, len(parts), 2):
        literal = parts[index + 1]
        if index + 2 >= len(parts):
            end = len(text) - len(literal)
        else:
            end = _span_end(text, position, literal, mask)
        quote = text[position:end]
        if quote and quote not in KINDS:  # a mask's own text typed into the reply is no data
            found.append((position, quote, KINDS[parts[index]]))
        position = end + len(literal)
    return found


def _span_end(text: str, start: int, literal: str, mask: Callable[[str], str]) -> int:
    first = candidate = text.find(literal, start + 1)
    while candidate != -1 and candidate - start <= LONGEST_ITEM:
        if mask(text[start:candidate]) != text[start:candidate]:
            return candidate
        candidate = text.find(literal, candidate + 1)
    return first if first != -1 else len(text)
