"""``privacy export`` and ``privacy forget`` against a store and a Slack the real daemon filled:
after a forget, neither the handle nor any of the person's posts is in any table, in the raw
bytes of the store's files, or in anything the emulated Slack holds; the request log and the
audit trail still answer for it."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from erasure_scenario import (
    APPROVER,
    SECRETS,
    deliver_all,
    make_daemon,
    raw_bytes,
    slack_held,
    where_in_tables,
)

from bot import audit
from bot.app.cli import cli
from bot.app.daemon import Daemon
from bot.app.erasure import deliver_erasures
from bot.clock import ManualClock
from bot.digest.build import build_digest
from bot.digest.slack import post_digest
from bot.digest.weeks import Week
from bot.models import Mention
from bot.outbox import Outbox
from bot.privacy.erasure import Author, Eraser, export
from bot.privacy.requests import PrivacyBook
from bot.privacy.slack_erasure import REDACTED_TEXT, SlackErasure
from emulators import Emulators

FIRE = "@acme my order caught fire, zephyr lantern melted"
JACKET = "@acme love the quokka jacket"
OLD_HANDLE = "@acme order from my old account, marmot sighted"
BOB = "@acme my order is late, the wombat waits"
ZOE_WORDS = ("zephyr lantern", "quokka jacket", "marmot sighted")
ZOE_HANDLES = ("zoe_quill", "zoe_old")


@dataclass
class World:
    daemon: Daemon
    clock: ManualClock
    db_path: Path
    config_file: Path
    case_id: int
    bob_case: int
    request_id: int

    def run(self, *args: str, input: str | None = None) -> tuple[int, str, str]:
        result = CliRunner().invoke(
            cli, [*args, "--config", str(self.config_file)], input=input, catch_exceptions=False
        )
        return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def world(emu: Emulators, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    """Zoe complains (a safety flag: a risk alert), writes once more under her old handle and
    once not complaining; Bob complains. Zoe's reply is approved and posted, both cases get
    SLA notes and breach alerts, the week's digest is posted, and Zoe asks to be forgotten."""
    emu.x.add_post(FIRE, "zoe_quill")
    emu.x.add_post(JACKET, "zoe_quill")
    emu.x.add_post(BOB, "bob_other")
    daemon, clock = make_daemon(emu, tmp_path)
    daemon.run_cycle()
    db = daemon.store.db
    case_id, zoe_id = db.execute(
        "SELECT id, author_id FROM cases WHERE author_handle = 'zoe_quill'"
    ).fetchone()
    bob_case = db.execute("SELECT id FROM cases WHERE author_handle = 'bob_other'").fetchone()[0]
    renamed = Mention("x", "1999", zoe_id, "zoe_old", OLD_HANDLE, clock.now() - timedelta(hours=1))
    daemon.store.save_mention(renamed, "2026-01-01T00:00:00Z")
    daemon.classify_pending()  # the old handle's post joins her open case (same author id)
    assert daemon.workflow.approve(case_id, APPROVER).ok
    deliver_all(daemon)
    clock.advance(timedelta(days=3))
    daemon.watch_sla()
    deliver_all(daemon)
    week = Week.containing(clock.now() - timedelta(days=3), daemon.config.digest.timezone)
    digest = build_digest(daemon.store, daemon.config, week, clock.now())
    post_digest(daemon.store, digest, b"png", daemon.slack, "#complaints-digest", clock)  # type: ignore[arg-type]
    case = daemon.workflow.book.get(case_id)
    request, _ = PrivacyBook(daemon.store, daemon.config.policy, clock).open(
        case, clock.now(), "email", APPROVER, "please delete everything about me"
    )
    config_file = tmp_path / "config.toml"
    config_file.write_text(
        f'[store]\npath = "{tmp_path / "bot.db"}"\n[slack]\napi_base_url = "{emu.slack_api_url}"\n'
    )
    monkeypatch.setenv("SLACK_BOT_TOKEN", SECRETS["SLACK_BOT_TOKEN"])
    world = World(daemon, clock, tmp_path / "bot.db", config_file, case_id, bob_case, request.id)
    # Everything the test looks for is really there before the erasure.
    held = slack_held(emu)
    for word in (*ZOE_HANDLES[:1], *ZOE_WORDS[:1]):
        assert word in held
    digest_message = next(
        m for m in emu.slack.messages() if m["text"].startswith("Complaint digest")
    )
    assert "zephyr lantern" in json.dumps(digest_message["blocks"])  # quoted in the week's themes
    data = raw_bytes(world.db_path)
    for word in (*ZOE_HANDLES, *ZOE_WORDS):
        assert where_in_tables(world.db_path, word)
        assert word.encode() in data
    return world


