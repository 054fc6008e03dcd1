"""The deploy files are real and agree with the code: the systemd unit, the Dockerfile and
the Slack app manifest (its scopes are exactly those the Web API calls we make need)."""

from __future__ import annotations

import ast
import configparser
import importlib
import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from bot.app.cli import cli
from bot.config import load_config

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
# Each Web API method WebSlack calls, and the bot scopes it needs (api.slack.com/methods).
METHOD_SCOPES = {
    "auth_test": set(),
    "chat_postMessage": {"chat:write"},
    "chat_update": {"chat:write"},
    "chat_delete": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},
    "chat_getPermalink": set(),
    "views_open": set(),
    "views_publish": set(),
    "files_upload_v2": {"files:write"},
    "conversations_history": {"channels:history", "groups:history"},
    "conversations_replies": {"channels:history", "groups:history"},
    "conversations_list": {"channels:read", "groups:read"},
    "conversations_info": {"channels:read", "groups:read"},
    "usergroups_users_list": {"usergroups:read"},
}


# Bot events and the scope each needs to be delivered (api.slack.com/events).
EVENT_SCOPES: dict[str, set[str]] = {"app_home_opened": set()}


def registered(kind: str) -> set[str]:
    """What the Bolt listeners in bot/app/slack/ register with ``@app.<kind>(...)``: a string
    literal or a module constant, resolved by importing the module."""
    found: set[str] = set()
    for path in sorted((ROOT / "bot" / "app" / "slack").glob("*.py")):
        module = importlib.import_module(f"bot.app.slack.{path.stem}")
        for ref in re.findall(rf"@app\.{kind}\(([^)]+)\)", path.read_text()):
            ref = ref.strip()
            found.add(ast.literal_eval(ref) if ref[0] in "\"'" else getattr(module, ref))
    return found


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "slack-app-manifest.yaml").read_text())
    return loaded


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / "complaintbot.service")
    return parser


def command_of(line: str) -> list[str]:
    """A unit's ExecStart line as the complaintbot subcommand and its arguments."""
    words = shlex.split(line)
    assert words[0].endswith("/complaintbot")
    return words[1:]


def assert_cli_accepts(args: list[str]) -> None:
    """Every option in ``args`` exists on the command it is given to."""
    command = cli
    words = list(args)
    while words and not words[0].startswith("-"):
        command = command.get_command(None, words.pop(0))  # type: ignore[attr-defined,arg-type]
        assert command is not None, args
    known = {opt for param in command.params for opt in getattr(param, "opts", [])}
    assert {w for w in words if w.startswith("--")} <= known, (args, known)


def test_the_systemd_unit_restarts_reads_secrets_from_a_file_and_is_hardened() -> None:
    service = unit()["Service"]
    assert service["Restart"] == "on-failure"
    assert service["EnvironmentFile"].startswith("/etc/complaintbot/")
    assert service["NoNewPrivileges"] == "yes" and service["ProtectSystem"] == "strict"
    assert service["User"] != "root"
    store_folder = service["ReadWritePaths"]
    assert store_folder == "/var/lib/complaintbot" and service["StateDirectory"] == "complaintbot"
    assert command_of(service["ExecStart"])[:1] == ["run"]
    for key in ("ExecStart", "ExecStartPre"):
        assert_cli_accepts(command_of(service[key]))
    assert unit()["Install"]["WantedBy"] == "multi-user.target"


def test_the_dockerfile_builds_in_stages_runs_as_a_user_and_checks_health() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", text, flags=re.MULTILINE)[1:]
    assert len(stages) == 2
    build, runtime = stages
    assert "build-essential" in build and "torch==2.13.0" in build
    assert not re.search(r"build-essential|gcc|apt-get install", runtime)
    assert re.search(r"^USER complaintbot$", runtime, flags=re.MULTILINE)
    assert re.search(r"HEALTHCHECK .*\n.*http://127\.0\.0\.1:9090/healthz", runtime)
    assert 'CMD ["complaintbot", "run"]' in runtime


def test_the_image_config_is_the_shipped_one_with_the_store_on_the_volume(tmp_path: Path) -> None:
    """The Dockerfile's sed lines match config.toml; the result is a valid config."""
    text = (DEPLOY / "Dockerfile").read_text()
    edits = re.findall(r"-e 's\|(.+?)\|(.+?)\|'", text)
    assert len(edits) == 3
    config_text = (ROOT / "config.toml").read_text()
    for pattern, replacement in edits:
        config_text, count = re.subn(pattern, replacement, config_text, flags=re.MULTILINE)
        assert count == 1, pattern
    (tmp_path / "config.toml").write_text(config_text)
    config = load_config(tmp_path / "config.toml")
    assert str(config.store.path) == "/data/complaintbot.db"
    assert config.daemon.health_port == 9090
    assert str(config.classifier.cache_dir) == "/app/classifier-cache"


def test_the_manifest_asks_for_exactly_the_scopes_our_slack_calls_need() -> None:
    app = manifest()
    scopes = set(app["oauth_config"]["scopes"]["bot"])
    source = (ROOT / "bot" / "app" / "slack" / "web.py").read_text()
    called = set(re.findall(r"self\.client\.(\w+)", source))
    assert called and called <= METHOD_SCOPES.keys(), called - METHOD_SCOPES.keys()
    events = registered("event")
    assert events <= EVENT_SCOPES.keys(), events - EVENT_SCOPES.keys()
    needed = set().union(*(METHOD_SCOPES[method] for method in called))
    needed |= set().union(*(EVENT_SCOPES[event] for event in events))
    if registered("command"):
        needed.add("commands")
    assert scopes == needed
    assert app["settings"]["interactivity"]["is_enabled"] is True
    assert app["settings"]["socket_mode_enabled"] is True


def test_the_manifest_declares_the_slash_commands_and_events_the_listeners_handle() -> None:
    app = manifest()
    commands = registered("command")
    events = registered("event")
    assert commands == {"/complaints"} and events == {"app_home_opened"}
    declared = {entry["command"] for entry in app["features"].get("slash_commands", [])}
    assert declared == commands
    for entry in app["features"]["slash_commands"]:
        assert entry["description"] and entry["usage_hint"]
    assert set(app["settings"]["event_subscriptions"]["bot_events"]) == events
    # Slack delivers app_home_opened (and shows the tab) only with the Home tab enabled.
    assert app["features"]["app_home"]["home_tab_enabled"] is ("app_home_opened" in events)


def test_the_docs_point_at_the_deploy_files() -> None:
    docs = (ROOT / "docs" / "deploy.md").read_text() + (ROOT / "docs" / "slack.md").read_text()
    for name in ("deploy/Dockerfile", "deploy/complaintbot.service", "slack-app-manifest.yaml"):
        assert name in docs, name
