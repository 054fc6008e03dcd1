"""Outbox handlers for Slack: render the case's current state and send it through ``SlackPort``.

Cards are rendered when delivered, not when queued, so a card update always
shows the latest state even if Slack was down for a while. Every message we post
carries a block id naming its outbox row, so a retry after a timeout first looks
for it in the channel (or the thread) instead of posting it twice. A refusal that
comes from how the bot is set up (a wrong channel, the app not invited, a revoked
token) becomes ``SetupError``: the messages wait, a person is told the fix (in the
log, in ``/healthz``, and in the escalation channel when only the complaints channel
refuses), and they go out once it is made. A card whose channel refuses it later (the
channel archived, the app removed, the channel gone) moves to
``[slack] complaints_channel`` once that names a channel that takes it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from bot.cases import Case, CaseBook
from bot.clock import iso, parse_iso
from bot.config import Config
from bot.errors import SetupError, TransientError
from bot.outbox import Delivery, Handler, Outbox, SharedSetupError
from bot.privacy.requests import PrivacyBook
from bot.redact import escape_mrkdwn
from bot.slack.cards import CARD_BLOCK_PREFIX, case_card
from bot.slack.port import HISTORY_LOOKBACK_SECONDS, PostedMessage, SlackError, SlackPort

log = logging.getLogger(__name__)

CARD_NOT_POSTED_RETRY_SECONDS = 5.0
SETUP_RETRY_SECONDS = 60.0
MESSAGE_BLOCK_PREFIX = "outbox:"
TOKEN_ERRORS = frozenset({"invalid_auth", "not_authed", "token_revoked", "account_inactive"})
CHANNEL_ERRORS = frozenset({"channel_not_found", "not_in_channel", "is_archived"})
SETUP_ERRORS = TOKEN_ERRORS | CHANNEL_ERRORS | {"missing_scope"}
# A refused token or a missing scope holds every Slack message, whatever its channel.
EVERY_CHANNEL = "every Slack channel"
# Which channel setting each kind of row posts to, and so which waits when that one is wrong.
CHANNEL_KEYS = {
    "slack_card": "complaints_channel",
    "slack_update": "complaints_channel",
    "slack_thread": "complaints_channel",
    "slack_alert": "escalation_channel",
}


def tagged(text: str, block_id: str) -> list[dict[str, Any]]:
    """A plain message as one section block with an id we can find it by later."""
    return [{"type": "section", "block_id": block_id, "text": {"type": "mrkdwn", "text": text}}]


class MemberRoute(Protocol):
    """Where an incident member with no card of its own shows (bot.slack.incident_delivery)."""

    def update_for(self, case: Case) -> Mapping[str, Any] | None: ...

    def thread_for(self, case: Case) -> tuple[str, str] | None: ...

    def skip_card(self, case: Case) -> bool: ...


class SlackDelivery:
    incidents: MemberRoute | None = None

    def __init__(self, config: Config, book: CaseBook, slack: SlackPort) -> None:
        self.config = config
        self.book = book
        self.slack = slack
        self.privacy = PrivacyBook(book.store, config.policy, book.clock)
        self.outbox = Outbox(book.store, book.clock)
        self._alerted: dict[str, str] = {}  # channel setting → the refusal the team was told of

    def handlers(self) -> dict[str, Handler]:
        return {
            kind: self._guarded(kind, handler)
            for kind, handler in (
                ("slack_card", self.post_card),
                ("slack_update", self.update_card),
                ("slack_thread", self.post_in_thread),
                ("slack_alert", self.post_alert),
            )
        }

    @staticmethod
    def lanes() -> dict[str, str]:
        """Outbox kind → the setting whose fault holds it back (for the worker's lanes)."""
        return {kind: f"[slack] {key}" for kind, key in CHANNEL_KEYS.items()}

    def _guarded(self, kind: str, handler: Handler) -> Handler:
        key = CHANNEL_KEYS[kind]

        def deliver(delivery: Delivery) -> Mapping[str, Any]:
            try:
                result = handler(delivery)
            except SlackError as exc:
                raise self._setup_error(exc, key, delivery) from None
            self._alerted.pop(key, None)
            return result

        return deliver

    def _setup_error(self, exc: SlackError, key: str, delivery: Delivery) -> Exception:
        """What a refusal means for the row: ``exc`` itself unless the setup is at fault."""
        fix = setup_fix(exc.code, key, getattr(self.config.slack, key), exc.needed, exc.renamed_to)
        if fix is None:
            return exc
        if exc.code in TOKEN_ERRORS or exc.code == "missing_scope":
            return SharedSetupError(fix, lane=EVERY_CHANNEL, retry_after=SETUP_RETRY_SECONDS)
        self._alert(key, exc.code, fix, delivery)
        return SetupError(fix, retry_after=SETUP_RETRY_SECONDS)

    def _alert(self, key: str, code: str, fix: str, delivery: Delivery) -> None:
        """Tell the team in the escalation channel, once per refusal, that one of the other
        channels refuses the bot (the escalation channel itself cannot carry that news)."""
        if key == "escalation_channel" or self._alerted.get(key) == code:
            return
        self._alerted[key] = code
        self.outbox.enqueue(
            "slack_alert",
            f"alert:bot:slack-setup:{key}:{code}:{delivery.id}",
            {
                "text": f":warning: Slack refuses the bot's messages ({code}), so they wait: "
                f"{escape_mrkdwn(fix)}."
            },
        )

    def _render(self, case_id: int) -> tuple[Case, str, list[dict[str, Any]]]:
        case = self.book.get(case_id)
        post = self.book.first_mention(case).post
        request = self.privacy.for_case(case.id)
        text, blocks = case_card(case, post, self.config.policy.timezone, request)
        return case, text, blocks

    def post_card(self, delivery: Delivery) -> Mapping[str, Any]:
        case, text, blocks = self._render(int(delivery.case_id or 0))
        if case.slack_ts:
            return {"channel": case.slack_channel, "ts": case.slack_ts, "already": True}
        if self.incidents is not None and self.incidents.skip_card(case):
            return {"skipped": "incident member"}
        channel = self.config.slack.complaints_channel
        block_id = f"{CARD_BLOCK_PREFIX}{case.id}"
        posted = self._post_once(delivery, channel, text, blocks, block_id)
        self.book.record_card(case.id, posted.channel, posted.ts, self._link(posted))
        return {"channel": posted.channel, "ts": posted.ts}

    def update_card(self, delivery: Delivery) -> Mapping[str, Any]:
        case, text, blocks = self._render(int(delivery.case_id or 0))
        routed = self.incidents.update_for(case) if self.incidents is not None else None
        if routed is not None:
            return routed
        if not case.slack_ts or not case.slack_channel:
            raise TransientError("card not posted yet", retry_after=CARD_NOT_POSTED_RETRY_SECONDS)
        try:
            self.slack.update_message(case.slack_channel, case.slack_ts, text, blocks)
        except SlackError as exc:
            if exc.code not in CHANNEL_ERRORS:
                raise
            moved = self._move_card(delivery, case, text, blocks, exc)
            return {"ts": moved.ts, "channel": moved.channel, "at": iso(self.book.clock.now())}
        return {"ts": case.slack_ts, "at": iso(self.book.clock.now())}

    def post_in_thread(self, delivery: Delivery) -> Mapping[str, Any]:
        case = self.book.get(int(delivery.case_id or 0))
        text = delivery.payload["text"]
        thread = self.incidents.thread_for(case) if self.incidents is not None else None
        if thread is not None:
            return {"ts": self._post_tagged(delivery, thread[0], text, thread_ts=thread[1]).ts}
        if not case.slack_ts or not case.slack_channel:
            raise TransientError("card not posted yet", retry_after=CARD_NOT_POSTED_RETRY_SECONDS)
        try:
            posted = self._post_tagged(delivery, case.slack_channel, text, thread_ts=case.slack_ts)
        except SlackError as exc:
            if exc.code not in CHANNEL_ERRORS:
                raise
            _, card_text, blocks = self._render(case.id)
            card = self._move_card(delivery, case, card_text, blocks, exc)
            posted = self._post_tagged(delivery, card.channel, text, thread_ts=card.ts)
        return {"ts": posted.ts}

    def _move_card(
        self,
        delivery: Delivery,
        case: Case,
        text: str,
        blocks: list[dict[str, Any]],
        refused: SlackError,
    ) -> PostedMessage:
        """The card's channel refuses it now (archived, the app removed, deleted). New cards go
        to ``[slack] complaints_channel``: once that names a channel that takes them, the card
        is posted there and the case follows it, so staff can act on it again. While it is
        the same channel, the post is refused alike and the row waits with the other cards.
        """
        channel = self.config.slack.complaints_channel
        posted = self._post_once(delivery, channel, text, blocks, f"{CARD_BLOCK_PREFIX}{case.id}")
        if (posted.channel, posted.ts) == (case.slack_channel, case.slack_ts):
            raise refused  # found the card itself: the configured channel is the one refusing
        self.book.record_card(case.id, posted.channel, posted.ts, self._link(posted))
        log.warning(
            "case %s: its card's channel %s refuses it (%s); the card is now in %s",
            case.id,
            case.slack_channel,
            refused.code,
            posted.channel,
        )
        return posted

    def post_alert(self, delivery: Delivery) -> Mapping[str, Any]:
        """An alert in the escalation channel; one about a case links to the case's card."""
        text = delivery.payload["text"]
        if delivery.case_id:
            text = f"{text}\n{self._card_line(int(delivery.case_id))}"
        posted = self._post_tagged(delivery, self.config.slack.escalation_channel, text)
        return {"channel": posted.channel, "ts": posted.ts}

    def _link(self, message: PostedMessage) -> str | None:
        return permalink(self.slack, message)

    def _card_line(self, case_id: int) -> str:
        case = self.book.find(case_id)
        incident = self._incident_card_of(case) if case is not None else None
        if incident is not None:
            return f"Case {case_id} is answered on its incident's card in <#{incident[0]}>."
        if case is None or not (case.slack_channel and case.slack_ts):
            return (
                f"Case {case_id}'s card is not in Slack yet; it follows in the complaints channel."
            )
        link = card_link(self.book, self.slack, case)
        if not link:
            return f"Case {case_id}'s card is in <#{case.slack_channel}>."
        return f"<{link}|Open case {case_id}'s card>"

    def _incident_card_of(self, case: Case) -> tuple[str, str] | None:
        """The incident card standing in for a member's own card (None: it has its own)."""
        if self.incidents is None:
            return None
        try:
            return self.incidents.thread_for(case)
        except TransientError:
            return None

    def _post_tagged(
        self, delivery: Delivery, channel: str, text: str, thread_ts: str | None = None
    ) -> PostedMessage:
        """Post a plain message tagged with its outbox row, once."""
        block_id = f"{MESSAGE_BLOCK_PREFIX}{delivery.id}"
        return self._post_once(delivery, channel, text, tagged(text, block_id), block_id, thread_ts)

    def _post_once(
        self,
        delivery: Delivery,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]],
        block_id: str,
        thread_ts: str | None = None,
    ) -> PostedMessage:
        """Post a message that carries ``block_id``; on a retry or after a crash, first look
        for the one Slack may have taken on an earlier try. When the channel cannot be read
        (an app installed without ``channels:history``), a second message beats a missing one.
        """
        if delivery.resumed or delivery.attempt > 1:
            since = parse_iso(delivery.created_at).timestamp() - HISTORY_LOOKBACK_SECONDS
            try:
                found = self.slack.find_message(channel, block_id, since, thread_ts=thread_ts)
            except SlackError as exc:
                if exc.transient or exc.code in TOKEN_ERRORS | CHANNEL_ERRORS:
                    raise  # posting would be refused alike: the row waits for the fix
                log.warning(
                    "cannot look for %s in %s (%s); posting it, perhaps twice%s",
                    block_id,
                    channel,
                    exc.code or exc,
                    f": add the scope {exc.needed} to the Slack app" if exc.needed else "",
                )
                found = None
            if found is not None:
                return found
        return self.slack.post_message(channel, text, blocks, thread_ts=thread_ts)


