"""The acts a public reply may never commit, found in normalised wording (``bot.guard.words``).

Each sentence is read for four kinds of wording:

- *removal*: a change verb (delete, remove, edit, update, take down, reconsider, ...) on
  what the customer wrote (review, post, comment, tweet, rating, thread, feedback, ...),
  asked of the customer (imperative, "could you", "we'd love it if you", "time to") or
  said of their post as a state ("once the thread is gone", "your review should come down",
  "pending removal of your tweet"); the brand changing its own post is not one;
- *silence*: asking not to post or to hold off ("please don't post about this", "before you
  write a review", "keep this between us"), unless what is not to be posted is personal data
  ("please don't post your card number here");
- *solicitation*: asking for a positive review ("leave us a five-star review");
- *threat*: legal or other intimidation over what the customer wrote.

Then the sentence's act: a threat; an offer (a benefit such as a voucher, discount or cash
with removal, silence or solicitation); a conditional remedy (a refund, replacement or help
tied to removal or silence by "once", "if", "until", "and we'll", ...); otherwise the
removal or silence itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.guard.model import ACT_ORDER, Finding
from bot.guard.phrases import (
    BENEFIT,
    BRAND_SUBJECT,
    CHANGE,
    CONDITION,
    CUSTOMER_SUBJECT,
    DEL,
    DETERMINERS,
    FILLER,
    GONE,
    KEEP_HOW,
    LEGAL_STEP,
    LEGAL_TEAM,
    LINK_AFTER,
    NOT_A_VERB_AFTER,
    NOT_OBJ_AFTER,
    NP_STOP,
    OBJ,
    OWN,
    PERSONAL,
    POST_VERBS,
    PRONOUN,
    REMEDY,
    SAY_OBJECT,
    SAY_VERBS,
    SENTIMENT,
    SILENCE,
    STATE,
    STATE_GAP,
    THREAT,
    W,
    alt,
)
from bot.guard.words import Normalised

NEGATION = re.compile(
    r"(?<![^ ])(?:not|never|no obligation|no need|no pressure|nobody|no 1|no one|under no)"
    r"(?! (?:forget|hesitate|be afraid|be shy|mind))(?![^ ])"
)
WHY_NOT = re.compile(r"(?<![^ ])why not(?![^ ])")


def not_after(phrases: Iterable[str]) -> str:
    """Fixed-width lookbehinds: not right after any of these words."""
    return "".join(rf"(?<!\b{re.escape(phrase)} )" for phrase in sorted(set(phrases)))


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![^ ])(?:{pattern})(?![^ ])")


def _np(n: int = 4) -> str:
    """Up to ``n`` words of a noun phrase: no preposition, pronoun or clause word."""
    return rf"(?:(?!{alt(NP_STOP)} ){W} ){{0,{n}}}?"


_OBJ = rf"{alt(OBJ)}(?! {alt(NOT_OBJ_AFTER)}(?![^ ]))"
_VERB_HERE = not_after(NOT_A_VERB_AFTER)
REMOVAL_VERB = _rx(rf"{_VERB_HERE}(?P<verb>{alt(DEL + CHANGE)}) (?P<np>{_np()}){_OBJ}")
TAKE_DOWN = _rx(rf"{_VERB_HERE}(?:take|bring|get) {_np(3)}(?:{_OBJ}|{alt(PRONOUN)}) (?:down|off)")
PRONOUN_OBJECT = _rx(
    rf"{_VERB_HERE}(?P<verb>{alt(set(DEL + CHANGE) - {'pull'})}) (?:{alt(PRONOUN)})"
    r"(?! (?:from|off|out|and (?:re|install|reinstall|add|try|start|restart|download)|again)"
    r"(?![^ ]))"
)
# "the comments you left need to be deleted"
_YOU_WROTE = rf"(?:(?:that |which )?you (?:leave|write|post|make|put|give|share)(?: {W}){{0,2}}? )?"
STATE_OF = _rx(
    rf"{_OBJ} {_YOU_WROTE}(?:(?:{alt(STATE_GAP)} ){{1,4}}(?:{alt(STATE)}|go(?= ,|$| and| then))"
    rf"|{alt(GONE)})"
)
PART_OF = _rx(
    rf"{_VERB_HERE}(?P<verb>{alt(DEL + CHANGE)}) (?:{W} ){{0,6}}?(?:from|in|of|on|out of) "
    rf"(?:your|the|this|that) {_OBJ}"
)
GIVE_A = _rx(
    rf"give (?:your|the|that|this) {_OBJ} (?:a|an|another|some) (?:{W} )?"
    r"(?:refresh|update|edit|tweak|look|second look|rethink|revision|change|makeover|revisit)"
)
HAVE_IT = _rx(rf"(?:have|get) (?:it|this|that|them) (?:{alt(STATE)})")
NOMINAL = _rx(
    rf"(?:remove|delete|retract|edit|revise|change|update|correct|withdraw|take down|amend)"
    rf" (?:of|to|on) (?:your|the|this|that) {_np(2)}{_OBJ}"
)
ADJECTIVAL = _rx(
    r"(?:appreciate|love|hope|look forward to|like|welcome|want|need|ask for|request|expect"
    r"|exchange for|return for) (?:a|an|your|the|some) (?:revise|update|amend|correct|edit"
    rf"|change|better|high|higher|improve|kinder|5 star) {_OBJ}"
)
MADE_PRIVATE = _rx(
    rf"(?:make|set|mark|switch|turn) (?:your|the|this|that) {_np(2)}{_OBJ} "
    r"(?:private|hidden|invisible|friend only)"
)
NOT_POST = _rx(
    rf"(?:not|never|stop|refrain from|hold off on|hold off|avoid|quit|cease|no need to|no more)"
    rf" (?:{alt(FILLER)} ){{0,2}}(?P<verb>{alt(POST_VERBS + SAY_VERBS)})"
    rf"(?P<rest>(?: {W}){{0,5}})"
)
BEFORE_POST = _rx(
    rf"(?:before|wait to|hold off on|hold off) (?:you )?(?:{alt(FILLER)} )?"
    rf"(?:{alt(POST_VERBS + SAY_VERBS)}|the {_OBJ}|(?:a|your) {_OBJ})"
)
KEEP = _rx(
    rf"(?:keep|stay) (?:(?:this|it|that)(?: 1)?|thing|the matter|this matter|the issue"
    rf"|{_np(2)}{_OBJ})?"
    rf" ?{alt(KEEP_HOW)}"
)
SILENT = _rx(alt(SILENCE))
SOLICIT = _rx(
    rf"(?:leave|write|post|give|for|get) (?:us )?(?:a |an |your )?(?:{alt(SENTIMENT)} )+"
    rf"(?:{_OBJ})|(?:leave|write|post) us (?:a |an )?{_OBJ}"
    r"|rate (?:us |it |the [^ ,.]+ )?(?:5|4|high|highly|well|top|positively|positive)"
)
STAY_UP = _rx(
    rf"(?:while|as long as|so long as|until|if) (?:your|the|this|that) {_np(2)}{_OBJ} "
    r"(?:stay|remain|be|is) (?:up|live|online|visible|there|posted)"
)
THREATS = [_rx(pattern) for pattern in THREAT]
# "Our legal team will be in touch" is a threat only over what the customer wrote.
WEAK_THREAT = _rx(rf"{LEGAL_TEAM} (?:{W} ){{0,3}}{LEGAL_STEP}")
_OBJECT = _rx(_OBJ)
BENEFIT_RX = _rx(rf"(?<!\bfeel ){alt(BENEFIT)}")
HELP = r"(?<!\bwould )(?<!\bit )help(?! us(?![^ ])| if(?![^ ]))"  # not "it would help if"
REMEDY_RX = _rx(not_after(["be"]) + alt([*REMEDY, HELP]))
CONDITION_RX = re.compile(rf"(?<![^ ]){alt(CONDITION)}(?![^ ])")
LINK_RX = re.compile(rf"^ ?, ? ?{alt(LINK_AFTER)}|^ {alt(LINK_AFTER)}(?![^ ])")


SCOPE_ENDS = re.compile(
    r"(?<![^ ])(?:until|unless|if|once|when|after|before|and|but|then|so|because|since)(?![^ ])"
)
LOOK_BACK = 160
OWNED = re.compile(rf"(?<![^ ]){alt(OWN)} (?:{W} )?$")
OWN_RX = re.compile(rf"(?<![^ ]){alt(OWN)} ")
PERSONAL_RX = re.compile(rf"(?<![^ ]){alt(PERSONAL)}(?![^ ])")
SAY_OBJECT_RX = re.compile(rf"^ (?:{W} ){{0,2}}{alt(SAY_OBJECT)}(?![^ ])")
FOR_DOING = re.compile(r"(?<![^ ])(?:in (?:return|exchange) for|in return|for) $")


def _tail(sentence: str, at: int, size: int) -> str:
    """The whole words among the ``size`` characters before ``at``."""
    start = max(0, at - size)
    before = sentence[start:at]
    if start and sentence[start - 1] != " ":
        before = before[before.index(" ") + 1 :] if " " in before else ""  # no half word
    return before


def _clause_before(sentence: str, at: int) -> str:
    """The words of the clause that ends where a match starts (its last ``LOOK_BACK``
    characters: a subject or a negation is near its verb, and a long sentence stays linear)."""
    before = _tail(sentence, at, LOOK_BACK)
    return before[before.rfind(" , ") + 3 :] if " , " in before else before


def _subject(sentence: str, at: int) -> str:
    """Who does the verb at ``at``: "customer" (you, or no subject: an imperative or a
    request such as "time to", "how about", "in return for") or "brand" (we, I, our team)."""
    clause = _clause_before(sentence, at)
    if FOR_DOING.search(clause):
        return "customer"
    for word in reversed(clause.split()):
        if word in CUSTOMER_SUBJECT:
            return "customer"
        if word in BRAND_SUBJECT:
            return "brand"
    return "customer"


def _negated(sentence: str, at: int) -> bool:
    """Whether the words before ``at`` deny the request ("we'd never ask you to ..."); a
    negation before a condition ("we can't help until ...") does not reach past it."""
    clause = WHY_NOT.sub("", _clause_before(sentence, at))
    scope = SCOPE_ENDS.split(clause)[-1]
    return bool(NEGATION.search(scope))


def _owned(sentence: str, at: int) -> bool:
    """Whether the noun at ``at`` is the brand's own ("our post", "our earlier reply")."""
    return bool(OWNED.search(_tail(sentence, at, 40)))


