"""The staff desk's case actions: pause and resume, close and reopen, corrections (category,
priority, risk flags), internal notes and ADR referrals, and the jobs that go with them (the
CLRA cure clock's alerts and closing resolved cases after the quiet period).

Each action has a core method (``pause``…) that changes the case through the case book, queues
the card update and returns what to tell the person; it raises ``IllegalTransition`` or
``ValueError`` with the reason when the case's state does not allow it. The CLI calls these
inside a transaction. Slack calls the ``…_by`` forms, which the workflow's guard makes
approver-only, atomic and once per interaction, and which answer a refusal with its reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from bot.actions import ActionResult, Guard, slack_mention
from bot.cases import SYSTEM, Case, CaseBook
from bot.clock import local_label
from bot.config import Config
from bot.outbox import Outbox
from bot.privacy.desk import PrivacyDesk
from bot.redact import escape_mrkdwn, mask_personal_data, shorten_masked

SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
NOTE_SHOWN_LIMIT = 2500
OPEN_ONLY = {
    "pause": "paused",
    "recategorise": "recategorised",
    "reprioritise": "reprioritised",
    "flag": "corrected",
}


def who(actor: str) -> str:
    """An actor as Slack shows it: a Slack user as a mention, anyone else (a CLI user) by name."""
    return f"<@{actor}>" if SLACK_USER.match(actor) else escape_mrkdwn(actor)


def staff_text(text: str, limit: int = NOTE_SHOWN_LIMIT) -> str:
    """Text a person typed, made inert and masked for a Slack message."""
    return escape_mrkdwn(shorten_masked(mask_personal_data(text), limit))


class CaseDesk:
    """What each staff-desk action does to a case, and what it sends to Slack."""

    def __init__(
        self,
        config: Config,
        book: CaseBook,
        outbox: Outbox,
        privacy: PrivacyDesk,
        guard: Guard,
        update_card: Callable[[int, str], None],
        alert: Callable[[Case, str, str], None],
        redraft: Callable[[Case], None],
    ) -> None:
        self.config = config
        self.book = book
        self.outbox = outbox
        self.privacy = privacy
        self.guard = guard
        self.update_card = update_card
        self.alert = alert
        self.redraft = redraft

    # ---------------------------------------------------------------- the actions

    def pause(self, case_id: int, actor: str, reason: str) -> str:
        reason = _required(reason, "a reason to pause (e.g. waiting on the customer)")
        self.book.pause(case_id, actor, reason)
        self._changed(case_id, "paused")
        return f"Case {case_id} paused: the SLA clock stops until it is resumed."

    def resume(self, case_id: int, actor: str) -> str:
        self.book.resume(case_id, actor)
        case = self._changed(case_id, "resumed")
        return (
            f"Case {case_id} resumed: first response due {self._local(case.ack_due_at)}, "
            f"resolution due {self._local(case.resolve_due_at)}."
        )

    def close(self, case_id: int, actor: str, reason: str = "closed by staff") -> str:
        self.book.close(case_id, actor, reason)
        self._changed(case_id, "closed")
        return f"Case {case_id} closed."

    def reopen(self, case_id: int, actor: str, reason: str = "reopened by staff") -> str:
        case = self.book.reopen(case_id, actor, reason)
        self._changed(case_id, "reopened")
        due = self._local(case.resolve_due_at)
        return f"Case {case_id} reopened ({case.status}); resolution due {due}."

    def recategorise(self, case_id: int, actor: str, category: str, reason: str) -> str:
        reason = _required(reason, "a reason for the new category")
        case = self.book.recategorise(case_id, actor, category, reason)
        self.redraft(case)
        self._changed(case_id, "recategorised")
        return f"Case {case_id} is now {category}."

    def reprioritise(self, case_id: int, actor: str, priority: str, reason: str) -> str:
        reason = _required(reason, "a reason for the new priority")
        case = self.book.reprioritise(case_id, actor, priority.upper(), reason)
        self._changed(case_id, "reprioritised")
        return (
            f"Case {case_id} is now {case.priority}: first response due "
            f"{self._local(case.ack_due_at)}, resolution due {self._local(case.resolve_due_at)}."
        )

    def flag(self, case_id: int, actor: str, flag: str, change: str, reason: str) -> str:
        """``change`` is ``add`` (a missing flag) or ``remove`` (a wrong one)."""
        if change not in ("add", "remove"):
            raise ValueError("Say whether to add or remove the flag.")
        reason = _required(reason, "a reason for the flag correction")
        add = change == "add"
        before = self.book.get(case_id)
        case = self.book.correct_flag(case_id, actor, flag, add, reason)
        self.redraft(case)
        if add:
            self.alert(
                case,
                f"flag-{flag}-{self.book.event_count(case_id)}",
                self._flag_alert(case, flag, actor),
            )
            if flag == "privacy_request":
                self.privacy.take_in(case_id, self.book.store.mention(case.first_mention_id), True)
        self._changed(case_id, f"flag-{flag}")
        done = "added" if add else "removed"
        moved = (
            f"; priority {before.priority} → {case.priority}"
            if case.priority != before.priority
            else ""
        )
        return f"Flag {flag} {done} on case {case_id}{moved}."

    def note(self, case_id: int, actor: str, text: str) -> str:
        text = _required(text, "the note's text")
        self.book.add_note(case_id, actor, text)
        self._thread(case_id, "note", f":memo: Internal note by {who(actor)}: {staff_text(text)}")
        self._changed(case_id, "note")
        return f"Note added to case {case_id} (in its Slack thread, never public)."

    def refer_adr(self, case_id: int, actor: str, body: str) -> str:
        body = _required(body, "the body the customer was referred to")
        self.book.refer_adr(case_id, actor, body)
        self._thread(
            case_id,
            "adr",
            f":classical_building: {who(actor)} referred the customer to {staff_text(body, 300)} "
            "(alternative dispute resolution).",
        )
        self._changed(case_id, "adr")
        return f"ADR referral recorded for case {case_id}."

    # ---------------------------------------------------------------- from Slack

    def refusal(self, case_id: int, action: str) -> str | None:
        """Why ``action`` cannot be taken on the case now (asked before its modal opens), or
        None. The action itself checks again when it is carried out."""
        case = self.book.find(case_id)
        if case is None:
            return f"Case {case_id} does not exist."
        if action in OPEN_ONLY and not case.is_open:
            return (
                f"Case {case_id} is {case.status}; only open cases (new, responded) can be "
                f"{OPEN_ONLY[action]}."
            )
        if action == "pause" and case.is_paused:
            return f"Case {case_id} is already paused; resume it first."
        if action == "refer_adr" and case.status == "dismissed":
            return f"Case {case_id} is dismissed; a dismissed case cannot be referred to ADR."
        return None

    def pause_by(self, case_id: int, user: str, reason: str, receipt: str | None) -> ActionResult:
        return self.guard(user, lambda: self.pause(case_id, user, reason), receipt)

    def resume_by(self, case_id: int, user: str, receipt: str | None) -> ActionResult:
        return self.guard(user, lambda: self.resume(case_id, user), receipt)

    def close_by(self, case_id: int, user: str, receipt: str | None) -> ActionResult:
        return self.guard(user, lambda: self.close(case_id, user), receipt)

    def reopen_by(self, case_id: int, user: str, receipt: str | None) -> ActionResult:
        return self.guard(user, lambda: self.reopen(case_id, user), receipt)

    def recategorise_by(
        self, case_id: int, user: str, category: str, reason: str, receipt: str | None
    ) -> ActionResult:
        return self.guard(user, lambda: self.recategorise(case_id, user, category, reason), receipt)

    def reprioritise_by(
        self, case_id: int, user: str, priority: str, reason: str, receipt: str | None
    ) -> ActionResult:
        return self.guard(user, lambda: self.reprioritise(case_id, user, priority, reason), receipt)

    def flag_by(
        self, case_id: int, user: str, flag: str, change: str, reason: str, receipt: str | None
    ) -> ActionResult:
        return self.guard(user, lambda: self.flag(case_id, user, flag, change, reason), receipt)

    def note_by(self, case_id: int, user: str, text: str, receipt: str | None) -> ActionResult:
        return self.guard(user, lambda: self.note(case_id, user, text), receipt)

    def refer_adr_by(self, case_id: int, user: str, body: str, receipt: str | None) -> ActionResult:
        return self.guard(user, lambda: self.refer_adr(case_id, user, body), receipt)

    # ---------------------------------------------------------------- jobs

    def watch(self) -> dict[str, int]:
        """The CLRA cure clocks (75 % and breach, once each, to the legal owner) and closing
        resolved cases after ``close_after_days`` of quiet. The daemon runs it every minute."""
        counts = {"cure_warnings": 0, "cure_breaches": 0, "closed": 0}
        store = self.book.store
        for alert in self.book.cure_due_for_warning():
            with store.transaction():
                if self.book.mark_cure(alert.case_id, "warned"):
                    self._cure_alert(alert.case_id, alert.due_at, breached=False)
                    counts["cure_warnings"] += 1
        for alert in self.book.cure_breached():
            with store.transaction():
                if self.book.mark_cure(alert.case_id, "breached"):
                    self._cure_alert(alert.case_id, alert.due_at, breached=True)
                    self._changed(alert.case_id, "clra-breach")
                    counts["cure_breaches"] += 1
        days = self.config.policy.close_after_days
        for case_id in self.book.quiet_resolved():
            with store.transaction():
                case = self.book.get(case_id)
                if case.status != "resolved":
                    continue  # a follow-up reopened it meanwhile
                self.book.close(case_id, SYSTEM, f"quiet for {days} days after resolution")
                self._changed(case_id, "closed")
                counts["closed"] += 1
        return counts

    def _cure_alert(self, case_id: int, due: datetime, breached: bool) -> None:
        case = self.book.get(case_id)
        ladder = self.config.policy.escalation
        owner = slack_mention(ladder.legal_owner or ladder.manager) or (
            "Legal owner (set [policy.escalation] legal_owner)"
        )
        if breached:
            text = (
                f":rotating_light: Case {case_id}: the CLRA cure deadline (Civ. Code 1782) "
                f"{self._local(due)} has passed. {owner}, please act now."
            )
        else:
            share = f"{self.config.policy.warn_at:.0%}"
            text = (
                f":hourglass: Case {case_id}: {share} of the CLRA cure window "
                f"(Civ. Code 1782) has passed; the cure is due {self._local(due)}. {owner}"
            )
        self.alert(case, f"clra-{'breach' if breached else 'warning'}", text)

    # ---------------------------------------------------------------- helpers

    def _flag_alert(self, case: Case, flag: str, actor: str) -> str:
        return (
            f":rotating_light: Case {case.id} ({case.priority}): {who(actor)} added the {flag} "
            "flag; please look now."
        )

    def _changed(self, case_id: int, reason: str) -> Case:
        self.update_card(case_id, reason)
        return self.book.get(case_id)

    def _thread(self, case_id: int, kind: str, text: str) -> None:
        key = f"{kind}:{case_id}:{self.book.event_count(case_id)}"
        self.outbox.enqueue("slack_thread", key, {"text": text}, case_id)

    def _local(self, instant: datetime | None) -> str:
        return local_label(instant, self.config.policy.timezone) if instant else "—"


def _required(text: str, what: str) -> str:
    if not text or not text.strip():
        raise ValueError(f"Give {what}.")
    return text.strip()
