"""Masking personal data and escaping Slack mrkdwn in text the bot repeats."""

from __future__ import annotations

import pytest

from bot.redact import escape_mrkdwn, mask_handles, mask_personal_data, shorten


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("email me at jane.doe+x@example.co.uk now", "email me at [email] now"),
        ("write to jane(at)example(dot)com", "write to [email]"),
        ("call (415) 555-0134 today", "call [phone] today"),
        ("or 415.555.0134 x12, or 555-0134", "or [phone], or [phone]"),
        ("from abroad +44 20 7946 0958", "from abroad [phone]"),
        ("card 4111 1111 1111 1111 was charged", "card [card] was charged"),
        ("amex 3782-822463-10005 too", "amex [card] too"),
        ("ship to 1600 Amphitheatre Pkwy, Mountain View", "ship to [address], Mountain View"),
        ("I live at 221B Baker Street", "I live at [address]"),
        ("123 main st apt 4 please", "[address] please"),
        ("42 W 5th Ave Suite 300, NY", "[address], NY"),
        ("send it to PO Box 1234", "send it to [address]"),
    ],
)
def test_personal_data_is_masked(text: str, expected: str) -> None:
    assert mask_personal_data(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "3 days on the way and order 12345 still missing",
        "paid $19.99 on 11/20/2026 at 10:30",
        "season 2025-2026, 2 hours on hold",
        "the 50 ct pack",
    ],
)
def test_ordinary_numbers_and_phrases_are_left_alone(text: str) -> None:
    assert mask_personal_data(text) == text


def test_handles_and_reddit_users_are_masked_but_emails_are_not_mistaken_for_handles() -> None:
    text = "@bob said u/alice and /u/carol agree; mail bob@example.com"
    assert mask_handles(mask_personal_data(text)) == (
        "@[handle] said u/[user] and u/[user] agree; mail [email]"
    )


def test_escape_mrkdwn_neutralises_mentions_and_links() -> None:
    assert escape_mrkdwn("<!channel> & <https://evil.example|click>") == (
        "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;"
    )
    assert escape_mrkdwn("&lt;") == "&amp;lt;"  # escaping twice shows the text as written


def test_shorten_cuts_at_a_word_and_collapses_whitespace() -> None:
    assert shorten("hello\n   world", 50) == "hello world"
    cut = shorten("the parcel was left in the rain and everything inside was ruined", 30)
    assert cut == "the parcel was left in the…"
    assert len(cut) <= 30


def test_card_numbers_are_masked_but_long_post_ids_are_not() -> None:
    text = "card 4111 1111 1111 1111, also 5500-0055-5555-5559; post 1795909852123456789"
    assert mask_personal_data(text) == "card [card], also [card]; post 1795909852123456789"
