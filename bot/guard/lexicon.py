"""The words the reply guard reads, and how their inflected forms fold into one lemma.

Patterns (``bot.guard.acts``, ``bot.guard.holding``) are written in base forms. ``LEMMAS``
maps every regular inflection of those base forms (-s, -es, -ed, -ing, with a doubled
final consonant or a dropped e), the irregular ones, and a few derived nouns to the base,
so "deleting", "deleted", "deletion" and "deletes" all read as ``delete``.
"""

from __future__ import annotations

from collections.abc import Iterable


def _split(text: str) -> list[str]:
    return text.split()


# Verbs and nouns the patterns use, in base form.
VERBS = _split(
    """
delete remove erase scrub wipe pull hide unpublish archive withdraw retract recant nuke
edit change update revise amend modify alter adjust tweak rewrite redo reword rephrase
correct fix soften reconsider rethink raise bump upgrade improve increase boost swap
switch flip tone walk take bring get put make set mark come go disappear vanish stay
remain keep post tweet retweet write leave publish share review comment complain talk
rant vent mention tell say spread rate star ask request urge encourage invite need want
like love hope beg recommend suggest advise appreciate consider mind wait hold refrain
avoid stop quit cease offer give send pay reward compensate refund reimburse credit
replace ship process issue sort help resolve cover expedite look talk follow handle
throw add sign agree sue report threaten pursue face regret hear notify involve contact
lose damage break fail revisit reassess discuss refresh flag cut mess screw goof foul drop
concede assume overcharge violate breach mislead injure burn hurt admit accept acknowledge
apologise apologize blame settle use discontinue unplug wear charge operate touch eat drink
apply consume plug expect depend
"""
)
NOUNS = _split(
    """
review post comment tweet retweet rating feedback thread reply rant complaint story
statement remark word star submission photo picture pic video testimonial opinion
wording lie accusation claim criticism point gift voucher coupon discount card point
credit refund replacement upgrade bonus perk reward freebie lawyer attorney solicitor
consequence remedy option right defect mistake error fault dollar buck agreement
screenshot image clip matter
"""
)
IRREGULAR = {
    "took": "take",
    "taken": "take",
    "brought": "bring",
    "got": "get",
    "gotten": "get",
    "made": "make",
    "came": "come",
    "went": "go",
    "kept": "keep",
    "wrote": "write",
    "written": "write",
    "left": "leave",
    "said": "say",
    "told": "tell",
    "gave": "give",
    "given": "give",
    "sent": "send",
    "paid": "pay",
    "threw": "throw",
    "thrown": "throw",
    "lost": "lose",
    "broke": "break",
    "broken": "break",
    "withdrew": "withdraw",
    "withdrawn": "withdraw",
    "rewrote": "rewrite",
    "rewritten": "rewrite",
    "redid": "redo",
    "redone": "redo",
    "undid": "undo",
    "undone": "undo",
    "held": "hold",
    "misled": "mislead",
    "burnt": "burn",
    "hidden": "hide",
    "hid": "hide",
    "sought": "seek",
    "heard": "hear",
    "did": "do",
    "done": "do",
    "does": "do",
    "doing": "do",
    "has": "have",
    "had": "have",
    "having": "have",
    "is": "be",
    "are": "be",
    "was": "be",
    "were": "be",
    "been": "be",
    "being": "be",
    "am": "be",
    "ran": "run",
    "removal": "remove",
    "deletion": "delete",
    "retraction": "retract",
    "revision": "revise",
    "amendment": "amend",
    "modification": "modify",
    "alteration": "alter",
    "correction": "correct",
    "withdrawal": "withdraw",
    "takedown": "take down",
    "takedowns": "take down",
    "erasure": "erase",
    "reconsideration": "reconsider",
    "compensation": "compensate",
    "reimbursement": "reimburse",
    "disappearance": "disappear",
    "posting": "post",
    "postings": "post",
    "comments": "comment",
    "commenting": "comment",
    "reviewing": "review",
    "reviewed": "review",
    "reviews": "review",
    "apologies": "apologise",
    "libellous": "libel",
    "libelous": "libel",
    "slanderous": "slander",
    "defamatory": "defame",
    "defamation": "defame",
    "stars": "star",
    "starred": "star",
    "lies": "lie",
    "lied": "lie",
    "lying": "lie",
}
# A ``'s`` after these is "is" (it's, that's); after anything else it is a possessive.
CONTRACTED_IS = frozenset(
    _split("it that what there here he she who where how when everything nothing")
)
NUMBER_WORDS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "5star": "5 star",
    "1star": "1 star",
}
SLANG = {
    "pls": "please",
    "plz": "please",
    "plse": "please",
    "u": "you",
    "ur": "your",
    "ya": "you",
    "y'all": "you",
    "gonna": "going to",
    "wanna": "want to",
    "gotta": "have to",
    "lemme": "let me",
    "thx": "thanks",
    "ty": "thanks",
    "cannot": "can not",
}
VOWELS = "aeiou"


def _forms(base: str) -> set[str]:
    """The regular inflections of one base form."""
    forms = {base + "s", base + "ed", base + "ing"}
    if base.endswith(("s", "sh", "ch", "x", "z", "o")):
        forms.add(base + "es")
    if base.endswith("e"):
        forms |= {base + "d", base[:-1] + "ing"}
    if base.endswith("y") and len(base) > 2 and base[-2] not in VOWELS:
        forms |= {base[:-1] + "ies", base[:-1] + "ied"}
    if (
        len(base) >= 3
        and base[-1] not in VOWELS + "wxy"
        and base[-2] in VOWELS
        and base[-3] not in VOWELS
    ):
        forms |= {base + base[-1] + "ed", base + base[-1] + "ing"}
    return forms


def _table(bases: Iterable[str]) -> dict[str, str]:
    table: dict[str, str] = {}
    for base in bases:
        for form in _forms(base):
            table.setdefault(form, base)
    # A word that is itself a base form is never folded into another base.
    for base in bases:
        table.pop(base, None)
    return table


LEMMAS: dict[str, str] = {**_table([*VERBS, *NOUNS]), **IRREGULAR}
