"""What a reply must and must not say on risk-flagged cases, read from normalised wording.

Legal-flagged cases (policy: "the suggested reply is only a neutral holding statement"):
a reply may thank, acknowledge, say the matter has been passed on and point to the support
link. Two things make it more than that, and are refused:

1. **Admitting fault or liability** — "our fault", "our mistake", "we messed up", "we were
   wrong", "we are responsible / liable / to blame / at fault / negligent", "we take full
   responsibility", "we admit", "the product is defective / faulty / unsafe", "we broke /
   lost / damaged / overcharged", "we should have", "we failed to".
2. **Promising money** — an amount ($, dollars, %), "full refund", "money back",
   "compensation", "settlement", "damages", or a commitment ("we will / can / have / are
   happy to", "you will get") to refund, reimburse, compensate, pay, credit, or give a
   voucher, gift card, discount or coupon.

An apology without an admission ("we're sorry you had this experience") stays allowed.

Safety-flagged cases: the first public reply keeps the instruction to stop using the
product ("stop using", "do not use", "discontinue use", "unplug it", ...), unless an approver
removes it and says why.
"""

from __future__ import annotations

import re

from bot.guard.model import Finding
from bot.guard.words import Normalised

W = r"[^ ,.][^ ]*"
WE = r"(?:we|i|our team|the company)"
ADMISSIONS = [
    r"(?:our|my) (?:own )?(?:fault|mistake|error|bad|negligence|failure|screw up|mess up)",
    rf"{WE} (?:have |would )?(?:be |have be )?(?:entirely |fully |totally |partly )?"
    r"(?:at fault|to blame|responsible|liable|negligent|in the wrong|wrong|guilty)",
    rf"{WE} (?:have )?(?:make|made) (?:a |an |some |several |a big |a serious )?"
    r"(?:mistake|error|blunder)",
    rf"{WE} (?:have )?(?:really |totally |clearly )?(?:mess|screw|goof|foul) (?:up|this up|it up)",
    rf"{WE} (?:have )?drop the ball",
    rf"{WE} (?:have )?get (?:this|it|that) wrong",
    r"(?:we|i) (?:fully |hereby |openly )?(?:admit|concede)",
    rf"{WE} (?:fully )?(?:accept|take|assume|acknowledge) (?:full |all |complete |total )?"
    r"(?:the )?(?:responsibility|liability|blame|fault)",
    r"(?:product|item|it|this|heater|unit|device|jacket|batch|charger|model) (?:be|was|is) "
    r"(?:clearly |definitely |indeed )?(?:defective|faulty|unsafe|dangerous|broken by us)",
    r"defect(?:ive)?",
    rf"{WE} (?:have )?(?:break|damage|lose|overcharge|violate|breach|mislead|injure|burn|hurt)",
    rf"{WE} (?:should|should not|ought to) have",
    rf"{WE} (?:have )?fail (?:to|you)",
    r"liability",
]
MONEY_WORDS = (
    r"(?:refund|reimburse|compensate|pay|payment|money|credit|voucher|gift card|discount"
    r"|coupon|cash|settle|settlement|cover the cost|free of charge|make it up to you"
    r"|make this up to you|on us)"
)
PROMISES = [
    r"MONEY",
    r"PERCENT",
    r"full refund|money back|compensate|settlement|settle|pay (?:for )?(?:the |your |any )?damage",
    rf"(?:we|i|our team) (?:will|would|can|could|be going to|shall|be happy to|be glad to"
    rf"|would like to|want to|have|be|will be|can also) (?:{W} ){{0,6}}?{MONEY_WORDS}",
    rf"you (?:will|would|be going to|can|should) (?:get|receive|be|have) (?:{W} ){{0,3}}?"
    rf"{MONEY_WORDS}",
    r"(?:refund|reimbursement|compensation|credit|payment|voucher) (?:be|will be|have be) "
    r"(?:on (?:its|the) way|coming|approve|issue|guarantee|process|send|sent|yours)",
    r"let us (?:refund|reimburse|compensate|pay|credit)",
]
STOP_USING = [
    r"(?:stop|discontinue|cease|quit|avoid) (?:use|wear|charge|operate|eat|drink|apply"
    r"|consume|plug|run|turn on|switch on)",
    rf"(?:not|never) (?:{W} )?(?:use|wear|charge|operate|touch|eat|drink|apply|consume"
    r"|plug|turn on|switch on)",
    r"unplug",
    r"discontinue",
    r"(?:put|set) (?:it|the [^ ,.]+) aside",
    r"(?:keep|stay) away from (?:it|the)",
]


def _rx(patterns: list[str]) -> re.Pattern[str]:
    return re.compile(r"(?<![^ ])(?:" + "|".join(patterns) + r")(?![^ ])")


ADMISSION_RX = _rx(ADMISSIONS)
PROMISE_RX = _rx(PROMISES)
STOP_USING_RX = _rx(STOP_USING)


def legal_problems(normalised: Normalised) -> list[Finding]:
    """Why a reply on a legal-flagged case is more than a neutral holding statement."""
    found = []
    for act, rx in (("legal_admission", ADMISSION_RX), ("legal_money", PROMISE_RX)):
        match = rx.search(normalised.line)
        if match:
            found.append(Finding(act, normalised.quote(match.start(), match.end())))
    return found


def keeps_stop_using(normalised: Normalised) -> bool:
    """Whether the reply tells the customer to stop using the product."""
    return bool(STOP_USING_RX.search(normalised.line))
