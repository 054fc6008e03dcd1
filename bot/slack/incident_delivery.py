"""Outbox handlers for incident cards (``incident_card``, ``incident_update``), and where a
member case's card updates and thread notes go while it has no card of its own: to the
incident's card and its thread.

Like case cards, the incident card is rendered when it is sent (so it shows the latest
state) and carries a block id, so a retry after a timeout finds it instead of posting twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.clock import iso
from bot.errors import TransientError
from bot.incidents import Incident, IncidentDesk
from bot.outbox import Delivery, Handler
from bot.records import Case
from bot.slack.delivery import CARD_NOT_POSTED_RETRY_SECONDS, SlackDelivery
from bot.slack.incident_cards import INCIDENT_BLOCK_PREFIX, Member, incident_card
from bot.slack.port import SlackError

LANE = "[slack] complaints_channel"


class IncidentDelivery:
    def __init__(self, desk: IncidentDesk, cards: SlackDelivery) -> None:
        self.desk = desk
        self.cards = cards
        self.ledger = desk.ledger
        cards.incidents = self  # member cases' updates and notes come here

    def handlers(self) -> dict[str, Handler]:
        return {
            "incident_card": self._guarded(self.post_card),
            "incident_update": self._guarded(self.update_card),
        }

    @staticmethod
    def lanes() -> dict[str, str]:
        return {"incident_card": LANE, "incident_update": LANE}

    def _guarded(self, handler: Handler) -> Handler:
        def deliver(delivery: Delivery) -> Mapping[str, Any]:
            try:
                return handler(delivery)
            except SlackError as exc:
                raise self.cards._setup_error(exc, "complaints_channel", delivery) from None

        return deliver

    def render(self, incident_id: int) -> tuple[str, list[dict[str, Any]]]:
        incident = self.ledger.get(incident_id)
        book = self.desk.book
        members = [
            Member(case, book.first_mention(case).post, self._blocked(incident, case))
            for case in self.desk.members(incident_id)
        ]
        listed = [Member(c, book.first_mention(c).post) for c in self.desk.listed(incident_id)]
        timezone = self.desk.config.policy.timezone
        return incident_card(incident, members, listed, book.clock.now(), timezone)

    def _blocked(self, incident: Incident, case: Case) -> str | None:
        """Why a member still waiting for its reply may not get one (None: it may, or it
        needs none any more)."""
        if case.reply_id or case.approved_at or not case.is_open:
            return None
        return self.desk.unanswerable(incident, case)

    def post_card(self, delivery: Delivery) -> Mapping[str, Any]:
        incident_id = int(delivery.payload["id"])
        incident = self.ledger.get(incident_id)
        if incident.slack_ts:
            return {"channel": incident.slack_channel, "ts": incident.slack_ts, "already": True}
        text, blocks = self.render(incident_id)
        channel = self.desk.config.slack.complaints_channel
        block_id = f"{INCIDENT_BLOCK_PREFIX}{incident_id}"
        posted = self.cards._post_once(delivery, channel, text, blocks, block_id)
        self.ledger.record_card(incident_id, posted.channel, posted.ts, self.cards._link(posted))
        return {"channel": posted.channel, "ts": posted.ts}

    def update_card(self, delivery: Delivery) -> Mapping[str, Any]:
        incident_id = int(delivery.payload["id"])
        incident = self.ledger.get(incident_id)
        if not incident.slack_ts or not incident.slack_channel:
            raise TransientError(
                "incident card not posted yet", retry_after=CARD_NOT_POSTED_RETRY_SECONDS
            )
        text, blocks = self.render(incident_id)
        self.cards.slack.update_message(incident.slack_channel, incident.slack_ts, text, blocks)
        return {"ts": incident.slack_ts, "at": iso(self.desk.book.clock.now())}

    # ------------------------------------------------------------------ members

    def _cardless_incident(self, case: Case) -> int | None:
        """The incident of a member case that has no card of its own (None otherwise)."""
        if case.slack_ts:
            return None
        link = self.desk.book.incident_link(case.id)
        if link is None or link.role != "member" or link.carded:
            return None
        return link.incident_id

    def update_for(self, case: Case) -> Mapping[str, Any] | None:
        """A member without a card of its own changed: its incident's card shows it."""
        incident_id = self._cardless_incident(case)
        if incident_id is None:
            return None
        channel, ts = self._posted_card(incident_id)
        text, blocks = self.render(incident_id)
        self.cards.slack.update_message(channel, ts, text, blocks)
        return {"incident": incident_id, "ts": ts}

    def thread_for(self, case: Case) -> tuple[str, str] | None:
        """Where a member's thread notes go while it has no card: the incident card's thread."""
        incident_id = self._cardless_incident(case)
        if incident_id is None:
            return None
        return self._posted_card(incident_id)

    def _posted_card(self, incident_id: int) -> tuple[str, str]:
        """Where the incident's card is; a transient error (retried) until it is posted."""
        incident = self.ledger.get(incident_id)
        if not incident.slack_ts or not incident.slack_channel:
            raise TransientError(
                "incident card not posted yet", retry_after=CARD_NOT_POSTED_RETRY_SECONDS
            )
        return incident.slack_channel, incident.slack_ts

    def skip_card(self, case: Case) -> bool:
        """A member that has no card of its own gets none while it is in the incident."""
        return self._cardless_incident(case) is not None
