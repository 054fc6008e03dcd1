"""The queue in Slack: the App Home tab, published each time someone opens it and again
whenever what it shows has changed (``HomeTabs.refresh``, a daemon job), and the
``/complaints`` slash command.

Both only read cases (``CaseBook.cases`` and ``find``). The command acks first and works
after: Slack gives a slash command 3 seconds, and the answer goes back through the
command's ``response_url`` (``respond``), which stays usable for 30 minutes. Only the
complaints team (``Workflow.is_approver``) sees cases; anyone else gets one line saying so.
"""

from __future__ import annotations

import logging
from threading import Lock
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.app.slack.forms import open_form
from bot.app.slack.web import WebSlack
from bot.cases import Case
from bot.slack.blocks import Json, mrkdwn, section
from bot.slack.cards import case_card
from bot.slack.delivery import card_link
from bot.slack.home import (
    COMMAND,
    HOME_ROWS,
    LIST_ROWS,
    LISTED_STATUSES,
    NOT_STAFF,
    SHOW_CASE,
    USAGE,
    case_list,
    case_modal,
    home_view,
    message_modal,
    no_such_case,
    not_staff_view,
    parse_command,
    queue_rows,
    status_counts,
)
from bot.slack.port import SlackError
from bot.workflow import Workflow

log = logging.getLogger(__name__)
Answer = tuple[str, list[Json]]


class Queue:
    """The queue as one staff member sees it, read from the case book on each request."""

    def __init__(self, workflow: Workflow, slack: WebSlack) -> None:
        self.workflow = workflow
        self.slack = slack

    @property
    def timezone(self) -> str:
        return self.workflow.config.policy.timezone

    def _cases(self) -> list[Case]:
        return self.workflow.book.cases(LISTED_STATUSES)

    def _permalinks(self, cases: list[Case], user: str, limit: int) -> dict[int, str]:
        """Links to the cards of the rows that will be shown; a card Slack will not link
        (rate-limited, deleted) is shown without one."""
        now = self.workflow.clock.now()
        links: dict[int, str] = {}
        for row in queue_rows(cases, user, now)[:limit]:
            link = card_link(self.workflow.book, self.slack, row.case)
            if link:
                links[row.case.id] = link
        return links

    def home(self, user: str) -> Json:
        if not self.workflow.is_approver(user):
            return not_staff_view()
        cases = self._cases()
        links = self._permalinks(cases, user, HOME_ROWS)
        now = self.workflow.clock.now()
        return home_view(cases, user, now, self.timezone, links)

    def home_state(self, user: str) -> object:
        """What ``user``'s Home tab shows, without the clock's minute: the counts and the
        cases of its rows (any change to one changes its ``updated_at``). Two equal states
        are the same tab, apart from the "as of" time and how long is left."""
        if not self.workflow.is_approver(user):
            return None
        cases = self._cases()
        now = self.workflow.clock.now()
        rows = queue_rows(cases, user, now)[:HOME_ROWS]
        return status_counts(cases, user, now), [(row.case, row.breached) for row in rows]

    def card(self, case: Case) -> Answer:
        post = self.workflow.book.first_mention(case).post
        request = self.workflow.privacy.book.for_case(case.id)
        return case_card(case, post, self.timezone, request)

    def answer(self, user: str, text: str) -> Answer:
        """What ``/complaints <text>`` shows ``user``: (fallback text, blocks)."""
        asked = parse_command(text)
        if asked.kind == "help":
            return line(USAGE)
        if asked.kind == "bad":
            return line(asked.problem)
        if not self.workflow.is_approver(user):
            return line(NOT_STAFF)
        if asked.kind == "case":
            case = self.workflow.book.find(asked.case_id)
            return self.card(case) if case else line(no_such_case(asked.case_id))
        cases = self._cases()
        title = "Open cases"
        if asked.kind == "mine":
            cases = [case for case in cases if case.assignee == user]
            title = "Your open cases"
        links = self._permalinks(cases, user, LIST_ROWS)
        now = self.workflow.clock.now()
        return case_list(cases, user, now, self.timezone, title=title, permalinks=links)

    def show(self, user: str, case_id: int) -> Json:
        """The modal *Show case* opens."""
        if not self.workflow.is_approver(user):
            return message_modal("Complaints queue", NOT_STAFF)
        case = self.workflow.book.find(case_id)
        if case is None:
            return message_modal("Complaints queue", no_such_case(case_id))
        _, blocks = self.card(case)
        return case_modal(case.id, blocks)


class HomeTabs:
    """The Home tabs this process has published, kept current. Slack shows a published Home
    view until the app publishes another, so a case resolved or assigned since someone opened
    the tab would stay listed as it was. ``refresh`` publishes a tab again when what it shows
    changed (``Queue.home_state``), so an unchanged tab costs no API call."""

    def __init__(self, queue: Queue, slack: WebSlack) -> None:
        self.queue = queue
        self.slack = slack
        self._lock = Lock()
        self._shown: dict[str, object] = {}

    def publish(self, user: str) -> None:
        """Publish ``user``'s tab (they opened it) and remember it for ``refresh``."""
        state = self.queue.home_state(user)
        self.slack.publish_home(user, self.queue.home(user))
        with self._lock:
            self._shown[user] = state

    def refresh(self) -> int:
        """Publish again every remembered tab whose content changed; how many were."""
        with self._lock:
            shown = dict(self._shown)
        published = 0
        for user, before in shown.items():
            state = self.queue.home_state(user)
            if state == before:
                continue
            try:
                self.slack.publish_home(user, self.queue.home(user))
            except SlackError as exc:
                log.warning("could not refresh %s's Home tab: %s", user, exc)
                continue
            with self._lock:
                self._shown[user] = state
            published += 1
        return published


def line(text: str) -> Answer:
    return text, [section(mrkdwn(text))]


def register_queue(
    app: App, workflow: Workflow, slack: WebSlack, tabs: HomeTabs | None = None
) -> None:
    """App Home, ``/complaints`` and the queue's *Show case* button. ``tabs`` remembers the
    Home tabs published, for the daemon to keep current (``SlackListener.refresh_home``)."""
    queue = Queue(workflow, slack)
    tabs = tabs or HomeTabs(queue, slack)

    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        user = str(event["user"])
        try:
            tabs.publish(user)
        except SlackError as exc:
            log.warning("could not publish %s's Home tab: %s", user, exc)

    @app.command(COMMAND)
    def complaints(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()
        text, blocks = queue.answer(str(command["user_id"]), str(command.get("text") or ""))
        sent = respond(text=text, blocks=blocks, response_type="ephemeral")
        if sent.status_code != 200:
            log.warning("Slack refused the %s answer: %s %s", COMMAND, sent.status_code, sent.body)

    @app.action(SHOW_CASE)
    def show(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        open_form(slack, body, queue.show(str(body["user"]["id"]), int(action["value"])))