def permalink(slack: SlackPort, message: PostedMessage) -> str | None:
    """The message's permalink; None (logged) when Slack will not give one: a card
    without a link is still a card, and whoever needs the link asks again."""
    try:
        return slack.permalink(message.channel, message.ts)
    except SlackError as exc:
        log.info("no permalink for %s in %s: %s", message.ts, message.channel, exc)
        return None


def card_link(book: CaseBook, slack: SlackPort, case: Case) -> str | None:
    """The link to the case's card: the one kept with it, else asked of Slack and kept
    (a card posted while Slack would not link it). None without a card or a link."""
    if case.card_permalink or not (case.slack_channel and case.slack_ts):
        return case.card_permalink
    link = permalink(slack, PostedMessage(case.slack_channel, case.slack_ts))
    if link:
        book.record_card_link(case.id, case.slack_channel, case.slack_ts, link)
    return link


def setup_fix(
    code: str, key: str, channel: str, needed: str = "", renamed_to: str = ""
) -> str | None:
    """What a person must change when Slack refuses for a reason of setup, else None."""
    if code in TOKEN_ERRORS:
        return (
            f"Slack refused SLACK_BOT_TOKEN ({code}); set a valid bot token (xoxb-…) for the "
            "installed app and restart; waiting messages are sent then"
        )
    if code == "missing_scope":
        scope = f"the scope {needed}" if needed else "a permission it needs"
        return (
            f"the Slack app lacks {scope} (missing_scope); add it under OAuth & Permissions "
            "(docs/slack.md lists every scope) and reinstall the app; waiting messages are "
            "sent then"
        )
    if code == "channel_not_found" and renamed_to:
        return (
            f'[slack] {key} = "{channel}": that channel was renamed to {renamed_to}; set '
            f"[slack] {key} to its new name or its id and restart (or rename it back); "
            "waiting messages are sent then"
        )
    if code == "channel_not_found":
        return (
            f'[slack] {key} = "{channel}": Slack has no such channel the app can see; create '
            f"it or set [slack] {key} to an existing channel; waiting messages are sent then"
        )
    if code == "not_in_channel":
        return (
            f'[slack] {key} = "{channel}": the app is not a member; invite it (/invite '
            "@complaintbot in that channel); waiting messages are sent then"
        )
    if code == "is_archived":
        return (
            f'[slack] {key} = "{channel}": the channel is archived; unarchive it or set '
            f"[slack] {key} to another channel; waiting messages are sent then"
        )
    return None
