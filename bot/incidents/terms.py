"""Key terms: the content words of a complaint, which two complaints about one outage share
("checkout", "memphis", "kettle") and which make an incident's title.

Plain words, lower-cased, without personal data (emails, phones, cards, addresses), handles,
links, numbers, the brand's own names and the words every complaint uses; a plural "s"
dropped so "charges" meets "charge".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from bot.redact import mask_personal_data

WORD = re.compile(r"[a-z][a-z']+")
HANDLE_OR_LINK = re.compile(r"(?:[@#]|u/|/u/|https?://)\S+")
MASK = re.compile(r"\[(?:email|phone|card|address)\]")
_COMMON = """
    a about after again all also am an and any anyone are as at be been before being but by
    can cant can't could did didn't do does doesn't don't done else even ever every for from
    get gets got had has have having here how i i'm im i've if in into is isn't it it's its
    just keep keeps know like me more most my no nobody not now of off on once one only or
    other our out over please really same say says see seem seems so some still such than
    that the their them then there these they this those through to today too two up us
    very was wasn't we were what when where which while who why will with won't would yet
    you your you're yours anyone else guys hey hi thanks thank ok okay lol wtf omg
    again already time times day days week weeks hour hours minute minutes trying tried try
    going gone want need fix fixed work working works worked broken issue issues problem
    problems help anybody someone something anything nothing way since ago yesterday
    """
STOPWORDS = frozenset(_COMMON.split())
TITLE_TERMS = 4


def key_terms(text: str, ignore: Iterable[str] = ()) -> frozenset[str]:
    """The content words of ``text`` (``ignore``: the brand's names and handles)."""
    skip = {word.lower().lstrip("@") for word in ignore}
    # Personal data first (an email's name part would otherwise become a term), then the
    # marks that replaced it.
    plain = MASK.sub(" ", mask_personal_data(text))
    words = WORD.findall(HANDLE_OR_LINK.sub(" ", plain.lower()))
    found = set()
    for word in words:
        word = word.strip("'")
        if len(word) < 3 or word in STOPWORDS or word in skip:
            continue
        found.add(stem(word))
    return frozenset(found)


def stem(word: str) -> str:
    """A plural's singular, roughly: enough for two posts to share their words."""
    if word.endswith("ies") and len(word) > 5:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 4:
        return word[:-1]
    return word


def shared_terms(term_sets: Sequence[frozenset[str]], share: float = 0.5) -> list[str]:
    """The terms at least ``share`` of the sets hold, most common first (ties by name)."""
    counts = Counter(term for terms in term_sets for term in terms)
    needed = max(2, int(len(term_sets) * share + 0.999))
    common = [(-n, term) for term, n in counts.items() if n >= needed]
    return [term for _, term in sorted(common)]
