"""Outbox handlers for Slack: render the case's current state and send it through ``SlackPort``.

Cards are rendered when delivered, not when queued, so a card update always
shows the latest state even if Slack was down for a while.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot.cases import CaseBook
from bot.clock import iso, parse_iso
from bot.config import Config
from bot.errors import TransientError
from bot.outbox import Delivery, Handler
from bot.slack.cards import CARD_BLOCK_PREFIX, case_card
from bot.slack.port import HISTORY_LOOKBACK_SECONDS, PostedMessage, SlackError, SlackPort
from bot.store import Store

log = logging.getLogger(__name__)

CARD_NOT_POSTED_RETRY_SECONDS = 5.0


class SlackDelivery:
    def __init__(self, config: Config, store: Store, book: CaseBook, slack: SlackPort) -> None:
        self.config = config
        self.store = store
        self.book = book
        self.slack = slack

    def handlers(self) -> dict[str, Handler]:
        return {
            "slack_card": self.post_card,
            "slack_update": self.update_card,
            "slack_thread": self.post_in_thread,
            "slack_alert": self.post_alert,
        }

    def _render(self, case_id: int) -> tuple[dict[str, Any], str, list[dict[str, Any]]]:
        case = self.book.get(case_id)
        mention = self.store.mention(case["first_mention_id"])
        text, blocks = case_card(case, mention, self.config.policy.timezone)
        return case, text, [block.to_dict() for block in blocks]

    def post_card(self, delivery: Delivery) -> Mapping[str, Any]:
        case, text, blocks = self._render(int(delivery.case_id or 0))
        if case["slack_ts"]:
            return {"channel": case["slack_channel"], "ts": case["slack_ts"], "already": True}
        channel = self.config.slack.complaints_channel
        posted = None
        if delivery.resumed or delivery.attempt > 1:  # Slack may have taken the last try
            posted = self._posted_card(channel, case["id"], delivery)
        if posted is None:
            posted = self.slack.post_message(channel, text, blocks)
        self.store.db.table("cases").update(
            case["id"], {"slack_channel": posted.channel, "slack_ts": posted.ts}
        )
        self.book.record(case["id"], "system", "card_posted", channel=posted.channel, ts=posted.ts)
        return {"channel": posted.channel, "ts": posted.ts}

    def _posted_card(self, channel: str, case_id: int, delivery: Delivery) -> PostedMessage | None:
        """The card Slack took on an earlier try, if any. When the channel cannot be read (an
        app installed without ``channels:history``), a second card beats a missing one."""
        since = parse_iso(delivery.created_at).timestamp() - HISTORY_LOOKBACK_SECONDS
        try:
            return self.slack.find_message(channel, f"{CARD_BLOCK_PREFIX}{case_id}", since)
        except SlackError as exc:
            if exc.transient:
                raise
            log.warning(
                "cannot look for case %s's card (%s); posting it, perhaps twice", case_id, exc
            )
            return None

    def update_card(self, delivery: Delivery) -> Mapping[str, Any]:
        case, text, blocks = self._render(int(delivery.case_id or 0))
        if not case["slack_ts"]:
            raise TransientError("card not posted yet", retry_after=CARD_NOT_POSTED_RETRY_SECONDS)
        self.slack.update_message(case["slack_channel"], case["slack_ts"], text, blocks)
        return {"ts": case["slack_ts"], "at": iso(self.book.clock.now())}

    def post_in_thread(self, delivery: Delivery) -> Mapping[str, Any]:
        case = self.book.get(int(delivery.case_id or 0))
        if not case["slack_ts"]:
            raise TransientError("card not posted yet", retry_after=CARD_NOT_POSTED_RETRY_SECONDS)
        posted = self.slack.post_message(
            case["slack_channel"], delivery.payload["text"], thread_ts=case["slack_ts"]
        )
        return {"ts": posted.ts}

    def post_alert(self, delivery: Delivery) -> Mapping[str, Any]:
        posted = self.slack.post_message(
            self.config.slack.escalation_channel, delivery.payload["text"]
        )
        return {"channel": posted.channel, "ts": posted.ts}