def _first_object(line: str) -> int:
    """Where the reply first names something the customer wrote (for "update it"), or -1."""
    for match in _OBJECT.finditer(line):
        if not _owned(line, match.start()):
            return match.start()
    return -1


def _removals(sentence: str, first_object: int | None) -> list[re.Match[str]]:
    """Removal wording in a sentence; ``first_object`` is where (relative to the sentence,
    so possibly negative) the reply first names something the customer wrote, or None."""
    found: list[re.Match[str]] = []
    for match in REMOVAL_VERB.finditer(sentence):
        np = match.group("np").split()
        yours = "your" in np
        if _negated(sentence, match.start()) or sum(w in DETERMINERS for w in np) > 1:
            continue  # denied, or "fixed the issue your post described"
        asked = yours or _subject(sentence, match.start()) == "customer"
        if asked and not OWN_RX.search(match.group("np")):
            found.append(match)
    for match in TAKE_DOWN.finditer(sentence):
        if _subject(sentence, match.start()) == "customer" and not _negated(
            sentence, match.start()
        ):
            found.append(match)
    for match in PRONOUN_OBJECT.finditer(sentence):
        if _subject(sentence, match.start()) != "customer" or _negated(sentence, match.start()):
            continue
        deleting = match.group("verb") in DEL
        if deleting or (first_object is not None and first_object < match.start()):
            found.append(match)
    for match in PART_OF.finditer(sentence):
        if _subject(sentence, match.start()) == "customer" and not _negated(
            sentence, match.start()
        ):
            found.append(match)
    for match in HAVE_IT.finditer(sentence):
        if first_object is not None and first_object < match.start():
            found.append(match)
    for pattern in (STATE_OF, NOMINAL, ADJECTIVAL, MADE_PRIVATE, STAY_UP, GIVE_A):
        for match in pattern.finditer(sentence):
            own = pattern is STATE_OF and _owned(sentence, match.start())
            if not own and not _negated(sentence, match.start()):
                found.append(match)
    return found


