"""Issue 21: risk flags trusted both ways, category precedence, flag and category scores.

Pure Python: none of these load torch or the model.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bot.models import RiskFlag
from classifiers.data import load_evaluation_csv
from classifiers.errors import TrainingDataError
from classifiers.keywords import category_with_precedence
from classifiers.metrics import category_accuracy, flag_scores
from classifiers.rules import risk_flags
from classifiers.verdicts import (
    MODEL_ONLY_FLOORS,
    NO_BACKSTOP,
    flag_thresholds,
    merge_flags,
    precision_floor,
)


def flag_names(text: str) -> set[str]:
    return {flag.name for flag in risk_flags(text)}


# Narrowed (rules v9): the words fire in their harmful sense only. Each pair: the wrong sense
# (must not fire), then the right sense (must still fire).
@pytest.mark.parametrize(
    ("flag", "wrong_sense", "right_sense"),
    [
        (
            "safety",
            "the courier clearly stepped on the box, the lampshade is crushed",
            "my son stepped on a shard of the broken lamp and needed stitches",
        ),
        ("safety", "the larkspur summer sale is fire ngl 🔥", "the heater started a fire"),
        ("safety", "do you sell fire pits for the backyard?", "small fire in the kitchen"),
        ("safety", "I don't recall placing that order", "is this kettle part of the recall?"),
        ("safety", "again a huge bill shock this month", "got a shock from the lamp switch"),
        ("safety", "the shock when my total came out lower!", "the charger shocks you"),
        ("safety", "got hit with a $15 return fee", "my daughter got hit by the falling shelf"),
        ("safety", "my sister burned the turkey again lol", "the iron burned my arm"),
        ("safety", "I'm burned out on waiting for this parcel", "the toaster burned my fingers"),
        ("safety", "the fountain pen doesn't bleed through", "his finger was bleeding"),
        ("safety", "so good it's dangerous for my bank account", "that wiring is dangerous"),
        ("safety", "I ran into the founder at a coffee shop", "the delivery van ran over my foot"),
        ("safety", "saved me in a pinch of time", "the hinge pinched her finger"),
        ("legal", "the outfit builder is so addictive it should be illegal", "that fee is illegal"),
        ("legal", "picked up the court shoes for my tennis league", "see you in court"),
        ("legal", "so spicy i'm legally dead now", "I'm taking legal advice"),
        (
            "data_exposure",
            "my spreadsheet of returns is a mess",
            "a spreadsheet of customer emails",
        ),
        ("data_exposure", "the wiring in this lamp is exposed", "my home address was exposed"),
        (
            "data_exposure",
            "the delivery photo shows a door that isn't mine",
            "these orders aren't mine",
        ),
    ],
)
def test_narrowed_rules_fire_only_in_the_harmful_sense(
    flag: str, wrong_sense: str, right_sense: str
) -> None:
    assert flag not in flag_names(wrong_sense)
    assert flag in flag_names(right_sense)


def test_a_flight_code_is_not_the_department_of_consumer_affairs() -> None:
    assert "legal" not in flag_names("flight 5702 DCA-TPA had lovely crew")
    assert "legal" in flag_names("I have written to the DCA about this")


# Widened (rules v9): harm and legal steps the old model backstop caught with no phrase.
@pytest.mark.parametrize(
    ("flag", "text"),
    [
        ("safety", "within twenty minutes we both had pounding headaches"),
        ("safety", "all four of us have had stomach cramps since"),
        ("safety", "now i have half a molar. dentist monday"),
        ("safety", "bit the bar and chipped my tooth"),
        ("safety", "the room smelled harsh and chemical"),
        ("safety", "mold in every corner and we had been eating bread out of it"),
        ("legal", "I've filed a wage claim over my unpaid overtime"),
        ("legal", "this is going to the state labor commissioner"),
        ("legal", "I lodged a complaint with the state about it"),
    ],
)
def test_widened_rules_catch_harm_and_legal_steps_in_plain_words(flag: str, text: str) -> None:
    assert flag in flag_names(text)


def test_model_only_flags_need_a_score_that_kept_precision_on_training_data() -> None:
    thresholds = flag_thresholds({"flag_thresholds": {"safety": 0.85}}, ["safety", "legal"])
    assert thresholds["safety"] == MODEL_ONLY_FLOORS["safety"] > 0.85
    assert thresholds["legal"] == NO_BACKSTOP
    flags = merge_flags((), {"safety": 0.9, "legal": 0.99}, thresholds)
    assert flags == ()  # 0.9 was a coin toss in training; legal has no model backstop
    flags = merge_flags((), {"safety": 0.95, "legal": 0.99}, thresholds)
    assert [f.name for f in flags] == ["safety"]
    assert flags[0].reason.startswith("model: reads like a safety report (score 0.95)")


def test_a_phrase_still_raises_the_flag_whatever_the_score() -> None:
    thresholds = flag_thresholds({}, ["legal"])
    rule = RiskFlag("legal", 'mentions "lawyer"')
    assert merge_flags((rule,), {"legal": 0.01}, thresholds) == (rule,)


def test_an_artefact_can_record_its_own_floors() -> None:
    meta = {"flag_thresholds": {"legal": 0.8}, "flag_precision_floors": {"legal": 0.9}}
    assert flag_thresholds(meta, ["legal"]) == {"legal": 0.9}
    assert flag_thresholds({}, ["legal"]) == {"legal": math.inf}


def test_precision_floor_is_the_lowest_cut_off_that_keeps_precision_all_the_way_up() -> None:
    scores = [0.99, 0.97, 0.95, 0.93, 0.90, 0.80]
    labels = [1, 1, 1, 0, 1, 0]
    # >= 0.95: 3/3; >= 0.93: 3/4; >= 0.90: 4/5; >= 0.80: 4/6
    assert precision_floor(scores, labels, 0.7, 3) == 0.90
    assert precision_floor(scores, labels, 0.85, 3) == 0.95
    # 0.93 fails 0.85, so 0.90 (4/5 = 0.8) is out of reach even though it passes 0.8 alone.
    assert precision_floor(scores, labels, 0.85, 4) == NO_BACKSTOP
    assert precision_floor(scores, labels, 0.5, 1) == 0.80
    # The top post is a false alarm: no cut-off keeps the precision.
    assert precision_floor([0.99, 0.9, 0.8], [0, 1, 1], 0.5, 1) == NO_BACKSTOP


@pytest.mark.parametrize(
    ("category", "text", "expected"),
    [
        (
            "shipping_delivery",
            "my parcel came with someone else's packing slip, name and phone number",
            "account_privacy",
        ),
        ("customer_service", "please delete my data, support never answers", "account_privacy"),
        ("website_app", "someone logged into my account and changed my email", "account_privacy"),
        ("customer_service", "you charged me twice and nobody answers", "billing_refund"),
        ("shipping_delivery", "double charged for one order that never came", "billing_refund"),
        ("customer_service", "the agent was rude and hung up on me", "customer_service"),
        ("shipping_delivery", "my parcel is two weeks late", "shipping_delivery"),
    ],
)
def test_category_precedence_follows_the_policy(category: str, text: str, expected: str) -> None:
    rule_flags = [flag.name for flag in risk_flags(text)]
    assert category_with_precedence(category, text, rule_flags) == expected


def test_flag_scores_count_hits_false_alarms_and_misses() -> None:
    scores = flag_scores([1, 1, 0, 0, 1], [True, False, True, False, True])
    assert (scores["labelled"], scores["raised"], scores["true_positives"]) == (3, 3, 2)
    assert scores["precision"] == pytest.approx(2 / 3)
    assert scores["recall"] == pytest.approx(2 / 3)
    assert flag_scores([0, 0], [False, False])["precision"] == 0.0


def test_category_accuracy_is_also_reported_on_complaints_only() -> None:
    scores = category_accuracy(["a", "b", "c", "d"], ["a", "x", "c", "x"], [1, 1, 0, 0])
    assert scores == {
        "n": 4,
        "accuracy": 0.5,
        "complaints": 2,
        "accuracy_on_complaints": 0.5,
    }


def test_evaluation_csv_reads_optional_flag_and_category_columns(tmp_path: Path) -> None:
    path = tmp_path / "eval.csv"
    path.write_text(
        "text,is_complaint,safety,legal,category\n"
        "it burned me,1,1,0,product_quality\n"
        "hello,0,0,,other\n",
        encoding="utf-8",
    )
    data = load_evaluation_csv(path)
    assert data.labels == [1, 0]
    assert data.flags == {"safety": [1, 0], "legal": [0, 0]}
    assert data.categories == ["product_quality", "other"]


def test_evaluation_csv_without_extra_columns_has_no_flags_or_categories(tmp_path: Path) -> None:
    path = tmp_path / "eval.csv"
    path.write_text("text,is_complaint\nhello,0\n", encoding="utf-8")
    data = load_evaluation_csv(path)
    assert data.flags == {} and data.categories is None


@pytest.mark.parametrize(
    ("header", "row", "message"),
    [
        ("safety", "2", r"eval\.csv:2: safety must be 0 or 1, got '2'"),
        ("category", "refunds", r"eval\.csv:2: category 'refunds' is not one of shipping_delivery"),
    ],
)
def test_evaluation_csv_names_the_bad_value_and_its_line(
    tmp_path: Path, header: str, row: str, message: str
) -> None:
    path = tmp_path / "eval.csv"
    path.write_text(f"text,is_complaint,{header}\nhello,1,{row}\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match=message):
        load_evaluation_csv(path)
