"""`complaintbot digest` as a person runs it, and what every format shows (and never shows)."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from digest_scenario import PERSONAL, build_weeks
from factories import Desk, la

from bot.app.digest_cli import digest_command
from bot.cases import CaseBook
from bot.digest.weeks import Week
from bot.store import Store

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config whose store holds the hand-checked weeks (W46–W48 of 2026)."""
    folder = tmp_path_factory.mktemp("digest-cli")
    desk = Desk(la(2026, 11, 9, 14))
    desk.store = Store.open(folder / "bot.db")
    desk.book = CaseBook(desk.store, desk.config.policy, desk.clock)
    build_weeks(desk)
    desk.store.close()
    path = folder / "config.toml"
    path.write_text(f'[store]\npath = "{folder / "bot.db"}"\n')
    return path


def run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(digest_command, [*args, "--config", str(config)])


def test_json_has_the_documented_keys_and_numbers(config_file: Path) -> None:
    result = run(config_file, "--week", "2026-W47", "--format", "json")
    assert result.exit_code == 0, result.output
    digest = json.loads(result.stdout)
    expected = {
        "week": "2026-W47",
        "mentions": 8,
        "complaints": 6,
        "cases_opened": 6,
        "cases_resolved": 2,
        "sla_compliance": 0.6667,
        "median_first_response_minutes": 112.5,
    }
    assert {key: digest[key] for key in expected} == expected
    assert digest["by_category"]["shipping_delivery"] == 3


def test_text_is_the_default_format(config_file: Path) -> None:
    result = run(config_file, "--week", "2026-W47")
    assert result.exit_code == 0
    assert result.stdout.startswith("Complaint digest 2026-W47\n")
    assert "SLA compliance" in result.stdout and "67%" in result.stdout
    assert "Last five weeks" in result.stdout


def test_html_is_one_self_contained_page_with_the_chart(config_file: Path, tmp_path: Path) -> None:
    page = tmp_path / "digest.html"
    result = run(config_file, "--week", "2026-W47", "--format", "html", "--output", str(page))
    assert result.exit_code == 0 and result.stdout == ""
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "@media print" in html
    assert not re.search(r"<(script|link|iframe)\b", html)
    assert not re.search(r"""src=["']?(https?:)?//""", html)  # nothing is fetched
    match = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert match and base64.b64decode(match.group(1)).startswith(PNG)


def test_no_handle_email_phone_card_or_address_in_any_format(config_file: Path) -> None:
    for form in ("text", "md", "html", "json"):
        out = run(config_file, "--week", "2026-W47", "--format", form).stdout
        for secret in PERSONAL:
            assert secret not in out, (form, secret)
        assert "[phone]" in out and "[address]" in out


def test_the_default_week_is_the_last_complete_one(config_file: Path) -> None:
    from datetime import UTC, datetime

    result = run(config_file, "--format", "json")
    assert result.exit_code == 0
    expected = Week.last_complete(datetime.now(UTC), "America/Los_Angeles").label
    assert json.loads(result.stdout)["week"] == expected


@pytest.mark.parametrize(
    ("week", "message"), [("2026-47", "2026-W47"), ("2999-W01", "has not begun")]
)
def test_bad_weeks_exit_2_with_a_clear_message(config_file: Path, week: str, message: str) -> None:
    result = run(config_file, "--week", week)
    assert result.exit_code == 2
    assert "--week" in result.stderr and message in result.stderr


def test_post_without_a_token_names_the_variable(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    result = run(config_file, "--week", "2026-W47", "--post")
    assert result.exit_code == 2
    assert "SLACK_BOT_TOKEN" in result.stderr and result.stdout == ""


def test_post_sends_once_then_refuses_the_same_week(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_digest_post import FakeSlack

    slack = FakeSlack()
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setattr("bot.app.slack.web.WebSlack", lambda token, base_url: slack)
    first = run(config_file, "--week", "2026-W46", "--format", "md", "--post")
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith("# Complaint digest 2026-W46")
    assert "posted digest 2026-W46 to #complaints-digest" in first.stderr
    second = run(config_file, "--week", "2026-W46", "--post")
    assert second.exit_code == 0
    assert "already posted" in second.stderr
    assert len(slack.messages) == 1 and len(slack.files) == 1


@pytest.mark.skipif(shutil.which("chromium") is None, reason="headless Chromium not installed")
def test_html_renders_in_headless_chromium_with_the_chart_visible(
    config_file: Path, tmp_path: Path
) -> None:
    page, shot = tmp_path / "digest.html", tmp_path / "digest.png"
    assert (
        run(config_file, "--week", "2026-W47", "--format", "html", "--output", str(page)).exit_code
        == 0
    )
    subprocess.run(
        [
            "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            f"--screenshot={shot}", "--window-size=1100,1400", page.as_uri(),
        ],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    image = shot.read_bytes()
    assert image.startswith(PNG) and len(image) > 50_000  # a blank page is a few kB
