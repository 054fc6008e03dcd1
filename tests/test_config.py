"""Configuration: the shipped file, defaults, and errors naming the key, the value and the fix."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.config import default_config, load_config, load_secrets
from bot.errors import ConfigError, MissingSecret
from bot.schema import SCHEMA

REPO = Path(__file__).resolve().parents[1]


def problems_for(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value.problems


def test_shipped_config_is_valid_and_documents_every_key() -> None:
    load_config(REPO / "config.toml")
    shipped = tomllib.loads((REPO / "config.toml").read_text())
    for section, keys in SCHEMA.items():
        table = shipped
        for part in section.split("."):
            table = table[part]
        plain_keys = {name for name, value in table.items() if not isinstance(value, dict)}
        assert plain_keys == set(keys), section


def test_shipped_config_equals_the_built_in_defaults() -> None:
    shipped, built_in = load_config(REPO / "config.toml"), default_config(REPO)
    assert shipped.policy == built_in.policy
    assert shipped.x == built_in.x and shipped.slack == built_in.slack


def test_wrong_type_names_key_value_and_fix(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, '[x]\npoll_interval_seconds = "often"\n')
    assert problems == [
        '[x] poll_interval_seconds = "often": expected a whole number (no quotes); '
        "write e.g. poll_interval_seconds = 300"
    ]


def test_unknown_key_suggests_the_close_one(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "[reddit]\nsubreddit = ['all']\n")
    assert problems == ["[reddit] subreddit: unknown key; did you mean subreddits? (or remove it)"]


def test_unknown_section_suggests_the_close_one(tmp_path: Path) -> None:
    assert problems_for(tmp_path, "[slak]\nenabled = true\n") == [
        "[slak]: unknown section; did you mean [slack]?"
    ]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    problems = problems_for(
        tmp_path,
        "[x]\nenabled = 'yes'\napi_base_url = 'api.twitter.com'\n"
        "[slack]\napprovers = ['alice']\ncomplaints_channel = 'Complaints'\n"
        "[classifier]\nthreshold = 1.5\n[policy]\nbusiness_start = '19:00'\n",
    )
    assert len(problems) == 6
    joined = "\n".join(problems)
    for fragment in (
        '[x] enabled = "yes": expected true or false',
        '[x] api_base_url = "api.twitter.com": use an http:// or https:// URL',
        '[slack] approvers = ["alice"]: use Slack user ids',
        '[slack] complaints_channel = "Complaints": use "#channel-name"',
        "[classifier] threshold = 1.5: use a number between 0 and 1",
        '[policy] business_end = "18:00": must be later than business_start',
    ):
        assert fragment in joined


def test_invalid_toml_and_missing_file_are_named(tmp_path: Path) -> None:
    assert "not valid TOML" in problems_for(tmp_path, "[x\n")[0]
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")


def test_relative_paths_start_at_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "bot.toml"
    path.parent.mkdir()
    path.write_text('[store]\npath = "state/bot.db"\n')
    assert load_config(path).store.path == tmp_path / "conf" / "state" / "bot.db"


def test_missing_secret_names_the_environment_variable(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[x]\nenabled = true\n")
    config = load_config(path)
    env = {
        "X_BEARER_TOKEN": "b",
        "X_API_KEY": "k",
        "X_API_SECRET": "s",
        "X_ACCESS_TOKEN": "t",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_APP_TOKEN": "xapp-test",
    }
    with pytest.raises(MissingSecret) as caught:
        load_secrets(config, env)
    assert caught.value.problems == [
        "missing secret: environment variable X_ACCESS_SECRET is not set (needed because "
        "[x] enabled = true); export X_ACCESS_SECRET=... in the bot's environment"
    ]
    secrets = load_secrets(config, {**env, "X_ACCESS_SECRET": "a"})
    assert secrets["X_ACCESS_SECRET"] == "a"


def test_secrets_follow_the_enabled_parts() -> None:
    config = default_config()
    assert [var for var, _ in config.required_secrets()] == ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"]


def test_template_with_unknown_placeholder_is_refused(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, '[policy.templates]\nother = "Hi {handle} {__class__}"\n')
    assert problems[0].startswith('[policy.templates] other = "Hi {handle} {__class__}": use only')


def test_the_shipped_model_is_found_without_a_config_file(tmp_path: Path) -> None:
    assert default_config(tmp_path).classifier.model_dir == REPO / "data" / "classifier"
    (tmp_path / "data" / "classifier").mkdir(parents=True)
    assert default_config(tmp_path).classifier.model_dir == tmp_path / "data" / "classifier"
