"""Approving a public reply: what may be posted (the reply guard, the privacy rule, the
platform's limits), one approval per case, and the second, legal approval that an edited
reply on a legal-flagged case needs before it is queued.

The workflow exposes this as ``Workflow.approve``, ``Workflow.legal_approve`` and
``Workflow.check_reply_text`` and lends it its receipts and card updates (it cannot import
the workflow, which imports it). The flows:

- **Approve** (the draft as it stands, or an edit): refused with the reason when the guard,
  the privacy request or the platform says no; otherwise the reply is queued once.
- **Legal-flagged case, edited reply** (the text differs from the draft): the approval is
  recorded as the first of two (``CaseBook.hold_for_legal``), nothing is queued, the card
  shows "awaiting legal approval" with a ``legal_approve`` button, and a note in the card's
  thread names the legal approver: ``[policy.escalation] legal_owner``, or ``manager`` when
  no legal owner is set (a user, or a user group whose members may approve). Their click
  checks the text again and queues it. A legal approver's own edit needs no second approval.
- **Safety-flagged case, first reply**: the reply keeps the instruction to stop using the
  product unless the approver gives a reason for removing it (kept in the register).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from bot.actions import ALREADY_DONE, ActionResult, slack_mention
from bot.cases import Case, CaseBook
from bot.clock import iso
from bot.config import Config
from bot.connector import Connector
from bot.guard import Finding, ReplyContext, check_reply, keeps_stop_using, normalise
from bot.outbox import Outbox
from bot.privacy.desk import PrivacyDesk
from bot.replies import safe_handle, with_disclosure
from bot.store import Store

MAX_FINDINGS_SHOWN = 3
SPACE = re.compile(r"\s+")


def same_text(one: str, other: str) -> bool:
    """Whether two reply texts say the same (whitespace aside): an edit that changes
    nothing is no edit."""
    return SPACE.sub(" ", one).strip() == SPACE.sub(" ", other).strip()


class ReplyApprovals:
    """Approvals of public replies, as the workflow's approve actions carry them out."""

    def __init__(
        self,
        config: Config,
        store: Store,
        book: CaseBook,
        outbox: Outbox,
        connectors: Mapping[str, Connector],
        privacy: PrivacyDesk,
        first_time: Callable[[str | None, str], bool],
        update_card: Callable[[int, str], None],
        is_approver: Callable[[str], bool],
        is_one_of: Callable[[str, str], bool],
    ) -> None:
        self.config = config
        self.store = store
        self.book = book
        self.outbox = outbox
        self.connectors = connectors
        self.privacy = privacy
        self.first_time = first_time
        self.update_card = update_card
        self.is_approver = is_approver
        self.is_one_of = is_one_of

    # ---------------------------------------------------------------- checking

    def context(self, case: Case, safety_reason: str = "") -> ReplyContext:
        brand = self.config.brand
        return ReplyContext(
            flags=frozenset(case.flags),
            author_handle=case.author_handle,
            own_handles=(
                safe_handle(case.author_handle),  # as the templates write it
                self.config.x.handle,
                self.config.reddit.username,
            ),
            allowed_urls=(brand.support_url, brand.privacy_url),
            banned_phrases=self.config.policy.replies.banned_phrases,
            first_reply=not case.reply_id,
            safety_reason=safety_reason,
        )

    def problems(self, case_id: int, text: str, safety_reason: str = "") -> dict[str, str]:
        """Why this reply text cannot be posted for the case, by the edit modal's input the
        person should change (``reply`` or ``safety_reason``); empty if it can."""
        case = self.book.get(case_id)
        if not text.strip():
            return {"reply": "The reply is empty."}
        full = with_disclosure(text, self.config.policy.replies.disclosure)
        found = check_reply(full, self.context(case, safety_reason))
        if found:
            return _by_input(found)
        privacy = self.privacy.reply_problem(case_id, full)
        if privacy:
            return {"reply": privacy}
        connector = self.connectors.get(case.platform)
        if connector is None:
            return {"reply": f"The {case.platform} connector is not enabled, so nothing is posted."}
        check = connector.can_reply(self.book.first_mention(case).post, full)
        return {} if check.allowed else {"reply": f"Cannot post: {check.reason}."}

    def check_reply_text(self, case_id: int, text: str, safety_reason: str = "") -> str | None:
        """Why this reply text cannot be posted for the case, or None if it can."""
        problems = self.problems(case_id, text, safety_reason)
        return " ".join(problems.values()) or None

    # ---------------------------------------------------------------- approving

    def legal_approver(self) -> str:
        """Who gives the second approval on legal-flagged cases: the legal owner, else the
        manager ("" when neither is set)."""
        ladder = self.config.policy.escalation
        return ladder.legal_owner or ladder.manager

    def is_legal_approver(self, user: str) -> bool:
        target = self.legal_approver()
        return bool(target) and self.is_one_of(user, target)

    def approve(
        self,
        case_id: int,
        user: str,
        text: str | None = None,
        receipt: str | None = None,
        safety_reason: str = "",
    ) -> ActionResult:
        """One atomic approval per case: the reply is queued once, whoever clicks how often;
        an edit on a legal-flagged case waits for the legal approval instead."""
        if not self.is_approver(user):
            return ActionResult(False, "Only configured approvers can approve replies.")
        case = self.book.find(case_id)
        if case is None:
            return ActionResult(False, f"Case {case_id} does not exist.")
        if not case.can_reply:
            return ActionResult(False, f"No public reply is possible: {case.reply_block_reason}")
        if text is None and case.awaits_legal_approval:
            return ActionResult(
                False,
                f"Case {case_id} has an edited reply awaiting legal approval by "
                f"{_who(case.legal_pending_for)}; edit the reply to replace it.",
            )
        disclosure = self.config.policy.replies.disclosure
        draft = with_disclosure(case.draft_reply or "", disclosure)
        reply = draft if text is None else with_disclosure(text, disclosure)
        problem = self.check_reply_text(case_id, reply, safety_reason)
        if problem:
            return ActionResult(False, problem)
        reason = "" if self._keeps_stop_using(case, reply) else safety_reason.strip()
        edited = not same_text(reply, draft)
        if "legal" in case.flags and edited and not self.is_legal_approver(user):
            return self._hold_for_legal(case, user, reply, reason, receipt)
        details: dict[str, str] = {}
        if reason:
            details["safety_instruction_removed"] = reason
        if "legal" in case.flags and edited:
            details["legal_approved_by"] = user  # a legal approver's own edit
        kind = "edited_and_approved" if edited else "approved"
        with self.store.transaction():
            if not self.first_time(receipt, user):
                return ALREADY_DONE
            if not self.book.claim_approval(case_id, user, reply, kind, **details):
                return ActionResult(False, f"Case {case_id} was already approved or is closed.")
            self.outbox.enqueue("platform_reply", f"reply:{case_id}", {}, case_id)
            self.update_card(case_id, kind)
        return ActionResult(True, f"Approved: the reply to case {case_id} is being posted.")

    def _keeps_stop_using(self, case: Case, reply: str) -> bool:
        if "safety" not in case.flags or case.reply_id:
            return True
        return keeps_stop_using(normalise(reply))

    def _hold_for_legal(
        self, case: Case, user: str, reply: str, reason: str, receipt: str | None
    ) -> ActionResult:
        awaiting = self.legal_approver()
        if not awaiting:
            return ActionResult(
                False,
                f"Case {case.id} is legal-flagged: an edited reply needs a second approval by "
                "the legal owner, and neither [policy.escalation] legal_owner nor manager is "
                "set. Approve the draft as it is, or ask an admin to set one.",
            )
        with self.store.transaction():
            if not self.first_time(receipt, user):
                return ALREADY_DONE
            if not self.book.hold_for_legal(case.id, user, reply, awaiting, reason):
                return ActionResult(False, f"Case {case.id} was already approved or is closed.")
            count = self.book.event_count(case.id)
            self.update_card(case.id, f"awaiting-legal-{count}")
            self.outbox.enqueue(
                "slack_thread",
                f"legal-pending:{case.id}:{count}",
                {
                    "text": f":scales: <@{user}> approved an edited reply to this legal-flagged "
                    f"case. It is posted only after legal approval: {_who(awaiting)}, please "
                    "review it on the card (Legal approval)."
                },
                case.id,
            )
        return ActionResult(
            True,
            f"Your approval is recorded. The edited reply to case {case.id} is posted once "
            f"{_who(awaiting)} gives the legal approval.",
        )

    def legal_approve(
        self, case_id: int, user: str, version: str | None = None, receipt: str | None = None
    ) -> ActionResult:
        """The legal owner's (or manager's) approval of an edited reply on a legal-flagged
        case; ``version`` is when the edit was held, as the card showed it, so a newer edit
        is never approved unseen."""
        case = self.book.find(case_id)
        if case is None or not case.awaits_legal_approval or case.legal_pending_at is None:
            return ActionResult(False, f"Case {case_id} has no reply awaiting legal approval.")
        if not self.is_legal_approver(user):
            return ActionResult(
                False,
                f"Only {_who(self.legal_approver()) or 'the legal owner'} can give the legal "
                f"approval for case {case_id}.",
            )
        if user == case.legal_pending_by:
            return ActionResult(False, "The legal approval must come from a second person.")
        if version and version != iso(case.legal_pending_at):
            return ActionResult(
                False, f"The edited reply to case {case_id} changed; look at the card again."
            )
        text = case.legal_pending_text or ""
        problem = self.check_reply_text(case_id, text, case.legal_pending_reason or "")
        if problem:
            return ActionResult(False, problem)
        with self.store.transaction():
            if not self.first_time(receipt, user):
                return ALREADY_DONE
            if not self.book.approve_for_legal(case_id, user, case.legal_pending_at):
                return ActionResult(False, f"Case {case_id} was already approved or is closed.")
            self.outbox.enqueue("platform_reply", f"reply:{case_id}", {}, case_id)
            self.update_card(case_id, "legal_approved")
        return ActionResult(True, f"Legal approval given: the reply to case {case_id} is posted.")


def _who(target: str | None) -> str:
    return slack_mention(target or "")


def _by_input(findings: list[Finding]) -> dict[str, str]:
    """The findings' messages, grouped by the edit modal input each is about."""
    grouped: dict[str, list[str]] = {}
    for finding in findings:
        messages = grouped.setdefault(finding.about, [])
        if len(messages) < MAX_FINDINGS_SHOWN and finding.message() not in messages:
            messages.append(finding.message())
    return {about: " ".join(messages) for about, messages in grouped.items()}
