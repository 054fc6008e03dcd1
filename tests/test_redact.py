"""Masking personal data and escaping Slack mrkdwn in text the bot repeats."""

from __future__ import annotations

import random
import re
import time
from datetime import UTC, datetime

import pytest

from bot.digest.sections import redact_quote
from bot.models import Mention
from bot.records import Case
from bot.redact import (
    escape_mrkdwn,
    mask_handles,
    mask_personal_data,
    mask_start,
    shorten,
    shorten_masked,
)
from bot.slack.cards import case_card


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


# Redaction time: every pattern must be linear. A backtracking pattern retried from every
# position of a long run (``[\w.]+@`` over word characters with no "@") is quadratic: 5,000
# characters took 0.7 s, 100 KB minutes. These inputs make each pattern try hard everywhere.
def adversarial_texts(size: int) -> dict[str, str]:
    def fill(unit: str, length: int = size) -> str:
        return (unit * (length // len(unit) + 1))[:length]

    rng = random.Random(11)
    mixed = "".join(
        rng.choice("aZ09._%+-@ ()[]/u\n,#'") * rng.choice((1, 1, 2, 3, 8, 64, 500))
        for _ in range(size // 40)
    )
    return {
        "word characters": fill("a"),
        "a.a.a.": fill("a."),
        "a@a@a@": fill("a@"),
        "a@a.a.a.": "a@" + fill("a.", size - 2),
        "digits": fill("1"),
        "1 1 1 ": fill("1 "),
        "1-1-1-": fill("1-"),
        "+1 1 1 ": fill("+1 1 1 1 1 1 "),
        "a(at)a(at)": fill("a(at)"),
        "a [dot] a [dot]": fill("a [dot] "),
        "a (at) b (dot)": "a (at) b" + fill(" (dot) b", size - 8),
        "123 Main Main": "123" + fill(" Main", size - 3),
        "1 Main 1 Main": fill("1 Main "),
        "1 a 1 St ": fill("1 a ", size - 10) + " 1 St Lane",
        "P O P O": fill("P O "),
        "@@@@": fill("@"),
        "u/u/u/": fill("u/"),
        "email + spaces": "jane@example.com" + " " * (size - 16),
        "mixed random": fill(mixed),
    }


def redact(text: str) -> str:
    return mask_handles(mask_personal_data(text))


def timed(text: str) -> tuple[str, float]:
    started = time.perf_counter()
    result = redact(text)
    return result, time.perf_counter() - started


MASKED_WHOLE = {"a@a.a.a.": "[email].", "a (at) b (dot)": "[email]", "email + spaces": "[email]"}


@pytest.mark.timeout(60)
def test_redacting_50k_characters_of_adversarial_text_is_fast_and_right() -> None:
    for name, text in adversarial_texts(50_000).items():
        result, seconds = timed(text)
        assert seconds < 0.5, f"{name}: {seconds:.2f} s"
        if name in MASKED_WHOLE:
            assert result.strip() == MASKED_WHOLE[name], name
        elif name == "1 a 1 St ":
            assert result.endswith(" 1 a [address] Lane"), name
        elif name != "mixed random":
            assert result == text, name  # nothing in them to mask


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_redacting_1_mb_of_each_adversarial_text_takes_well_under_a_second_or_two() -> None:
    """bench/redaction.py prints the real figures; this bound only catches a regression."""
    for name, text in adversarial_texts(1_000_000).items():
        _, seconds = timed(text)
        assert seconds < 2.0, f"{name}: {seconds:.2f} s"


@pytest.mark.timeout(30)
def test_emails_after_or_inside_long_runs_are_still_masked_whole() -> None:
    run = "x" * 50_000
    assert mask_personal_data(f"{run} jane@example.com") == f"{run} [email]"
    assert mask_personal_data(f"{run}@example.com and more") == "[email] and more"
    assert mask_personal_data(f"{run} jane (at) example (dot) com") == f"{run} [email]"
    # A match may end inside a run; the next one starts right there, as a plain re.sub's would.
    assert mask_personal_data("ja@e.doe+acme@example.co.uk") == "[email][email]"
    assert mask_personal_data("mail a@b.co+c@d.com.") == "mail [email][email]."


def test_cards_with_other_scripts_digits_still_pass_luhn() -> None:
    arabic = "4111 1111 1111 1111".translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert mask_personal_data(f"card {arabic}") == "card [card]"


def long_posts() -> list[str]:
    """Posts longer than what is shown, with personal data at and around every cut."""
    phrase = "the parcel never came and nobody answers "
    posts = []
    for pad in range(0, 60, 7):
        for item in ("jane.doe@example.com", "415-555-0134", "4111 1111 1111 1111", "@jane"):
            head = phrase * 3 + "x" * pad + " "
            posts.append(head + f"{item} " * 3 + phrase * 200)
            posts.append((head + f"{item} ") * 40 + "a" * 10_000)
    posts.append("call me " + " " * 5_000 + "at 415-555-0134 " + phrase * 100)
    posts.append(("jane.doe@example.com " * 500) + phrase * 100)
    return posts


def test_shorten_masked_equals_masking_the_whole_text_then_shortening() -> None:
    for post in long_posts():
        whole, personal = redact(post), mask_personal_data(post)
        for limit in (80, 140, 600):
            assert shorten_masked(post, limit, redact) == shorten(whole, limit)
            assert personal.startswith(mask_start(post, limit))


@pytest.mark.timeout(30)
def test_a_100_kb_post_is_quoted_as_fast_as_a_short_one() -> None:
    post = "my parcel never arrived, mail jane@example.com " + "a" * 100_000
    started = time.perf_counter()
    quote = redact_quote(post, "jane")
    assert time.perf_counter() - started < 0.05
    assert quote.startswith("my parcel never arrived, mail [email] aaaa")
    assert len(quote) == 140 and quote.endswith("a…")


def card_post_text(text: str) -> str:
    case = Case.from_row(
        {"id": 1, "platform": "x", "author_handle": "jane", "author_followers": 10}
        | {"priority": "P3", "category": "delivery", "status": "new", "can_reply": 1}
    )
    post = Mention("x", "1", "u1", "jane", text, datetime.now(UTC), "https://x.example/1")
    _, blocks = case_card(case, post, "UTC")
    [shown] = [line for line in map(str, blocks) if "xxxxx" in line]
    return shown


def test_a_card_never_shows_half_a_phone_number_or_email_where_a_long_post_is_cut() -> None:
    for lead in range(580, 600):
        for item in ("415-555-0134", "jane.doe@example.com", "4111 1111 1111 1111"):
            text = "x" * lead + f" {item} " + "more words " * 100
            shown = card_post_text(text)
            assert "read the whole post" in shown
            assert not re.search(r"\d{3}|jane|doe@|\.com", shown), (lead, item)
