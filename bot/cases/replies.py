"""The case book's reply and card records: the draft, the approval (and a legal-flagged
edit held for the legal owner), the posted reply, and where the card is."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.cases.part import BookPart
from bot.cases.sla import SYSTEM
from bot.clock import iso
from bot.connector import PostedReply
from bot.records import OPEN_STATES, Case

NO_PENDING = (
    "legal_pending_text = NULL, legal_pending_by = NULL, legal_pending_at = NULL,"
    " legal_pending_for = NULL, legal_pending_reason = NULL"
)


class ReplyRecords(BookPart):
    """Part of ``CaseBook``: every write of a case's reply and card columns."""

    def set_draft(self, case_id: int, text: str) -> None:
        """The reply the card offers for approval."""
        self.store.update_row("cases", case_id, {"draft_reply": text})

    def claim_approval(
        self, case_id: int, actor: str, reply_text: str, kind: str, **details: Any
    ) -> bool:
        """Take the case's one approval for ``reply_text``; False if it was already approved
        or the case is no longer open (two clicks, two approvers: one wins). It replaces an
        edit waiting for legal approval; ``details`` go into the register row."""
        now = iso(self.clock.now())
        legal = details.get("legal_approved_by")
        with self.store.transaction():
            claimed = self.db.execute(
                "UPDATE cases SET approved_by = ?, approved_at = ?, reply_text = ?, updated_at = ?,"
                f" legal_approved_by = ?, {NO_PENDING}"
                " WHERE id = ? AND approved_at IS NULL AND status IN (?, ?)",
                [actor, now, reply_text, now, legal, case_id, *OPEN_STATES],
            ).rowcount
            if claimed == 1:
                self.record(case_id, actor, kind, text=reply_text, **details)
        return claimed == 1

    def hold_for_legal(
        self, case_id: int, actor: str, reply_text: str, awaiting: str, reason: str = ""
    ) -> bool:
        """The first of two approvals of an edited reply on a legal-flagged case: the text
        waits for ``awaiting`` (the legal owner or the manager); a later edit replaces it.
        False if the case was already approved or is no longer open."""
        now = iso(self.clock.now())
        with self.store.transaction():
            held = self.db.execute(
                "UPDATE cases SET legal_pending_text = ?, legal_pending_by = ?, legal_pending_at"
                " = ?, legal_pending_for = ?, legal_pending_reason = ?, updated_at = ?"
                " WHERE id = ? AND approved_at IS NULL AND status IN (?, ?)",
                [reply_text, actor, now, awaiting, reason or None, now, case_id, *OPEN_STATES],
            ).rowcount
            if held == 1:
                removed = {"safety_instruction_removed": reason} if reason else {}
                kind = "approved_pending_legal"
                self.record(case_id, actor, kind, text=reply_text, awaiting=awaiting, **removed)
        return held == 1

    def approve_for_legal(self, case_id: int, actor: str, pending_at: datetime) -> bool:
        """The legal approval of the edit held since ``pending_at``, which becomes the approved
        reply (approved by its first approver). False if that edit no longer waits (approved,
        replaced, the case closed) or ``actor`` gave its first approval."""
        now = iso(self.clock.now())
        with self.store.transaction():
            case = self.get(case_id)
            approved = self.db.execute(
                "UPDATE cases SET approved_by = legal_pending_by, approved_at = ?, reply_text ="
                f" legal_pending_text, legal_approved_by = ?, updated_at = ?, {NO_PENDING}"
                " WHERE id = ? AND approved_at IS NULL AND status IN (?, ?)"
                " AND legal_pending_at = ? AND legal_pending_by != ?",
                [now, actor, now, case_id, *OPEN_STATES, iso(pending_at), actor],
            ).rowcount
            if approved == 1:
                first = case.legal_pending_by
                text = case.legal_pending_text
                self.record(case_id, actor, "legal_approved", text=text, first_approver=first)
        return approved == 1

    def reopen_approval(self, case_id: int, error: str) -> bool:
        """Hand an approved reply that could not be posted back to the team: the approved text
        becomes the draft again. False if the reply went out or was not approved."""
        with self.store.transaction():
            reopened = self.db.execute(
                "UPDATE cases SET draft_reply = reply_text, approved_at = NULL, approved_by = NULL,"
                " legal_approved_by = NULL, updated_at = ?"
                " WHERE id = ? AND reply_id IS NULL AND approved_at IS NOT NULL",
                [iso(self.clock.now()), case_id],
            ).rowcount
            if reopened != 1:
                return False
            self.record(case_id, SYSTEM, "reply_failed", error=error)
        return True

    def record_reply(self, case_id: int, reply: PostedReply) -> Case:
        """The approved reply is public: keep where, and count it as the first response."""
        with self.store.transaction():
            self.db.table("cases").update(
                case_id,
                {"reply_id": reply.id, "reply_url": reply.url, "replied_at": iso(self.clock.now())},
            )
            self.record(case_id, SYSTEM, "reply_posted", reply_id=reply.id, url=reply.url)
            case = self.get(case_id)
            if case.status == "new":
                case = self.transition(case_id, "responded", case.approved_by or SYSTEM)
        return case

    def record_card(self, case_id: int, channel: str, ts: str, permalink: str | None) -> None:
        """Where the case's Slack card is, so updates edit it instead of posting another, and
        the link alerts carry to it (None when Slack would not give one)."""
        with self.store.transaction():
            self.db.table("cases").update(
                case_id, {"slack_channel": channel, "slack_ts": ts, "card_permalink": permalink}
            )
            self.record(case_id, SYSTEM, "card_posted", channel=channel, ts=ts)

    def record_card_link(self, case_id: int, channel: str, ts: str, permalink: str) -> None:
        """The link to a card posted before links were kept; only while it is still the card."""
        self.db.execute(
            "UPDATE cases SET card_permalink = ?"
            " WHERE id = ? AND slack_channel = ? AND slack_ts = ?",
            [permalink, case_id, channel, ts],
        )
