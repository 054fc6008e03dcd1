"""The approval loop in the core: what each staff action does, and the platform-reply delivery.

Slack is reached only through outbox rows (``slack_card``, ``slack_update``,
``slack_thread``, ``slack_alert``) that ``bot.slack.delivery`` renders and
sends; platforms only through a ``Connector``. The promise kept here: a reply
goes out only after one approver's approval, and at most once per case.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from bot.actions import ALREADY_DONE, ActionResult, slack_mention
from bot.approvals import ReplyApprovals
from bot.case_actions import CaseDesk
from bot.cases import SYSTEM, Case, CaseBook, CaseOutcome
from bot.clock import Clock, iso
from bot.config import Config
from bot.connector import Connector, ReplyCheck
from bot.errors import (
    CaseNotFound,
    IllegalTransition,
    PermanentError,
    PrivacyRequestError,
    TransientError,
)
from bot.incidents import IncidentDesk
from bot.models import Classification, Embedder, Mention
from bot.outbox import Delivery, Handler, Outbox, OutboxWorker
from bot.privacy.desk import PrivacyDesk
from bot.redact import escape_mrkdwn, mask_personal_data, shorten_masked
from bot.replies import draft_reply
from bot.sla_watch import SlaWatch, escalation_text
from bot.store import Store

log = logging.getLogger(__name__)

GROUP_CACHE_TTL = timedelta(minutes=1)
RECEIPT_TTL = timedelta(days=1)
RISK_OWNERS = {
    "safety": "safety_owner",
    "legal": "legal_owner",
    "privacy_request": "privacy_owner",
    "data_exposure": "security_owner",
}


ReplyRule = Callable[[Mention], ReplyCheck]


class Workflow:
    """What each event and staff action does to a case, and what it sends where.

    ``reply_rules`` hold each platform's rule on whether a post may be answered at all
    (the connector modules' ``may_reply``), for every platform whether or not its
    connector runs here; without them the running connectors are asked."""

    def __init__(
        self,
        config: Config,
        store: Store,
        clock: Clock,
        connectors: Mapping[str, Connector],
        group_members: Callable[[str], list[str]] | None = None,
        reply_rules: Mapping[str, ReplyRule] | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.book = CaseBook(store, config.policy, clock)
        self.outbox = Outbox(store, clock)
        self.connectors = connectors
        self.group_members = group_members
        self.reply_rules: Mapping[str, ReplyRule] = (
            reply_rules
            if reply_rules is not None
            else {name: connector.may_reply for name, connector in connectors.items()}
        )
        self._group_cache: dict[str, tuple[datetime, frozenset[str]]] = {}
        self.privacy = PrivacyDesk(
            config, store, self.book, self.outbox, self._guarded, self._update_card
        )
        self.approvals = ReplyApprovals(
            config,
            store,
            self.book,
            self.outbox,
            connectors,
            self.privacy,
            self._first_time,
            self._update_card,
            self.is_approver,
            self.is_one_of,
        )
        self.desk = CaseDesk(
            config,
            self.book,
            self.outbox,
            self.privacy,
            self._guarded,
            self._update_card,
            self._alert,
            self._redraft,
        )
        # Incidents group bursts by the classifier's sentence vectors: off without them.
        self.incidents = (
            IncidentDesk(
                config,
                store,
                self.book,
                self.outbox,
                embedder,
                self.approvals,
                self._guarded,
                self._update_card,
            )
            if embedder is not None and config.incidents.enabled
            else None
        )
        self.sla_watch = SlaWatch(
            config, store, self.book, self.outbox, self._update_card, self.incidents is not None
        )

    # ---------------------------------------------------------------- opening

    @property
    def db(self) -> sqlite_utils.Database:
        """This thread's connection (the store gives each thread its own)."""
        return self.store.db

    def take_in(self, mention_id: int, verdict: Classification) -> CaseOutcome | None:
        """Record a verdict and, for complaints and risk-flagged posts, open or extend a case.

        One transaction: a crash leaves the mention unclassified, to be taken in again. A
        mention another worker already took in is left alone (None), so two workers on one
        store never open or extend a case twice for one post.
        """
        with self.store.transaction():
            if not self.store.save_classification(mention_id, verdict, iso(self.clock.now())):
                return None
            stored = self.store.mention(mention_id)
            # Not a complaint: kept only as the answer the team waits for on a paused case.
            waited_for = verdict.is_complaint or verdict.flags
            if not waited_for and self.book.paused_case_of(stored.post) is None:
                return None
            outcome = self.book.open_or_attach(mention_id, verdict, self.may_reply(stored.post))
            case = self.book.get(outcome.case_id)
            if outcome.opened:
                self.book.set_draft(case.id, self._draft(case))
                absorbed = (
                    self.incidents is not None
                    and verdict.is_complaint
                    and self.incidents.take_in(case, stored.post)
                )
                if not absorbed:  # a member of an incident is answered from its card
                    self.outbox.enqueue("slack_card", f"card:{case.id}", {}, case.id)
                if case.flags:
                    self._alert(case, "risk", self._risk_alert_text(case))
            else:
                if outcome.new_flags:
                    self._follow_up_flagged(case, mention_id, outcome.new_flags)
                self._update_card(case.id, "follow_up")
            if "privacy_request" in verdict.flag_names:
                self.privacy.take_in(case.id, stored, outcome.opened)
        return outcome

    def may_reply(self, post: Mention) -> ReplyCheck:
        """The platform's word on whether the bot may answer this post in public at all."""
        rule = self.reply_rules.get(post.platform)
        if rule is None:
            return ReplyCheck(False, f"no {post.platform} connector is set up to reply with")
        return rule(post)

    def _draft(self, case: Case) -> str:
        return draft_reply(
            self.config,
            category=case.category or "other",
            flags=sorted(case.flags),
            handle=case.author_handle,
            case_id=case.id,
            platform=case.platform,
        )

    def _redraft(self, case: Case) -> None:
        """A corrected category or flag chooses another template: draft the reply again,
        unless it was approved or an edit of it waits for legal approval."""
        if not case.approved_at and not case.awaits_legal_approval and case.is_open:
            self.book.set_draft(case.id, self._draft(case))

    def _follow_up_flagged(self, case: Case, mention_id: int, flags: tuple[str, ...]) -> None:
        """A follow-up raised risk flags the case lacked: their owners are alerted as for a
        new case, and a member of an incident leaves it for its own card and SLA (a
        risk-flagged case is never answered in bulk)."""
        self._alert(case, f"risk-follow-up-{mention_id}", self._risk_alert_text(case, flags))
        if self.incidents is not None:
            self.incidents.flagged(case, flags)

    def _risk_alert_text(self, case: Case, raised: tuple[str, ...] = ()) -> str:
        flags = sorted(raised or case.flags)
        owners = self.config.policy.escalation
        names = sorted({slack_mention(getattr(owners, RISK_OWNERS[f])) for f in flags} - {""})
        who = " ".join(names) or "the team"
        why = "; ".join(
            f"{flag}: {_masked(case.flags[flag] or 'no reason given')}" for flag in flags
        )
        return (
            f":rotating_light: Case {case.id} ({case.priority}) raised "
            f"{', '.join(flags)} ({why}): {who}, please look now."
        )

    # ---------------------------------------------------------------- actions

    def is_approver(self, user: str) -> bool:
        slack = self.config.slack
        if user in slack.approvers:
            return True
        if slack.approver_group and self.group_members is not None:
            return user in self._approver_group(slack.approver_group, self.group_members)
        return False

    def _approver_group(self, group: str, read: Callable[[str], list[str]]) -> frozenset[str]:
        """The group's members, read at most once a minute: every click asks, a click waits
        for the answer before it is acked, and Slack allows ``usergroups.users.list`` about
        20 calls a minute. If Slack cannot answer, the last list read still counts."""
        now = self.clock.now()
        cached = self._group_cache.get(group)
        if cached is not None and now - cached[0] < GROUP_CACHE_TTL:
            return cached[1]
        try:
            members = frozenset(read(group))
        except Exception:
            log.warning("could not read approver group %s", group)
            return cached[1] if cached is not None else frozenset()
        self._group_cache[group] = (now, members)
        return members

    def is_one_of(self, user: str, target: str) -> bool:
        """Whether ``user`` is ``target``, or a member of the user group ``target`` (S…)."""
        if not target:
            return False
        if user == target:
            return True
        if target.startswith("S") and self.group_members is not None:
            return user in self._approver_group(target, self.group_members)
        return False

    def check_reply_text(self, case_id: int, text: str, safety_reason: str = "") -> str | None:
        """Why this reply text cannot be posted for the case, or None if it can."""
        return self.approvals.check_reply_text(case_id, text, safety_reason)

    def reply_problems(self, case_id: int, text: str, safety_reason: str = "") -> dict[str, str]:
        """The same, by the edit modal's input to fix (``reply`` or ``safety_reason``)."""
        return self.approvals.problems(case_id, text, safety_reason)

    def approve(
        self,
        case_id: int,
        user: str,
        text: str | None = None,
        receipt: str | None = None,
        safety_reason: str = "",
    ) -> ActionResult:
        """One atomic approval per case (``bot.approvals``): the reply is queued once; an
        edit on a legal-flagged case first waits for the legal approval."""
        return self.approvals.approve(case_id, user, text, receipt, safety_reason)

    def legal_approve(
        self, case_id: int, user: str, version: str | None = None, receipt: str | None = None
    ) -> ActionResult:
        """The legal owner's (or manager's) second approval of an edited reply."""
        return self.approvals.legal_approve(case_id, user, version, receipt)

    def escalate(self, case_id: int, user: str, receipt: str | None = None) -> ActionResult:
        return self._guarded(
            user, lambda: self._escalate(case_id, user, "by hand"), receipt=receipt
        )

    def _escalate(self, case_id: int, actor: str, reason: str) -> str:
        level = self.book.escalate(case_id, actor, reason)
        case = self.book.get(case_id)
        self._alert(case, f"escalation-{level}", escalation_text(self.config, case, level, reason))
        self._update_card(case_id, f"escalated-{level}")
        return f"Case {case_id} escalated to level {level}."

    def dismiss(
        self, case_id: int, user: str, reason: str, receipt: str | None = None
    ) -> ActionResult:
        def act() -> str:
            self.book.dismiss(case_id, user, reason)
            self._update_card(case_id, "dismissed")
            return f"Case {case_id} dismissed as {reason.replace('_', ' ')}."

        return self._guarded(user, act, receipt=receipt)

    def resolve(
        self, case_id: int, user: str, note: str, receipt: str | None = None
    ) -> ActionResult:
        def act() -> str:
            self.book.transition(case_id, "resolved", user, note=note)
            self._update_card(case_id, "resolved")
            return f"Case {case_id} resolved."

        return self._guarded(user, act, receipt=receipt)

    def assign(
        self, case_id: int, user: str, assignee: str, receipt: str | None = None
    ) -> ActionResult:
        def act() -> str:
            self.book.assign(case_id, user, assignee)
            self._update_card(case_id, f"assigned-{assignee}")
            return f"Case {case_id} assigned to <@{assignee}>."

        return self._guarded(user, act, receipt=receipt)

    def _guarded(self, user: str, act: Callable[[], str], receipt: str | None) -> ActionResult:
        """Run one staff action atomically, at most once per Slack interaction (``receipt``)."""
        if not self.is_approver(user):
            return ActionResult(False, "Only configured approvers can act on cases.")
        try:
            with self.store.transaction():
                if not self._first_time(receipt, user):
                    return ALREADY_DONE
                return ActionResult(True, act())
        except (IllegalTransition, CaseNotFound, PrivacyRequestError, ValueError) as exc:
            return ActionResult(False, str(exc))

    def _first_time(self, receipt: str | None, user: str) -> bool:
        """Record the interaction's receipt (inside the action's transaction, so a failed action
        leaves none); False when it was already carried out."""
        if receipt is None:
            return True
        return (
            self.db.execute(
                "INSERT INTO action_receipts (key, at, actor) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO NOTHING",
                [receipt, iso(self.clock.now()), user],
            ).rowcount
            == 1
        )

    def forget_receipts(self, older_than: timedelta = RECEIPT_TTL) -> int:
        """Drop receipts no redelivery or replay can still match (Slack replays within 5 min)."""
        cutoff = iso(self.clock.now() - older_than)
        with self.store.transaction():
            return self.db.execute("DELETE FROM action_receipts WHERE at < ?", [cutoff]).rowcount

    # ----------------------------------------------------------- SLA watcher

    def watch_sla(self) -> dict[str, int]:
        """Warn at 75 % and escalate on breach, each once per case and window."""
        return self.sla_watch.run()

    # ------------------------------------------------------- outbox delivery

    def deliver_reply(self, delivery: Delivery) -> Mapping[str, Any]:
        """Post the approved reply once; after a crash or a timeout, look before posting again."""
        case = self.book.get(int(delivery.case_id or 0))
        if case.reply_id:
            return {"reply_id": case.reply_id, "already": True}
        if not case.approved_at or not case.reply_text:
            raise PermanentError(f"case {case.id} has no approved reply")
        connector = self.connectors.get(case.platform)
        if connector is None:
            raise TransientError(f"the {case.platform} connector is not running")
        post = self.book.first_mention(case).post
        posted = None
        if delivery.resumed or delivery.attempt > 1:
            posted = connector.find_reply(post)
        if posted is None and not case.is_open:
            # Dismissed or resolved while the reply waited out an outage: the later word wins.
            self.book.record(case.id, SYSTEM, "reply_cancelled", status=case.status)
            return {"cancelled": case.status}
        if posted is None:
            posted = connector.reply(post, case.reply_text)
        with self.store.transaction():
            self.book.record_reply(case.id, posted)
            self._update_card(case.id, "reply_posted")
        return {"reply_id": posted.id}

    def outbox_worker(
        self,
        slack_handlers: Mapping[str, Handler],
        deliver_reply: Handler | None = None,
        lanes: Mapping[str, str] | None = None,
    ) -> OutboxWorker:
        """The worker for this workflow's outbox. Slack rows keep trying however long Slack is
        down, so every card arrives; a reply gives up after about an hour of failures (or at
        once on a refusal) and is handed back to the team by ``delivery_failed``."""
        return OutboxWorker(
            self.outbox,
            {**slack_handlers, "platform_reply": deliver_reply or self.deliver_reply},
            keep_trying=slack_handlers.keys(),
            on_give_up=self.delivery_failed,
            lanes=lanes,
        )

    def delivery_failed(self, delivery: Delivery, error: str) -> None:
        """An outbox row gave up. For a reply the approval is reopened, so the card offers
        Approve again (with the approved text as its draft) and the team is told why."""
        if delivery.kind != "platform_reply" or delivery.case_id is None:
            return
        case_id = delivery.case_id
        with self.store.transaction():
            if not self.book.reopen_approval(case_id, error):
                return
            self._update_card(case_id, "reply_failed")
            self.outbox.enqueue(
                "slack_thread",
                f"reply-failed:{case_id}:{self.book.event_count(case_id)}",
                {
                    "text": ":warning: The reply could not be posted "
                    f"({escape_mrkdwn(shorten_masked(error, 300))}). Approve it again "
                    "from the card, or reply by hand and resolve the case."
                },
                case_id,
            )

    # ---------------------------------------------------------------- helpers

    def _alert(self, case: Case, key: str, text: str) -> None:
        self.outbox.enqueue("slack_alert", f"alert:{case.id}:{key}", {"text": text}, case.id)

    def alert_team(self, key: str, text: str) -> None:
        """An alert about the bot itself (no case) in the escalation channel, once per key."""
        self.outbox.enqueue("slack_alert", f"alert:bot:{key}", {"text": text})

    def _update_card(self, case_id: int, reason: str) -> None:
        count = self.book.event_count(case_id)
        self.outbox.enqueue(
            "slack_update", f"card-update:{case_id}:{count}:{reason}", {"reason": reason}, case_id
        )


def _masked(reason: str) -> str:
    """A flag's reason (it may quote the post) as alerts show it: personal data masked."""
    return escape_mrkdwn(mask_personal_data(reason))