def _silences(sentence: str) -> list[re.Match[str]]:
    found: list[re.Match[str]] = []
    for match in NOT_POST.finditer(sentence):
        if _subject(sentence, match.start()) == "brand":
            continue
        rest = match.group("rest").split(" , ")[0]
        if PERSONAL_RX.search(rest):
            continue
        if match.group("verb") in SAY_VERBS and not SAY_OBJECT_RX.search(rest + " "):
            continue
        found.append(match)
    found += list(BEFORE_POST.finditer(sentence))
    for match in KEEP.finditer(sentence):
        personal = PERSONAL_RX.search(match.group(0))
        if not personal and _subject(sentence, match.start()) != "brand":
            found.append(match)
    found += list(SILENT.finditer(sentence))
    return found


def _conditional(sentence: str, match: re.Match[str]) -> bool:
    """Whether the removal or silence at ``match`` is a condition of something else."""
    if match.re is STAY_UP:
        return True
    before = _clause_before(sentence, match.start()).split()[-7:]
    if CONDITION_RX.search(" ".join(before)):
        return True
    return bool(LINK_RX.search(sentence[match.end() : match.end() + 40]))


def _act(sentence: str, removals: list[re.Match[str]], silences: list[re.Match[str]]) -> str:
    benefit = BENEFIT_RX.search(sentence)
    remedy = REMEDY_RX.search(sentence)
    if benefit and (removals or silences):
        return "pay_for_review"
    if any(m.re is SILENT for m in silences) and (benefit or remedy):
        return "pay_for_review" if benefit else "conditional_remedy"
    if remedy and any(_conditional(sentence, m) for m in removals + silences):
        return "conditional_remedy"
    return "stop_posting" if silences and not removals else "remove_or_change_review"


