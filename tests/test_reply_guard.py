"""The reply guard (bot/guard): the wording corpus at the required rates, the issue's examples
and near misses, normalisation, personal data, the legal and safety rules, and the speed."""

from __future__ import annotations

import csv
import time
from collections import Counter
from itertools import combinations
from pathlib import Path

import pytest

from bot.config import default_config
from bot.guard import ACTS, WORDING_ACTS, ReplyContext, check_reply, find_acts, normalise
from bot.guard.personal import personal_data
from bot.guard.phrases import CHANGE, DEL, OBJ, POST_VERBS, SAY_VERBS, STATE
from bot.guard.words import lemma
from bot.replies import draft_reply

CORPUS = Path(__file__).parent / "data" / "reply_corpus.csv"
MIN_RECALL, MAX_FALSE_BLOCKS = 0.98, 0.02
CONFIG = default_config()
SUPPORT, PRIVACY = CONFIG.brand.support_url, CONFIG.brand.privacy_url
ISSUE_EXAMPLES = [
    ("Would you consider updating your review once this is fixed?", "remove_or_change_review"),
    ("Please remove the negative feedback and we'll sort it", "conditional_remedy"),
    ("We'll refund you once the thread is gone", "conditional_remedy"),
]
NEAR_MISSES = [
    "We've removed the charge.",
    "We updated your order.",
    "Please don't post your card number here.",
    "We'll review your order.",
    "Feel free to share your experience.",
]


def corpus() -> list[dict[str, str]]:
    with CORPUS.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def blocked(text: str) -> bool:
    return bool(find_acts(normalise(text)))


def test_the_corpus_is_labelled_and_big_enough() -> None:
    rows = corpus()
    labels = Counter(row["label"] for row in rows)
    assert set(labels) == {"lawful", "unlawful"}
    assert labels["lawful"] >= 100 and labels["unlawful"] >= labels["lawful"]
    for row in rows:
        if row["label"] == "unlawful":
            assert row["act"] in WORDING_ACTS, row
        else:
            assert row["act"] == "", row
    texts = [row["text"] for row in rows]
    assert len(texts) == len(set(texts)), "a reply is in the corpus twice"
    for text, act in ISSUE_EXAMPLES:
        assert {"label": "unlawful", "act": act, "text": text} in rows
    corpus_texts = {text.rstrip(".") for text in texts}
    for text in NEAR_MISSES:
        assert any(text.rstrip(".").lower() in other.lower() for other in corpus_texts), text


def test_the_guard_meets_the_rates_on_the_corpus() -> None:
    rows = corpus()
    unlawful = [row for row in rows if row["label"] == "unlawful"]
    lawful = [row for row in rows if row["label"] == "lawful"]
    missed = [row["text"] for row in unlawful if not blocked(row["text"])]
    false_blocks = [row["text"] for row in lawful if blocked(row["text"])]
    named = [row for row in unlawful if (find_acts(normalise(row["text"])) or [None])[0]]
    right_act = sum(find_acts(normalise(row["text"]))[0].act == row["act"] for row in named)
    recall = 1 - len(missed) / len(unlawful)
    false_rate = len(false_blocks) / len(lawful)
    print(
        f"\nreply guard on {len(unlawful)} unlawful and {len(lawful)} lawful replies: "
        f"recall {recall:.3f} (at least {MIN_RECALL}), false blocks {false_rate:.3f} "
        f"(at most {MAX_FALSE_BLOCKS}), act named as labelled {right_act / len(unlawful):.3f}"
    )
    assert recall >= MIN_RECALL, f"missed: {missed}"
    assert false_rate <= MAX_FALSE_BLOCKS, f"blocked: {false_blocks}"
    assert right_act / len(unlawful) >= 0.9


