"""Configuration: the shipped file, defaults, and errors naming the key, the value and the fix."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[policy]\nbusiness_start = "9am"\n',
            '[policy] business_start = "9am": use 24-hour "HH:MM", e.g. "09:00"',
        ),
        (
            '[policy]\nbusiness_end = "25:00"\n',
            '[policy] business_end = "25:00": use 24-hour "HH:MM", e.g. "09:00"',
        ),
        (
            "[policy]\nbusiness_start = 09:00:00\n",  # a TOML time, not a string
            "[policy] business_start = 09:00:00: expected a quoted string; write e.g. "
            'business_start = "09:00"',
        ),
        (
            '[policy]\np1_reach = "many"\n',
            '[policy] p1_reach = "many": expected a whole number (no quotes); '
            "write e.g. p1_reach = 50000",
        ),
        (
            "[policy]\np2_reach = -1\n",
            "[policy] p2_reach = -1: use a number greater than 0",
        ),
    ],
)
def test_cross_checks_skip_a_key_that_failed_its_own_check(
    tmp_path: Path, text: str, expected: str
) -> None:
    assert problems_for(tmp_path, text) == [expected]


def test_cross_checks_still_apply_to_values_that_passed(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, "[policy]\np1_reach = 100\np2_reach = 100\n")
    assert problems == ["[policy] p2_reach = 100: must be below p1_reach (100)"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xfe[x]\n", "not UTF-8 text (it looks like UTF-16): byte 0xff on line 1"),
        (
            '[x]\n\n[brand]\nname = "Café"\n'.encode("latin-1"),
            "not UTF-8 text: byte 0xe9 on line 4",
        ),
    ],
)
def test_a_file_that_is_not_utf8_is_one_line_naming_the_file_and_fix(
    tmp_path: Path, data: bytes, expected: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(data)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    [problem] = caught.value.problems
    assert problem == f"{path}: {expected}; save the file as UTF-8"


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes('\ufeff[brand]\nname = "Café"\n'.encode())
    assert load_config(path).brand.name == "Café"


def test_a_folder_given_as_the_config_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert caught.value.problems == [
        f"{tmp_path}: is a folder, not a config file; name the file itself, "
        f"e.g. --config {tmp_path / 'config.toml'}"
    ]


def test_an_unreadable_config_file_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[x]\n")

    real_open = Path.open

    def deny(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", deny)  # chmod 000 does not stop root
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.problems == [
        f"{path}: permission denied reading the config file; make it readable by the user "
        f"complaintbot runs as (e.g. chmod a+r {path})"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[daemon]\nhealth_port = 70000\n",
            "[daemon] health_port = 70000: use a port from 1 to 65535, or 0 to turn it off",
        ),
        (
            "[daemon]\nhealth_port = -1\n",
            "[daemon] health_port = -1: use a port from 1 to 65535, or 0 to turn it off",
        ),
        (
            "[slack]\nhttp_port = 99999\n",
            "[slack] http_port = 99999: use a port from 1 to 65535",
        ),
        ("[slack]\nhttp_port = 0\n", "[slack] http_port = 0: use a port from 1 to 65535"),
    ],
)
def test_ports_out_of_range_are_refused(tmp_path: Path, text: str, expected: str) -> None:
    assert problems_for(tmp_path, text) == [expected]


def test_ports_at_the_ends_of_the_range_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[daemon]\nhealth_port = 65535\n[slack]\nhttp_port = 1\n")
    config = load_config(path)
    assert (config.daemon.health_port, config.slack.http_port) == (65535, 1)
    path.write_text("[daemon]\nhealth_port = 0\n[slack]\nhttp_port = 65535\n")
    assert load_config(path).daemon.health_port == 0


def test_slack_http_host_defaults_to_loopback() -> None:
    assert default_config().slack.http_host == "127.0.0.1"
    assert SCHEMA["slack"]["http_host"].default == "127.0.0.1"


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "0.0.0.0", "::1", "::", "fe80::1%eth0", "localhost", "bot.internal.", "a-1.b"],
)
def test_slack_http_host_accepts_addresses_and_host_names(tmp_path: Path, host: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[slack]\nhttp_host = "{host}"\n')
    assert load_config(path).slack.http_host == host


@pytest.mark.parametrize(
    "host",
    ["", "[::1]", "0.0.0.0:3000", "http://example.com", "999.1.1.1", "-bad.example", "a b", "é"],
)
def test_slack_http_host_refuses_what_cannot_be_bound(tmp_path: Path, host: str) -> None:
    [problem] = problems_for(tmp_path, f'[slack]\nhttp_host = "{host}"\n')
    assert problem == (
        f'[slack] http_host = "{host}": use an IP address or a host name, without brackets '
        'or a port: "127.0.0.1" (this machine only) or "0.0.0.0" (every interface)'
    )


def test_slack_http_host_must_be_a_string(tmp_path: Path) -> None:
    assert problems_for(tmp_path, "[slack]\nhttp_host = 127\n") == [
        '[slack] http_host = 127: expected a quoted string; write e.g. http_host = "127.0.0.1"'
    ]


def test_extra_holidays_must_be_real_dates(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, '[policy]\nextra_holidays = ["2026-12-24", "2026-02-30"]\n')
    assert problems == [
        '[policy] extra_holidays = ["2026-12-24", "2026-02-30"]: use real ISO dates, '
        'e.g. ["2026-12-24"]; bad: 2026-02-30'
    ]
