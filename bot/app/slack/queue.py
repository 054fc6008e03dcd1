"""The queue in Slack: the App Home tab, published each time someone opens it, and the
``/complaints`` slash command.

Both only read cases (``CaseBook.cases`` and ``find``). The command acks first and works
after: Slack gives a slash command 3 seconds, and the answer goes back through the
command's ``response_url`` (``respond``), which stays usable for 30 minutes. Only the
complaints team (``Workflow.is_approver``) sees cases; anyone else gets one line saying so.
"""

from __future__ import annotations

import logging
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


def line(text: str) -> Answer:
    return text, [section(mrkdwn(text))]


def register_queue(app: App, workflow: Workflow, slack: WebSlack) -> None:
    """App Home, ``/complaints`` and the queue's *Show case* button."""
    queue = Queue(workflow, slack)

    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        user = str(event["user"])
        try:
            slack.publish_home(user, queue.home(user))
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