def sent_for(world: World, case_id: int) -> int:
    """Slack messages the bot posted for a case: the card, its thread notes and alerts."""
    notes = world.daemon.store.db.execute(
        "SELECT count(*) FROM outbox WHERE case_id = ? AND status = 'done'"
        " AND kind IN ('slack_thread', 'slack_alert')",
        [case_id],
    ).fetchone()[0]
    return int(notes) + 1


def assert_forgotten(world: World, emu: Emulators) -> None:
    held = slack_held(emu).casefold()
    data = raw_bytes(world.db_path).lower()
    for needle in (*ZOE_HANDLES, *ZOE_WORDS):
        assert where_in_tables(world.db_path, needle) == [], needle
        assert needle.encode() not in data, needle
        assert needle not in held, needle
    for text in (FIRE, JACKET, OLD_HANDLE):
        assert where_in_tables(world.db_path, text) == []
    # Bob is untouched, in the store and in Slack.
    assert where_in_tables(world.db_path, "bob_other")
    assert "wombat" in held and "bob_other" in held


def test_forget_erases_the_person_in_every_table_the_file_and_slack(
    world: World, emu: Emulators
) -> None:
    expected_slack = sent_for(world, world.case_id) + 1  # and the week's digest
    code, out, err = world.run(
        "privacy", "forget", "--author", "x:Zoe_Quill", "--request", str(world.request_id),
        "--yes", "--json",
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out)
    assert result["mentions_erased"] == 3
    assert result["cases_erased"] == 1
    assert result["slack_messages_redacted"] == expected_slack
    assert (result["slack_messages_pending"], result["vacuumed"]) == (0, True)
    assert_forgotten(world, emu)

    messages = emu.slack.messages()
    card = next(
        m for m in messages if m["ts"] == world.daemon.workflow.book.get(world.case_id).slack_ts
    )
    assert not card["deleted"] and "[erased]" in json.dumps(card["blocks"])
    assert sum(m["text"] == REDACTED_TEXT for m in messages) == expected_slack - 2

    db = world.daemon.store.db
    log = db.execute(
        "SELECT kind, details FROM privacy_log WHERE request_id = ? ORDER BY id", [world.request_id]
    ).fetchall()
    assert [kind for kind, _ in log] == ["received", "erased"]
    assert json.loads(log[-1][1])["mentions_erased"] == 3
    request = db.execute(
        "SELECT author_handle, requester_id, platform FROM privacy_requests WHERE id = ?",
        [world.request_id],
    ).fetchone()
    assert request[0] is None and request[1].startswith("req-") and request[2] == "x"
    events = [e.kind for e in world.daemon.workflow.book.events(world.case_id)]
    assert events[-1] == "personal_data_erased"
    assert audit.verify(db).ok
    code, out, _ = world.run("audit", "verify", "--json")
    assert (code, json.loads(out)["ok"]) == (0, True)

    # The privacy lead closes the request: the log answers for it without the person.
    code, _, err = world.run(
        "privacy", "complete", str(world.request_id), "--outcome", "all data deleted"
    )
    assert code == 0, err
    log = db.execute(
        "SELECT kind, details FROM privacy_log WHERE request_id = ? ORDER BY id", [world.request_id]
    ).fetchall()
    assert [kind for kind, _ in log][-1] == "completed"
    assert "all data deleted" in log[-1][1] and "zoe_quill" not in str(log).casefold()
    code, out, _ = world.run("privacy", "requests", "--json")
    [shown] = [r for r in json.loads(out) if r["id"] == world.request_id]
    assert shown["status"] == "completed" and "zoe_quill" not in json.dumps(shown).casefold()
    assert audit.verify(db).ok


def test_forget_twice_erases_nothing_the_second_time(world: World, emu: Emulators) -> None:
    args = ("privacy", "forget", "--author", "x:zoe_quill", "--yes", "--json")
    assert world.run(*args)[0] == 0
    code, out, _ = world.run(*args)
    result = json.loads(out)
    assert code == 0
    assert (
        result["mentions_erased"],
        result["cases_erased"],
        result["slack_messages_redacted"],
        result["slack_messages_pending"],
    ) == (0, 0, 0, 0)
    assert audit.verify(world.daemon.store.db).ok


