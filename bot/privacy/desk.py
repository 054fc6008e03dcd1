"""Privacy requests as staff meet them: opened from a post flagged ``privacy_request`` or by
"Treat as privacy request" on a card, acknowledged, extended and completed from the card or
the CLI, and the watcher that warns the privacy owner before and when a clock runs out.

The workflow exposes this as ``workflow.privacy`` and lends it its guard (approvers only,
one transaction, once per Slack interaction) and its card updates; it cannot import the
workflow itself, which imports it. Every message to Slack is an outbox row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.actions import ActionResult, Guard, slack_mention
from bot.cases import SYSTEM, Case, CaseBook
from bot.clock import local_label
from bot.config import Config
from bot.errors import PrivacyRequestError
from bot.outbox import Outbox
from bot.privacy.model import PrivacyAlert, PrivacyRequest
from bot.privacy.requests import PrivacyBook
from bot.records import StoredMention
from bot.replies import draft_reply, with_disclosure
from bot.store import Store

WINDOW_NAMES = {"acknowledge": "acknowledgement", "respond": "response"}


def post_method(platform: str) -> str:
    """How the request was made, as the request log (11 CCR 7101) records it."""
    return "imported post" if platform == "file" else f"public post on {platform}"


class PrivacyDesk:
    """What staff and the watcher do to privacy requests: each change goes through
    ``PrivacyBook`` and queues what Slack must show (the card update, an alert)."""

    def __init__(
        self,
        config: Config,
        store: Store,
        cases: CaseBook,
        outbox: Outbox,
        guard: Guard,
        update_card: Callable[[int, str], None],
    ) -> None:
        self.config = config
        self.store = store
        self.cases = cases
        self.outbox = outbox
        self.guard = guard
        self.update_card = update_card
        self.book = PrivacyBook(store, config.policy, cases.clock)

    # ---------------------------------------------------------------- opening

    def take_in(self, case_id: int, mention: StoredMention, case_opened: bool) -> None:
        """A post flagged ``privacy_request`` opened or joined the case: open its request
        (once per case). Called inside the workflow's transaction, which also queues the
        card or its update; a new case's risk alert already names the privacy owner."""
        case = self.cases.get(case_id)
        post = mention.post
        request, opened = self.book.open(
            case, post.created_at, post_method(case.platform), SYSTEM, post.text
        )
        if opened:
            self._opened(case, request, SYSTEM, alert=not case_opened)

    def open_request(self, case_id: int, actor: str) -> str:
        """Staff saw a privacy request in the case. It was received with the case's first
        post: the earliest it can have been made, so the clocks never run late."""
        case = self.cases.get(case_id)
        existing = self.book.for_case(case_id)
        if existing is not None:
            raise PrivacyRequestError(
                f"case {case_id} already has privacy request {existing.id} ({existing.status})"
            )
        text = self.cases.first_mention(case).post.text
        method = f"{post_method(case.platform)}, marked by staff"
        request, _ = self.book.open(case, case.opened_at, method, actor, text)
        self._opened(case, request, actor, alert=True)
        self.update_card(case_id, f"privacy-opened-{request.id}")
        return (
            f"Privacy request {request.id} opened for case {case_id}: acknowledge by "
            f"{self._local(request.acknowledge_due_at)}, respond by "
            f"{self._local(request.respond_due_at)}."
        )

    def _opened(self, case: Case, request: PrivacyRequest, actor: str, alert: bool) -> None:
        self.cases.record(case.id, actor, "privacy_request_opened", request_id=request.id)
        self._point_reply_to_privacy_url(case.id)
        if alert:
            who = "" if actor == SYSTEM else f" by <@{actor}>"
            self._alert(
                request,
                "opened",
                f":lock: Privacy request {request.id} ({request.kind}) opened for case "
                f"{case.id}{who}: acknowledge by {self._local(request.acknowledge_due_at)}, "
                f"respond by {self._local(request.respond_due_at)}. {self._owner()}",
            )

    def _point_reply_to_privacy_url(self, case_id: int) -> None:
        """A public answer to a privacy request points only to the request channel, so an
        unapproved draft becomes the privacy template (or, where a safety, legal or exposure
        template wins, gains a pointer to it)."""
        case = self.cases.get(case_id)
        url = self.config.brand.privacy_url
        if case.approved_at or case.reply_id or url in (case.draft_reply or ""):
            return
        disclosure = self.config.policy.replies.disclosure
        draft = draft_reply(
            self.config,
            category=case.category or "other",
            flags=[*case.flags, "privacy_request"],
            handle=case.author_handle,
            case_id=case.id,
            platform=case.platform,
        )
        if url not in draft:
            base = draft.removesuffix(disclosure) if disclosure else draft
            draft = with_disclosure(f"{base.rstrip()} For a privacy request: {url}", disclosure)
        self.cases.set_draft(case.id, draft)

    def reply_problem(self, case_id: int, text: str) -> str | None:
        """Why a public reply on this case may not go out as written, for its privacy request."""
        request = self.book.for_case(case_id)
        url = self.config.brand.privacy_url
        if request is None or not request.is_open or url in text:
            return None
        return (
            f"Case {case_id} is privacy request {request.id}: the public reply must point to "
            f"{url} (and ask for no personal details here)."
        )

    # ------------------------------------------------------ changes (CLI and Slack)

    def set_kind(self, request_id: int, actor: str, kind: str) -> str:
        request = self.book.set_kind(request_id, kind, actor)
        self._changed(request, "kind")
        return f"Privacy request {request_id}: kind set to {kind}."

    def acknowledge(self, request_id: int, actor: str) -> str:
        request = self.book.acknowledge(request_id, actor)
        self._changed(request, "acknowledged")
        late = "" if request.acknowledged_on_time else " (late)"
        return f"Privacy request {request_id} acknowledged{late}."

    def extend(self, request_id: int, actor: str, reason: str) -> str:
        request = self.book.extend(request_id, actor, reason)
        self._changed(request, "extended")
        return (
            f"Privacy request {request_id} extended: respond by "
            f"{self._local(request.respond_due_at)}. Tell the requester why, before the "
            "original deadline."
        )

    def complete(
        self, request_id: int, actor: str, outcome: str, denied: bool = False, basis: str = ""
    ) -> str:
        request = self.book.complete(request_id, actor, outcome, denied, basis)
        self._changed(request, request.status)
        late = "" if request.responded_on_time else " (after the deadline)"
        return f"Privacy request {request_id} {request.status}{late}."

    def _changed(self, request: PrivacyRequest, what: str) -> None:
        if request.case_id is not None:
            count = len(self.book.log(request.id))
            self.update_card(request.case_id, f"privacy-{what}-{request.id}-{count}")

    # ---------------------------------------------------------- Slack actions

    def treat_as_request(self, case_id: int, user: str, receipt: str | None) -> ActionResult:
        return self.guard(user, lambda: self.open_request(case_id, user), receipt)

    def set_kind_by(
        self, request_id: int, user: str, kind: str, receipt: str | None
    ) -> ActionResult:
        return self.guard(user, lambda: self.set_kind(request_id, user, kind), receipt)

    def acknowledge_by(self, request_id: int, user: str, receipt: str | None) -> ActionResult:
        return self.guard(user, lambda: self.acknowledge(request_id, user), receipt)

    def extend_by(
        self, request_id: int, user: str, reason: str, receipt: str | None
    ) -> ActionResult:
        return self.guard(user, lambda: self.extend(request_id, user, reason), receipt)

    def complete_by(
        self,
        request_id: int,
        user: str,
        outcome: str,
        denied: bool,
        basis: str,
        receipt: str | None,
    ) -> ActionResult:
        return self.guard(
            user, lambda: self.complete(request_id, user, outcome, denied, basis), receipt
        )

    # ---------------------------------------------------------------- watcher

    def watch(self) -> dict[str, int]:
        """Warn at ``warn_at`` of each window and on its breach, each once per request and
        window, in the escalation channel naming the privacy owner. The daemon runs it every
        minute, beside ``Workflow.watch_sla``."""
        counts = {"warnings": 0, "breaches": 0}
        for alert in self.book.due_for_warning():
            with self.store.transaction():
                if self.book.mark_warned(alert.request_id, alert.window):
                    self._clock_alert(alert, "warning")
                    counts["warnings"] += 1
        for alert in self.book.breached():
            with self.store.transaction():
                if self.book.mark_breached(alert.request_id, alert.window):
                    request = self._clock_alert(alert, "breach")
                    self._changed(request, f"breach-{alert.window}")
                    counts["breaches"] += 1
        return counts

    def _clock_alert(self, alert: PrivacyAlert, kind: str) -> PrivacyRequest:
        request = self.book.get(alert.request_id)
        what = WINDOW_NAMES[alert.window]
        case = f" (case {request.case_id})" if request.case_id is not None else ""
        head = f"Privacy request {request.id}{case}, {request.kind}"
        due = self._local(alert.due_at)
        if kind == "warning":
            share = f"{self.config.policy.warn_at:.0%}"
            text = (
                f":hourglass: {head}: {share} of the {what} window has passed; the {what} is "
                f"due {due}. {self._owner()}"
            )
        else:
            text = (
                f":rotating_light: {head}: the {what} deadline {due} has passed. "
                f"{self._owner()}, please act now."
            )
        # An extended response window is a new window: it warns (and breaches) once more.
        extended = "-extended" if alert.extended and alert.window == "respond" else ""
        self._alert(request, f"{alert.window}{extended}:{kind}", text)
        return request

    # ---------------------------------------------------------------- helpers

    def _alert(self, request: PrivacyRequest, key: str, text: str) -> None:
        self.outbox.enqueue(
            "slack_alert", f"alert:privacy:{request.id}:{key}", {"text": text}, request.case_id
        )

    def _owner(self) -> str:
        owner = slack_mention(self.config.policy.escalation.privacy_owner)
        return owner or "Privacy owner (set [policy.escalation] privacy_owner)"

    def _local(self, instant: datetime) -> str:
        return local_label(instant, self.config.policy.timezone)
