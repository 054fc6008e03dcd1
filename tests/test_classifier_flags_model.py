"""Issue 21 checks that run the real shipped classifier: the issue's false alarms, and
``evaluate --json`` with flag and category columns. Reuses the session's model from
test_classifier_model.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_classifier_model import REPO, classifier, cli_env

pytestmark = pytest.mark.slow
__all__ = ["classifier", "cli_env"]  # fixtures, used by name


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("@LarkspurShop the courier stepped on the box, lampshade crushed flat", "safety"),
        ("@LarkspurShop where do I find the spreadsheet of my past orders?", "data_exposure"),
        ("@LarkspurShop 5 weeks and still no refund. what is going on", "legal"),
        ("Why is my Larkspur refund taking over a month? chat keeps saying processing", "legal"),
    ],
)
def test_issue_21_false_alarms_raise_no_p1_flag(classifier: object, text: str, flag: str) -> None:
    (result,) = classifier.classify([text])  # type: ignore[attr-defined]
    assert flag not in result.flag_names


@pytest.mark.parametrize(
    ("text", "category"),
    [
        (
            "@LarkspurShop my parcel came with someone else's packing slip, "
            "their full name and address on it",
            "account_privacy",
        ),
        ("@LarkspurShop please delete my data and close my account", "account_privacy"),
        ("@LarkspurShop you charged my card twice for one order", "billing_refund"),
    ],
)
def test_policy_precedence_decides_the_category_of_the_shipped_path(
    classifier: object, text: str, category: str
) -> None:
    """policy.md: a breach or a data request is account_privacy, a double charge
    billing_refund, whatever else the post is about (the delivery, the website)."""
    (result,) = classifier.classify([text])  # type: ignore[attr-defined]
    assert result.category == category


def test_cli_evaluate_json_scores_flags_and_categories_when_the_csv_has_them(
    cli_env: Path,
) -> None:
    from bot.app.model_cli import evaluate_command

    # Row 5 ("my toaster caught fire") is labelled not-safety on purpose: a raised flag the
    # labels disagree with must lower precision. Row 4 is a legal threat in no rule's words.
    data = REPO / "tests" / "data" / "eval_flags.csv"
    result = CliRunner().invoke(
        evaluate_command, ["--config", str(cli_env), "--data", str(data), "--json"]
    )
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert scores["n"] == 6
    safety, legal = scores["flag_safety"], scores["flag_legal"]
    assert (safety["labelled"], safety["raised"], safety["true_positives"]) == (1, 2, 1)
    assert (safety["precision"], safety["recall"]) == (0.5, 1.0)
    assert (legal["labelled"], legal["raised"], legal["true_positives"]) == (2, 1, 1)
    assert (legal["precision"], legal["recall"]) == (1.0, 0.5)
    assert scores["flag_privacy_request"]["raised"] == 0
    assert "flag_data_exposure" not in scores  # no such column in the file
    category = scores["category"]
    assert (category["n"], category["complaints"]) == (6, 5)
    assert 0.0 <= category["accuracy_on_complaints"] <= 1.0