def test_a_crash_inside_the_erasure_leaves_nothing_half_done_and_the_rerun_finishes(
    world: World, emu: Emulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    eraser = Eraser(world.daemon.store, world.daemon.config, world.clock)

    def crash(*args: Any) -> int:
        raise RuntimeError("power cut")

    with monkeypatch.context() as patched, pytest.raises(RuntimeError):
        patched.setattr(eraser.store, "erase_labels", crash)
        eraser.forget(Author("x", "zoe_quill"), "cli:test")
    assert where_in_tables(world.db_path, "zoe_quill")  # rolled back whole
    assert world.daemon.workflow.book.get(world.case_id).author_handle == "zoe_quill"

    # A crash after the commit, before the vacuum and Slack: the rerun finishes both.
    report = Eraser(world.daemon.store, world.daemon.config, world.clock).forget(
        Author("x", "zoe_quill"), "cli:test"
    )
    assert report.cases_erased == 1 and report.slack_rows_queued
    code, out, err = world.run("privacy", "forget", "--author", "x:zoe_quill", "--yes", "--json")
    result = json.loads(out)
    assert code == 0 and (result["mentions_erased"], result["cases_erased"]) == (0, 0), err
    assert result["slack_messages_redacted"] == len(report.slack_rows_queued), (result, err)
    assert_forgotten(world, emu)


def test_slack_down_leaves_the_slack_part_queued_and_the_daemon_sends_it(
    world: World, emu: Emulators
) -> None:
    daemon = world.daemon
    report = Eraser(daemon.store, daemon.config, world.clock).forget(
        Author("x", "zoe_quill"), "cli:test"
    )
    waiting = SlackErasure(Outbox(daemon.store, world.clock), "UTC").waiting()
    assert sorted(waiting) == sorted(report.slack_rows_queued)
    emu.slack.fault("/api/chat.update", count=len(waiting), status=503)
    outcome = deliver_erasures(daemon.config, daemon.store, world.clock, daemon.slack)
    assert (outcome.redacted, outcome.pending, outcome.failed) == (0, len(waiting), 0)
    assert "zephyr lantern" in slack_held(emu)  # Slack still shows it, for now

    world.clock.advance(timedelta(minutes=20))
    deliver_all(daemon)
    assert SlackErasure(Outbox(daemon.store, world.clock), "UTC").waiting() == []
    daemon.store.vacuum()
    assert_forgotten(world, emu)


def test_export_holds_every_post_and_case_of_the_person_and_nothing_of_anyone_else(
    world: World, tmp_path: Path
) -> None:
    data = export(world.daemon.store, Author.parse("x:ZOE_QUILL"), world.clock.now())
    assert sorted(m["text"] for m in data["mentions"]) == sorted([FIRE, JACKET, OLD_HANDLE])
    assert [c["id"] for c in data["cases"]] == [world.case_id]
    case = data["cases"][0]
    assert case["draft_reply"] and case["reply_text"] and case["events"]
    kinds = {m["kind"] for m in data["slack_messages"]}
    assert kinds == {"card", "thread_note", "alert"}
    assert [r["id"] for r in data["privacy_requests"]] == [world.request_id]
    text = json.dumps(data)
    assert "bob_other" not in text and "wombat" not in text
    assert all(m["case_id"] in (None, world.case_id) for m in data["mentions"])

    output = tmp_path / "zoe.json"
    code, out, _ = world.run(
        "privacy", "export", "--author", "x:zoe_quill", "--output", str(output)
    )
    assert code == 0 and "3 posts, 1 cases" in out
    assert stat.S_IMODE(os.stat(output).st_mode) == 0o600
    assert json.loads(output.read_text())["author"]["handle"] == "zoe_quill"
    code, out, _ = world.run("privacy", "export", "--author", "reddit:zoe_quill")
    assert code == 0 and json.loads(out)["mentions"] == []


def test_forget_asks_first_and_refuses_what_it_cannot_use(world: World) -> None:
    code, _, err = world.run("privacy", "forget", "--author", "x:zoe_quill", input="n\n")
    assert code == 1 and "nothing erased" in err
    assert where_in_tables(world.db_path, "zoe_quill")

    code, _, err = world.run("privacy", "forget", "--author", "zoe_quill", "--yes")
    assert code == 2 and err.count("\n") == 1 and "PLATFORM:HANDLE" in err
    code, _, err = world.run("privacy", "forget", "--author", "x:zoe_quill", "--request", "99")
    assert code == 2 and "no such privacy request" in err
    code, _, err = world.run(
        "privacy", "forget", "--author", "x:bob_other", "--request", str(world.request_id), "--yes"
    )
    assert code == 2 and "another person" in err
    assert where_in_tables(world.db_path, "bob_other")

    code, out, _ = world.run("privacy", "forget", "--author", "x:zoe_quill", input="y\n")
    assert code == 0 and "3 posts and 1 cases erased" in out
