"""Reply drafts: template choice, safe filling, disclosure, and the banned-wording guard."""

from __future__ import annotations

import pytest

from bot.config import default_config
from bot.replies import banned_phrase, choose_template, draft_reply, fill, safe_handle

CONFIG = default_config()
TEMPLATES = CONFIG.policy.templates


def test_risk_flag_template_wins_over_category() -> None:
    assert choose_template("billing_refund", ["legal"], TEMPLATES) == TEMPLATES["legal"]
    assert choose_template("billing_refund", ["legal", "safety"], TEMPLATES) == TEMPLATES["safety"]
    assert choose_template("billing_refund", [], TEMPLATES) == TEMPLATES["billing_refund"]
    assert choose_template("made_up", [], TEMPLATES) == TEMPLATES["default"]


def test_draft_fills_placeholders_and_adds_the_disclosure() -> None:
    text = draft_reply(
        CONFIG, category="shipping_delivery", flags=[], handle="@jane_doe", case_id=42
    )
    assert text.startswith("Hi @jane_doe, sorry your order")
    assert "case 42" in text and "https://acme.example/help" in text
    assert text.endswith("(Drafted by our assistant, reviewed by our team.)")


def test_privacy_request_reply_points_to_the_request_channel_only() -> None:
    text = draft_reply(CONFIG, category="other", flags=["privacy_request"], handle="x", case_id=1)
    assert "https://acme.example/privacy-request" in text
    assert "email" not in text.lower() and "address" not in text.lower()


def test_filling_treats_values_as_data_not_template_code() -> None:
    values = {"handle": "{case_id}", "case_id": "7"}
    assert fill("Hi {handle} re {case_id} {__class__}", values) == "Hi {case_id} re 7 {__class__}"


def test_handle_cannot_smuggle_text_into_the_reply() -> None:
    text = draft_reply(
        CONFIG, category="other", flags=[], handle="evil <!channel> delete your tweet", case_id=1
    )
    assert "<" not in text and " delete" not in text


@pytest.mark.parametrize(
    ("reply", "phrase"),
    [
        ("We'll refund you if you delete this tweet", "delete this tweet"),
        ("Happy to help once you remove your review.", "remove your review"),
        ("A voucher in exchange for updating your rating", "updating your rating"),
        ("Please take it down and DM us", "take it down"),
        ("We will sue you for this", "We will sue"),
    ],
)
def test_banned_wording_is_found_and_named(reply: str, phrase: str) -> None:
    assert banned_phrase(reply) == phrase


def test_ordinary_replies_pass_and_extra_phrases_apply() -> None:
    assert banned_phrase(TEMPLATES["default"]) is None
    for text in TEMPLATES.values():
        assert banned_phrase(text) is None, text
    assert banned_phrase("Let's keep this between us", ["between us"]) == "between us"


def test_a_handle_keeps_its_first_letters_and_loses_only_its_prefix() -> None:
    assert [safe_handle(h) for h in ("ursula", "@ursula", "u/ursula", "/u/jane-doe")] == [
        "ursula",
        "ursula",
        "ursula",
        "jane-doe",
    ]