@pytest.mark.parametrize(("text", "act"), ISSUE_EXAMPLES)
def test_the_issue_examples_are_refused_naming_the_act_and_the_rule(text: str, act: str) -> None:
    [finding] = check_reply(text)
    assert finding.act == act
    message = finding.message()
    assert ACTS[act].does in message
    assert "Civ. Code 1670.8" in message and "16 CFR 465" in message
    assert "Consumer Review Fairness Act" in message


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_pass(text: str) -> None:
    assert check_reply(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "WOULD YOU CONSIDER UPDATING YOUR REVIEW?",
        "would u consider updatin... no: would you consider updating ur reviews?",
        "Would you consider\u200b updating your review?",
        "Would you consider updating your review…",
        "Could you take the post down?",
        "Could you take down the post?",
        "Could you take-down the post?",
        "We’d love it if you’d removed the tweets.",
        "Please remove the negative feedback, and we will sort it!!",
        "pls delete ur comment",
    ],
)
def test_case_punctuation_contractions_and_inflections_do_not_matter(text: str) -> None:
    assert blocked(text), normalise(text).line


def test_normalised_text_keeps_where_each_word_came_from() -> None:
    normalised = normalise("We’ll refund you once the THREAD's gone, OK?")
    assert normalised.line == "we will refund you once the thread gone , ok ."
    [finding] = find_acts(normalised)
    assert finding.quote == "THREAD's gone"
    assert normalise("It's been updated. Don't").line == "it be be update . do not"
    assert normalise("see https://acme.example/review-policy or @review_bot").line == (
        "see URL or HANDLE"
    )


def test_the_patterns_are_written_in_base_forms() -> None:
    """Every single word a pattern names is what normalisation turns its forms into."""
    for word in {
        w
        for phrase in [*DEL, *CHANGE, *OBJ, *STATE, *POST_VERBS, *SAY_VERBS]
        for w in phrase.split()
    }:
        assert lemma(word) == word, word
    assert {lemma(form) for form in ("deleting", "deleted", "deletes", "deletion")} == {"delete"}
    assert {lemma(form) for form in ("taken", "took", "taking")} == {"take"}
    assert lemma("reviews") == "review" and lemma("reviewer") == "reviewer"


def test_configured_banned_phrases_still_apply_on_top() -> None:
    context = ReplyContext(banned_phrases=("between ourselves", "no comment"))
    [finding] = check_reply("Thanks!   No  Comment from us.", context)
    assert finding.act == "banned_phrase" and finding.quote == "No  Comment"
    assert "[policy.replies] banned_phrases" in finding.message()
    assert check_reply("Thanks, we'll comment soon.", context) == []


# ------------------------------------------------------------------ personal data


@pytest.mark.parametrize(
    ("text", "quote", "kind"),
    [
        ("Call us on (415) 555-0134 today.", "(415) 555-0134", "a phone number"),
        ("Write to jane.doe@mail.example please.", "jane.doe@mail.example", "an e-mail address"),
        ("We'll ship it to 221 Baker Street instead.", "221 Baker Street", "a street address"),
        ("Your card 4111 1111 1111 1111 was refunded.", "4111 1111 1111 1111", "a card number"),
        ("Order #1048877 is on its way.", "Order #1048877", "an order or account number"),
        (
            "order number AB-20931 ships today",
            "order number AB-20931",
            "an order or account number",
        ),
        ("Thanks @jane, and @bob too!", "@bob", "another person's @handle"),
    ],
)
def test_personal_data_is_refused_with_the_reason(text: str, quote: str, kind: str) -> None:
    context = ReplyContext(author_handle="jane", allowed_urls=(SUPPORT, PRIVACY))
    [finding] = check_reply(text, context)
    assert (finding.act, finding.quote, finding.detail) == ("personal_data", quote, kind)
    assert kind in finding.message() and "no personal data in public replies" in finding.message()


def test_the_brand_urls_the_author_and_the_brand_accounts_are_allowed() -> None:
    support = "https://help.acme.example/415-555-0134"
    text = (
        f"Hi @Jane_Doe, see {support} or {PRIVACY} (case 1042), "
        "or ask @acmeoutfitters or u/acme_support."
    )
    handles = ("jane_doe", "acmeoutfitters", "acme_support")
    assert personal_data(text, (support, PRIVACY), handles) == []
    [finding] = personal_data(text, (PRIVACY,), handles)  # digits in a URL not ours count
    assert finding.quote == "415-555-0134"