def find_acts(normalised: Normalised) -> list[Finding]:
    """Every sentence that commits an act, with the act and its words (most serious first)."""
    findings: list[Finding] = []
    first_object = _first_object(normalised.line)
    for start, sentence in normalised.sentences():
        threats = [m for rx in THREATS for m in rx.finditer(sentence)]
        if _OBJECT.search(sentence) or " or " in f" {sentence} ":
            threats += list(WEAK_THREAT.finditer(sentence))
        if threats:
            first = min(threats, key=lambda m: m.start())
            findings.append(_finding("threat", normalised, start, first))
            continue
        removals = _removals(sentence, None if first_object < 0 else first_object - start)
        silences = _silences(sentence)
        solicits = list(SOLICIT.finditer(sentence))
        if solicits and (BENEFIT_RX.search(sentence) or REMEDY_RX.search(sentence)):
            findings.append(_finding("pay_for_review", normalised, start, solicits[0]))
            continue
        if not (removals or silences):
            continue
        act = _act(sentence, removals, silences)
        first = min(removals + silences, key=lambda m: m.start())
        findings.append(_finding(act, normalised, start, first))
    order = {act: index for index, act in enumerate(ACT_ORDER)}
    return sorted(findings, key=lambda f: order.get(f.act, len(order)))


def _finding(act: str, normalised: Normalised, offset: int, match: re.Match[str]) -> Finding:
    return Finding(act, normalised.quote(offset + match.start(), offset + match.end()))
