"""Alerts in the escalation channel say what raised them and link to the case's card.

The daemon's parts run against the emulated X and Slack on a manual clock; the card's link is
Slack's own (``chat.getPermalink``), kept with the card, and asked again by an alert when the
card was posted without one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from test_hardening import KeywordClassifier, channels, make_daemon, messages_in

from bot.models import Classification, RiskFlag
from emulators import Emulators

__all__ = ["channels"]  # a fixture, used by name


class QuotingClassifier(KeywordClassifier):
    """Like the keyword classifier, but the safety flag's reason quotes personal data."""

    @staticmethod
    def _one(text: str) -> Classification:
        verdict = KeywordClassifier._one(text)
        if not verdict.flags:
            return verdict
        reason = 'mentions "fire"; the post says to email ann.lee@example.com'
        return Classification(True, 0.9, verdict.category, (RiskFlag("safety", reason),))

    def classify(self, texts: Sequence[str]) -> list[Classification]:
        return [self._one(text) for text in texts]


def test_a_risk_alert_links_to_the_card_and_names_the_masked_reason(
    emu: Emulators, tmp_path: Path, channels: dict[str, str]
) -> None:
    daemon, _ = make_daemon(emu, tmp_path)
    daemon.classifier = QuotingClassifier()
    emu.x.add_post("@acme the charger caught fire on my order", "bob")
    daemon.run_cycle()
    daemon.deliver()
    case = daemon.workflow.book.get(1)
    assert case.slack_ts and case.card_permalink
    assert case.card_permalink.startswith("https://")
    (alert,) = messages_in(emu, channels["escalations"])
    assert f"<{case.card_permalink}|Open case 1's card>" in alert["text"]
    assert (
        'raised safety (safety: mentions "fire"; the post says to email [email])' in (alert["text"])
    )
    assert "ann.lee@example.com" not in alert["text"]


def test_an_alert_asks_for_the_link_when_the_card_was_posted_without_one(
    emu: Emulators, tmp_path: Path, channels: dict[str, str]
) -> None:
    emu.slack.fault("/api/chat.getPermalink", status=500)  # the card's own ask fails
    daemon, _ = make_daemon(emu, tmp_path)
    emu.x.add_post("@acme the charger caught fire on my order", "bob")
    daemon.run_cycle()
    daemon.deliver()
    case = daemon.workflow.book.get(1)
    (alert,) = messages_in(emu, channels["escalations"])
    assert case.card_permalink and f"<{case.card_permalink}|" in alert["text"]
    (card,) = messages_in(emu, channels["complaints"])
    assert card["ts"] == case.slack_ts
