"""Outbox handlers that take an erased person out of messages the bot already posted in Slack.

A deletion request (``privacy forget``) or a retention rule queues them in the
same transaction as the erasure in the store, so Slack is never forgotten: if
Slack is down they wait in the outbox like any card. A thread note or an alert
is edited to a one-line note (``slack_redact``); the week's digest message is
redrawn from the store as it now stands (``digest_redraw``), so its quotes no
longer hold the erased post. Cards need nothing new: ``slack_update`` redraws
them from the anonymised case.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.outbox import Delivery, Handler, SharedSetupError
from bot.privacy.slack_erasure import DIGEST_KIND, REDACT_KIND, REDACTED_TEXT
from bot.slack.delivery import EVERY_CHANNEL, SETUP_RETRY_SECONDS, TOKEN_ERRORS, setup_fix
from bot.slack.port import Blocks, SlackError, SlackPort

# Gone already (deleted by a person, or by Slack's own retention): nothing is left to redact.
GONE = frozenset({"message_not_found"})


@dataclass(frozen=True)
class Redrawn:
    """A posted digest message and what it should say now."""

    channel: str
    ts: str
    text: str
    blocks: Blocks


# The week's label → its posted digest message redrawn, or None when it was never posted.
DigestRedraw = Callable[[str], Redrawn | None]


REDACTION_KINDS = (REDACT_KIND, DIGEST_KIND)


class SlackRedaction:
    """The handlers for ``slack_redact`` and ``digest_redraw`` rows. The digest is drawn by
    ``redraw_digest`` (the app layer builds it from ``bot.digest``), so this module stays
    below the digest package."""

    def __init__(self, slack: SlackPort, redraw_digest: DigestRedraw | None = None) -> None:
        self.slack = slack
        self.redraw_digest = redraw_digest

    def handlers(self) -> dict[str, Handler]:
        return {REDACT_KIND: self._guarded(self.redact), DIGEST_KIND: self._guarded(self.redraw)}

    @staticmethod
    def lanes() -> dict[str, str]:
        """Outbox kind → what holds it back: only the token and the app's scopes can (the
        channel is the one the message was posted in, not a setting)."""
        return {REDACT_KIND: "[slack] redaction", DIGEST_KIND: "[slack] digest_channel"}

    def redact(self, delivery: Delivery) -> Mapping[str, Any]:
        channel, ts = str(delivery.payload["channel"]), str(delivery.payload["ts"])
        blocks = [
            {
                "type": "section",
                "block_id": f"redacted:{delivery.id}",
                "text": {"type": "mrkdwn", "text": REDACTED_TEXT},
            }
        ]
        return self._edit(channel, ts, REDACTED_TEXT, blocks)

    def redraw(self, delivery: Delivery) -> Mapping[str, Any]:
        week = str(delivery.payload["week"])
        drawn = self.redraw_digest(week) if self.redraw_digest is not None else None
        if drawn is None:
            return {"week": week, "posted": False}
        return {"week": week, **self._edit(drawn.channel, drawn.ts, drawn.text, drawn.blocks)}

    def _edit(self, channel: str, ts: str, text: str, blocks: Blocks) -> Mapping[str, Any]:
        try:
            self.slack.update_message(channel, ts, text, blocks)
        except SlackError as exc:
            if exc.code in GONE:
                return {"channel": channel, "ts": ts, "gone": True}
            raise
        return {"channel": channel, "ts": ts}

    @staticmethod
    def _guarded(handler: Handler) -> Handler:
        """A refused token or a missing scope holds every redaction until a person fixes it."""

        def deliver(delivery: Delivery) -> Mapping[str, Any]:
            try:
                return handler(delivery)
            except SlackError as exc:
                if exc.code not in TOKEN_ERRORS | {"missing_scope"}:
                    raise
                fix = setup_fix(exc.code, "", "", exc.needed) or str(exc)
                raise SharedSetupError(
                    fix, lane=EVERY_CHANNEL, retry_after=SETUP_RETRY_SECONDS
                ) from None

        return deliver
