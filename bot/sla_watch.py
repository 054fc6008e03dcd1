"""The SLA watcher: a note in the case's thread at 75 % of a window, and on breach an
alert in the escalation channel, the case marked breached and its card updated, each once
per case (or, for a member of an incident, once per incident) and window."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.actions import slack_mention
from bot.cases import Case, CaseBook
from bot.clock import local_label
from bot.config import Config
from bot.outbox import Outbox
from bot.store import Store

LEVEL_NAMES = {0: "team", 1: "lead", 2: "manager/legal"}


def escalation_text(config: Config, case: Case, level: int, reason: str) -> str:
    """The escalation alert: the case, the level reached and who owns it, and why."""
    ladder = config.policy.escalation
    target = slack_mention({1: ladder.lead, 2: ladder.manager}.get(level, ""))
    return (
        f":arrow_up: Case {case.id} ({case.priority}, {case.category}) escalated to "
        f"level {level} ({LEVEL_NAMES.get(level, level)}): {reason}. {target}".rstrip()
    )


class SlaWatch:
    """Run every minute by the daemon (``Workflow.watch_sla``)."""

    def __init__(
        self,
        config: Config,
        store: Store,
        book: CaseBook,
        outbox: Outbox,
        update_card: Callable[[int, str], None],
        incidents: bool,
    ) -> None:
        self.config = config
        self.store = store
        self.book = book
        self.outbox = outbox
        self.update_card = update_card
        self.incidents = incidents

    def run(self) -> dict[str, int]:
        counts = {"warnings": 0, "breaches": 0}
        for alert in self.book.due_for_warning():
            with self.store.transaction():
                if self.book.mark_warned(alert.case_id, alert.window):
                    what = "first response" if alert.window == "ack" else "resolution"
                    self.outbox.enqueue(
                        "slack_thread",
                        f"sla-warning:{self._subject(alert.case_id)}:{alert.window}",
                        {
                            "text": f":hourglass: 75% of the {what} window has passed; "
                            f"due {self._local(alert.due_at)}."
                        },
                        alert.case_id,
                    )
                    counts["warnings"] += 1
        for alert in self.book.breached():
            with self.store.transaction():
                if self.book.mark_breached(alert.case_id, alert.window):
                    case = self.book.get(alert.case_id)
                    what = "first response" if alert.window == "ack" else "resolution"
                    reason = f"{what} deadline {self._local(alert.due_at)} breached"
                    incident = self._incident_of(alert.case_id)
                    if incident is not None:
                        members = self.book.incident_links(incident)
                        count = sum(1 for link in members if link.role == "member")
                        reason += f" (incident {incident}'s deadline, shared by its {count} cases)"
                    self.outbox.enqueue(
                        "slack_alert",
                        f"alert:{self._subject(alert.case_id)}:breach-{alert.window}",
                        {"text": escalation_text(self.config, case, case.escalation_level, reason)},
                        case.id,
                    )
                    self.update_card(alert.case_id, f"breach-{alert.window}")
                    counts["breaches"] += 1
        return counts

    def _incident_of(self, case_id: int) -> int | None:
        """The incident whose SLA this case keeps: it is a member without a card of its own."""
        link = self.book.incident_link(case_id) if self.incidents else None
        if link is not None and link.role == "member" and not link.carded:
            return link.incident_id
        return None

    def _subject(self, case_id: int) -> str:
        """What an SLA note is about: the case, or for a member of an incident (whose SLA is
        the incident's) the incident, so its members' alike deadlines give one note."""
        incident = self._incident_of(case_id)
        return str(case_id) if incident is None else f"incident-{incident}"

    def _local(self, instant: datetime) -> str:
        return local_label(instant, self.config.policy.timezone)