# ------------------------------------------------------------------ legal and safety

LEGAL = ReplyContext(flags=frozenset({"legal"}), allowed_urls=(SUPPORT,))
SAFETY = ReplyContext(flags=frozenset({"safety"}), allowed_urls=(SUPPORT,))


@pytest.mark.parametrize(
    ("text", "act"),
    [
        ("Sorry, this was our fault.", "legal_admission"),
        ("We messed up and we're responsible.", "legal_admission"),
        ("We accept full responsibility for the burn.", "legal_admission"),
        ("The heater was defective.", "legal_admission"),
        ("We'll refund you in full.", "legal_money"),
        ("We can offer $200 to make this right.", "legal_money"),
        ("You'll receive compensation by Friday.", "legal_money"),
        ("We're happy to send a gift card.", "legal_money"),
    ],
)
def test_a_legal_case_reply_stays_a_neutral_holding_statement(text: str, act: str) -> None:
    assert act in [finding.act for finding in check_reply(text, LEGAL)]
    assert not [f for f in check_reply(text) if f.act.startswith("legal")]  # other cases: fine


@pytest.mark.parametrize(
    "text",
    [
        f"Thank you for raising this. We have passed it to the right team, who will follow up "
        f"through {SUPPORT} (case 5).",
        "We're sorry to hear about your experience. Our team will be in touch by DM.",
        "Thanks for letting us know; we're looking into it.",
    ],
)
def test_neutral_holding_statements_pass_on_a_legal_case(text: str) -> None:
    assert check_reply(text, LEGAL) == []


def test_a_safety_first_reply_keeps_the_stop_using_instruction_unless_a_reason_is_given() -> None:
    assert check_reply("Please stop using the heater and contact us.", SAFETY) == []
    assert check_reply("Don't use it again; unplug it and DM us.", SAFETY) == []
    [finding] = check_reply("Sorry! Please contact us.", SAFETY)
    assert finding.act == "safety_instruction" and finding.about == "safety_reason"
    assert "stop using the product" in finding.message()
    with_reason = ReplyContext(flags=frozenset({"safety"}), safety_reason="it was a typo report")
    assert check_reply("Sorry! Please contact us.", with_reason) == []
    later = ReplyContext(flags=frozenset({"safety"}), first_reply=False)
    assert check_reply("Sorry! Please contact us.", later) == []


FLAGS = ("safety", "legal", "privacy_request", "data_exposure")


def test_a_reddit_author_with_a_hyphen_is_the_author_not_another_person() -> None:
    text = draft_reply(CONFIG, category="other", flags=[], handle="u/ursula-k", case_id=7)
    assert text.startswith("Hi @ursula-k,")
    assert check_reply(text, ReplyContext(author_handle="ursula-k", allowed_urls=(SUPPORT,))) == []
    [finding] = check_reply("Hi @ursula-kay!", ReplyContext(author_handle="ursula-k"))
    assert finding.detail == "another person's @handle"


@pytest.mark.parametrize("category", CONFIG.policy.categories)
def test_every_template_passes_the_guard_under_every_flag(category: str) -> None:
    for size in range(len(FLAGS) + 1):
        for flags in combinations(FLAGS, size):
            text = draft_reply(
                CONFIG, category=category, flags=flags, handle="jane_doe", case_id=1042
            )
            context = ReplyContext(
                flags=frozenset(flags),
                author_handle="jane_doe",
                allowed_urls=(SUPPORT, PRIVACY),
            )
            assert check_reply(text, context) == [], (flags, text)


def test_a_long_reply_is_checked_quickly() -> None:
    sentence = "Thanks for the review of your order, we'll update this thread soon and refund you. "
    text = (sentence * 200)[:9_990]
    started = time.perf_counter()
    assert check_reply(text, LEGAL)  # the refund promise, on a legal case
    one_sentence = ("please update " + "the review " * 2_000)[:10_000]
    check_reply(one_sentence)
    assert time.perf_counter() - started < 2.0
