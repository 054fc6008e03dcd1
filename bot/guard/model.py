"""What the reply guard finds: the act a reply commits, the rule it breaks, and its words."""

from __future__ import annotations

from dataclasses import dataclass

REVIEW_LAW = (
    "Civ. Code 1670.8; FTC 16 CFR 465.7 (review suppression); "
    "the Consumer Review Fairness Act, 15 U.S.C. 45b"
)
PAID_REVIEW_LAW = (
    "FTC 16 CFR 465.4 (buying or suppressing reviews); Civ. Code 1670.8; "
    "the Consumer Review Fairness Act"
)
POLICY = "the complaints policy"


@dataclass(frozen=True)
class Act:
    """One kind of wording the guard refuses: its id, what it does, and the rule."""

    id: str
    does: str
    rule: str


ACTS = {
    act.id: act
    for act in (
        Act(
            "remove_or_change_review",
            "asks the customer to delete, edit, change or take down their review, post or "
            "comment (or says we removed it)",
            REVIEW_LAW,
        ),
        Act(
            "stop_posting",
            "asks the customer not to post, to hold off on a review or comment, or to keep "
            "quiet about it",
            REVIEW_LAW,
        ),
        Act(
            "pay_for_review",
            "offers something in exchange for a review, a change to one, or silence",
            PAID_REVIEW_LAW,
        ),
        Act(
            "conditional_remedy",
            "makes a remedy (refund, replacement, help) conditional on removing or changing a "
            "post, or on silence",
            f"{REVIEW_LAW}; FTC 16 CFR 465.4",
        ),
        Act(
            "threat",
            "threatens the customer (legal action, reports, intimidation) over what they wrote",
            "FTC 16 CFR 465.7(a) (legal threats and intimidation); Civ. Code 1670.8",
        ),
        Act(
            "banned_phrase",
            "uses wording this installation bans ([policy.replies] banned_phrases)",
            f"{POLICY} ([policy.replies] banned_phrases)",
        ),
        Act(
            "personal_data",
            "puts personal data in a public reply",
            f"{POLICY}: no personal data in public replies; details go to a private channel",
        ),
        Act(
            "legal_admission",
            "admits fault or liability on a legal-flagged case",
            f"{POLICY}: on a legal-flagged case the reply is only a neutral holding statement",
        ),
        Act(
            "legal_money",
            "promises money or compensation on a legal-flagged case",
            f"{POLICY}: on a legal-flagged case the reply is only a neutral holding statement",
        ),
        Act(
            "safety_instruction",
            "drops the instruction to stop using the product from the first reply to a "
            "safety report",
            f"{POLICY}: the first reply to a safety report tells the customer to stop using "
            "the product (an approver may remove it only with a reason)",
        ),
    )
}
# The wording acts no reply may commit, whatever else the case is (the written policy lists
# them in its response templates appendix).
WORDING_ACTS = (
    "remove_or_change_review",
    "stop_posting",
    "pay_for_review",
    "conditional_remedy",
    "threat",
)
# When one sentence commits several acts, the most specific is named first.
ACT_ORDER = ("threat", "pay_for_review", "conditional_remedy", "stop_posting")


@dataclass(frozen=True)
class Finding:
    """One reason a reply may not go out: the act, the words that commit it, and which input
    of the edit modal the person should fix (``reply``, or ``safety_reason``)."""

    act: str
    quote: str
    detail: str = ""
    about: str = "reply"

    @property
    def does(self) -> str:
        return ACTS[self.act].does

    @property
    def rule(self) -> str:
        return ACTS[self.act].rule

    def message(self) -> str:
        """The refusal as staff read it, naming the act and the rule."""
        words = f' "{self.quote}"' if self.quote else ""
        detail = f" ({self.detail})" if self.detail else ""
        return f"Not allowed:{words} {self.does}{detail}. Rule: {self.rule}."
