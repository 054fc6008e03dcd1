"""What an incident does at intake and on its card's four actions.

- **Intake** (``take_in``, inside ``Workflow.take_in``'s transaction): a complaint that joins
  an incident gets no card of its own. When an incident opens, the cards of its earlier
  cases that are still queued are withdrawn; a card already in Slack stays, with a note in
  its thread pointing at the incident (an approval there answers that case alone, and the
  incident's approval then skips it). Risk-flagged cases are listed and keep their cards.
- **Approve**: one transaction claims each member's approval (``CaseBook.claim_approval``,
  so each case still has exactly one approval by a person) for its own text (the template
  filled with its handle and case id) and queues its reply with its own key, spaced at the
  platform's pace. A member that may not be answered (the platform's rule, the guard) is
  listed on the card, not posted.
- **Edit**: the template; it must keep ``{handle}`` and ``{case_id}`` (no identical posts).
- **Exclude**: the case leaves (its own SLA back) and gets its own card.
- **Resolve**: every open member is resolved.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bot.actions import ActionResult
from bot.approvals import ReplyApprovals
from bot.cases import Case, CaseBook
from bot.config import Config
from bot.incidents.ledger import IncidentLedger, Placement
from bot.incidents.model import Incident
from bot.incidents.terms import key_terms
from bot.models import RISK_FLAGS, Embedder, Mention
from bot.outbox import Outbox
from bot.replies import addressed, choose_template, fill, safe_handle, with_disclosure
from bot.store import Store

# Seconds between two bulk replies on one platform: X allows about 100 posts per 15 minutes
# per user (10 s apart is 90); Reddit rate-limits comments per account (6 s apart keeps
# well inside it). docs/incidents.md.
PACE_SECONDS = {"x": 10.0, "reddit": 6.0}
DEFAULT_PACE_SECONDS = 5.0
PER_CASE = ("{handle}", "{case_id}")

Guarded = Callable[[str, Callable[[], str], "str | None"], ActionResult]


class IncidentDesk:
    def __init__(
        self,
        config: Config,
        store: Store,
        book: CaseBook,
        outbox: Outbox,
        embedder: Embedder,
        approvals: ReplyApprovals,
        guarded: Guarded,
        update_card: Callable[[int, str], None],
    ) -> None:
        self.config = config
        self.store = store
        self.book = book
        self.outbox = outbox
        self.embedder = embedder
        self.approvals = approvals
        self.guarded = guarded
        self.update_card = update_card
        self.ledger = IncidentLedger(store, book.clock, config.incidents)
        brand = config.brand
        self.ignore = (*brand.terms, brand.name, config.x.handle, config.reddit.username)

    # ------------------------------------------------------------------ intake

    def take_in(self, case: Case, post: Mention) -> bool:
        """Group a newly opened complaint case; True when it joined an incident as a member
        (then it gets no card of its own)."""
        vector = self.embedder.embed([post.text])[0]
        risky = bool(set(case.flags) & set(RISK_FLAGS))
        terms = key_terms(post.text, self.ignore)
        placement = self.ledger.place(case.id, case.category, post.created_at, vector, terms, risky)
        if placement.incident_id is None:
            return False
        incident_id = placement.incident_id
        if risky:
            self.book.link_to_incident(case.id, incident_id, "listed", True, None)
            self.card_changed(incident_id)
            return False
        if placement.opened:
            self._open(incident_id, case, placement)
        else:
            self.book.link_to_incident(
                case.id, incident_id, "member", False, self._lead(incident_id)
            )
            self.card_changed(incident_id)
        return True

    def flagged(self, case: Case, flags: tuple[str, ...]) -> None:
        """A follow-up raised risk flags on a member: it leaves the incident's bulk reply and
        SLA (its own deadlines, now at its new priority, come back) and is listed on the card
        with a card of its own, like a case flagged from the start."""
        if not set(flags) & set(RISK_FLAGS):
            return
        link = self.book.incident_link(case.id)
        if link is None or link.role != "member":
            return
        incident_id = link.incident_id
        reason = f"a follow-up raised {', '.join(flags)}"
        self.book.unlink_from_incident(case.id, "system", reason)
        self.ledger.shrink(incident_id, case.id)
        self.book.link_to_incident(case.id, incident_id, "listed", True, None)
        if not link.carded:
            self.outbox.enqueue("slack_card", f"card:{case.id}:risk-flagged", {}, case.id)
        self.card_changed(incident_id)

    def _open(self, incident_id: int, case: Case, placement: Placement) -> None:
        earlier = [self.book.get(i) for i in placement.earlier]
        lead = min([case, *earlier], key=lambda c: (c.opened_at, c.id))
        template = self.template(case.category)
        self.ledger.set_draft(incident_id, template)
        for member in earlier:
            withdrawn = self.outbox.withdraw(
                [member.id], ("slack_card",), f"incident {incident_id}"
            )
            carded = withdrawn == 0
            self.book.link_to_incident(member.id, incident_id, "member", carded, lead)
            if carded:
                self.outbox.enqueue(
                    "slack_thread",
                    f"incident-joined:{member.id}:{incident_id}",
                    {
                        "text": f":link: This case is part of incident {incident_id} "
                        "now: its reply is approved with the others on the incident's card "
                        "(approving it here answers this case alone)."
                    },
                    member.id,
                )
        self.book.link_to_incident(case.id, incident_id, "member", False, lead)
        self.outbox.enqueue("incident_card", f"incident-card:{incident_id}", {"id": incident_id})

    def _lead(self, incident_id: int) -> Case | None:
        """The incident's first case (the lowest id: cases are numbered as they open)."""
        lead = self.book.first_member(incident_id)
        return None if lead is None else self.book.get(lead)

    def card_changed(self, incident_id: int) -> None:
        """Queue an update of the incident's card, unless one still waits: it is rendered when
        sent, so it shows this change too (a burst of joins is one chat.update, not one each)."""
        version = self.ledger.bump(incident_id)
        queued = self.ledger.card_queued(incident_id)
        if queued is not None:
            waiting = self.store.db.execute(
                "SELECT status FROM outbox WHERE idempotency_key = ?",
                [f"incident-update:{incident_id}:{queued}"],
            ).fetchone()
            if waiting is not None and waiting[0] == "pending":
                return
        self.outbox.enqueue(
            "incident_update", f"incident-update:{incident_id}:{version}", {"id": incident_id}
        )
        self.ledger.set_card_queued(incident_id, version)

    # ------------------------------------------------------------------ replies

    def template(self, category: str) -> str:
        """The category's reply template with everything filled but the handle and case id."""
        brand = self.config.brand
        chosen = choose_template(category, (), self.config.policy.templates)
        values = {
            "support_url": brand.support_url,
            "privacy_url": brand.privacy_url,
            "brand": brand.name,
        }
        return fill(chosen, values)

    def reply_for(self, template: str, case: Case) -> str:
        """One member's reply: the template with its own handle and case id (so no two
        replies are the same text), the disclosure, Reddit's u/ for a Reddit author."""
        name = safe_handle(case.author_handle)
        text = fill(template, {"handle": name, "case_id": str(case.id), "first_name": name})
        text = with_disclosure(text, self.config.policy.replies.disclosure)
        return addressed(text, case.author_handle, case.platform)

    def members(self, incident_id: int) -> list[Case]:
        links = self.book.incident_links(incident_id)
        return [self.book.get(link.case_id) for link in links if link.role == "member"]

    def listed(self, incident_id: int) -> list[Case]:
        links = self.book.incident_links(incident_id)
        return [self.book.get(link.case_id) for link in links if link.role == "listed"]

    def unanswerable(self, incident: Incident, case: Case) -> str | None:
        """Why this member's reply may not be posted (None: it may)."""
        if not case.can_reply:
            return case.reply_block_reason or "the platform does not allow a reply"
        text = self.reply_for(incident.draft_template or "", case)
        return self.approvals.check_reply_text(case.id, text)

    # ------------------------------------------------------------------ actions

    def approve(self, incident_id: int, user: str, receipt: str | None = None) -> ActionResult:
        def act() -> str:
            incident = self.ledger.get(incident_id)
            if not incident.is_open:
                raise ValueError(f"Incident {incident_id} is resolved.")
            queued, skipped = 0, 0
            slots: dict[str, float] = {}
            now = self.book.clock.now()
            for case in self.members(incident_id):
                if not case.is_open or case.approved_at or case.reply_id:
                    continue
                if self.unanswerable(incident, case):
                    skipped += 1
                    continue
                text = self.reply_for(incident.draft_template or "", case)
                if not self.book.claim_approval(
                    case.id, user, text, "approved", incident_id=incident_id
                ):
                    continue
                offset = slots.get(case.platform, 0.0)
                slots[case.platform] = offset + PACE_SECONDS.get(
                    case.platform, DEFAULT_PACE_SECONDS
                )
                self.outbox.enqueue(
                    "platform_reply",
                    f"reply:{case.id}",
                    {},
                    case.id,
                    not_before=now + timedelta(seconds=offset),
                )
                if self._carded(case.id):
                    self.update_card(case.id, "approved")
                queued += 1
            if not queued:
                raise ValueError(
                    f"Incident {incident_id} has no member left to answer"
                    + (f" ({skipped} may not be answered; see the card)." if skipped else ".")
                )
            self.ledger.mark_approved(incident_id, user)
            self.card_changed(incident_id)
            also = f"; {skipped} may not be answered (listed on the card)" if skipped else ""
            return (
                f"Approved: {queued} replies for incident {incident_id} are being posted at "
                f"the platforms' pace{also}."
            )

        return self.guarded(user, act, receipt)

    def _carded(self, case_id: int) -> bool:
        link = self.book.incident_link(case_id)
        return link is not None and link.carded

    def edit(
        self, incident_id: int, user: str, text: str, receipt: str | None = None
    ) -> ActionResult:
        problem = self.edit_problem(incident_id, text)
        if problem:
            return ActionResult(False, problem)

        def act() -> str:
            self.ledger.set_draft(incident_id, text.strip())
            self.card_changed(incident_id)
            return f"The reply for incident {incident_id} was changed."

        return self.guarded(user, act, receipt)

    def edit_problem(self, incident_id: int, text: str) -> str | None:
        """Why this template cannot be the incident's reply (None: it can)."""
        missing = [p for p in PER_CASE if p not in text]
        if missing:
            return (
                f"Keep {' and '.join(missing)} in the reply: each member's reply is filled "
                "with its own handle and case id, so no two are the same text (X and Reddit "
                "treat identical posts as spam)."
            )
        members = [c for c in self.members(incident_id) if c.is_open and not c.reply_id]
        if members:
            return self.approvals.check_reply_text(members[0].id, self.reply_for(text, members[0]))
        return None

    def exclude(
        self, incident_id: int, case_id: int, user: str, receipt: str | None = None
    ) -> ActionResult:
        def act() -> str:
            link = self.book.incident_link(case_id)
            if link is None or link.incident_id != incident_id:
                raise ValueError(f"Case {case_id} is not in incident {incident_id}.")
            self.book.unlink_from_incident(case_id, user, f"excluded from incident {incident_id}")
            if link.role == "member":
                self.ledger.shrink(incident_id, case_id)
            if not link.carded:
                self.outbox.enqueue("slack_card", f"card:{case_id}:out-of-incident", {}, case_id)
            self.card_changed(incident_id)
            return f"Case {case_id} is out of incident {incident_id}; it has its own card."

        return self.guarded(user, act, receipt)

    def resolve(self, incident_id: int, user: str, receipt: str | None = None) -> ActionResult:
        def act() -> str:
            incident = self.ledger.get(incident_id)
            if not incident.is_open:
                raise ValueError(f"Incident {incident_id} is already resolved.")
            resolved = 0
            for case in self.members(incident_id):
                if case.status in ("new", "responded"):
                    note = f"resolved with incident {incident_id}"
                    self.book.transition(case.id, "resolved", user, note=note)
                    if self._carded(case.id):
                        self.update_card(case.id, "resolved")
                    resolved += 1
            self.ledger.mark_resolved(incident_id, user)
            self.card_changed(incident_id)
            return f"Incident {incident_id} resolved ({resolved} cases)."

        return self.guarded(user, act, receipt)
