"""Slack refusing while the bot runs, and a card older than one page of history.

The emulated Slack archives and renames channels, removes the app from one, revokes the
token, drops a scope and paginates as Slack does (``/_admin/`` calls); the daemon's parts
(store, workflow, outbox, slack_sdk) run against it on a manual clock. Each fault must give
the operator one line (log, ``/healthz`` problems, an alert while the escalation channel
works) and lose nothing: the messages wait and go out once it is fixed.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from test_hardening import (
    APPROVER,
    SECRETS,
    KeywordClassifier,
    channels,
    hardening_config,
    make_daemon,
    messages_in,
)

from bot.app.daemon import Daemon
from bot.app.slack.web import WebSlack
from bot.clock import ManualClock
from bot.config import Config
from bot.errors import AuthError, SetupError
from bot.outbox import SETTLE_SECONDS, Delivery, Outbox, OutboxWorker, SharedSetupError
from bot.store import Store
from emulators import Emulators

TOKEN = SECRETS["SLACK_BOT_TOKEN"]
__all__ = ["channels"]  # a fixture, used by name
MOVED = timedelta(seconds=61)  # past the one-minute wait of a refused channel


def cards_of(emu: Emulators, case_id: int) -> list[dict[str, Any]]:
    """Every message in Slack that is this case's card (header block id ``card:<id>``)."""
    return [
        m
        for m in emu.slack.messages()
        if not m["deleted"]
        and any(b.get("block_id") == f"card:{case_id}" for b in m["blocks"] or [])
    ]


def newest_case(daemon: Daemon) -> int:
    return int(daemon.store.db.execute("SELECT max(id) FROM cases").fetchone()[0])


def outbox_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.outbox" and r.levelno >= 40]


def with_channel(config: Config, channel: str) -> Config:
    return replace(config, slack=replace(config.slack, complaints_channel=channel))


def lose_the_next_answer(daemon: Daemon) -> None:
    """Slack takes the next card, but the bot never records it, as when it crashes (or the
    answer times out) right after the post: the row is tried again, and must look first."""
    book = daemon.workflow.book
    record_card = book.record_card

    def crash(case_id: int, channel: str, ts: str, permalink: str | None) -> None:
        book.record_card = record_card  # type: ignore[method-assign]
        raise RuntimeError("the process died before it recorded the card")

    book.record_card = crash  # type: ignore[method-assign]


def time_out_the_next_post(daemon: Daemon) -> None:
    """Slack takes the next message, but its answer never reaches the bot (a read timeout),
    without the test waiting for one."""
    assert isinstance(daemon.slack, WebSlack)
    client = daemon.slack.client
    post = client.chat_postMessage

    def taken_then_timed_out(**kwargs: Any) -> Any:
        client.chat_postMessage = post  # type: ignore[method-assign]
        post(**kwargs)
        raise TimeoutError("The read operation timed out")

    client.chat_postMessage = taken_then_timed_out  # type: ignore[method-assign]


def retry(daemon: Daemon, clock: Any) -> dict[str, int]:
    """The outbox run once the row may be tried again: after its backoff and after the settle
    time an unanswered attempt is given to land (bot.outbox.SETTLE_SECONDS)."""
    clock.advance(timedelta(seconds=SETTLE_SECONDS + 1))
    return daemon.deliver()


def restarted(emu: Emulators, config: Config, daemon: Daemon, token: str = TOKEN) -> Daemon:
    """A new daemon on the same store and clock: what a restart after a fix gives."""
    secrets = {**SECRETS, "SLACK_BOT_TOKEN": token}
    slack = WebSlack(token, emu.slack_api_url)
    return Daemon(config, secrets, KeywordClassifier(), clock=daemon.clock, slack=slack)


# ------------------------------------------------------------------ pagination


def test_a_card_older_than_one_page_of_history_is_found_not_posted_again(
    emu: Emulators, tmp_path: Path, channels: dict[str, str]
) -> None:
    emu.x.add_post("@acme my order never came", "ann")
    daemon, clock = make_daemon(emu, tmp_path)
    daemon.poll("x")
    case_id = newest_case(daemon)
    lose_the_next_answer(daemon)
    assert daemon.deliver()["retried"] == 1  # Slack took the card; the bot does not know
    busy = WebClient(token="xoxb-another-app", base_url=emu.slack_api_url)
    for n in range(250):  # a busy channel: more than the 200 messages the bot reads a page
        busy.chat_postMessage(channel=channels["complaints"], text=f"chatter {n}")
    assert retry(daemon, clock)["done"] == 1
    (card,) = cards_of(emu, case_id)
    assert daemon.workflow.book.get(case_id).slack_ts == card["ts"]
    reads = [r for r in emu.slack.requests() if r["path"] == "/api/conversations.history"]
    assert len(reads) == 2  # found on the second page, by following next_cursor


def test_the_channel_lookup_reads_every_page_of_the_channel_list(
    emu: Emulators, tmp_path: Path
) -> None:
    emu.slack.add_user(APPROVER, "pat")
    for n in range(5):
        emu.slack.add_channel(f"other-{n}")
    emu.slack.add_channel("complaints-escalations")
    emu.slack.add_channel("complaints")  # the last of eight channels
    emu.slack.page_limits({"conversations.list": 2})
    emu.x.add_post("@acme my order never came", "ann")
    config = hardening_config(emu, tmp_path)
    daemon, clock = make_daemon(emu, tmp_path, config)
    daemon.poll("x")
    lose_the_next_answer(daemon)
    daemon.deliver()
    fresh = restarted(emu, config, daemon)  # knows no channel id yet: looks the name up
    assert retry(fresh, clock)["done"] == 1
    assert len(cards_of(emu, newest_case(daemon))) == 1
    lists = [r for r in emu.slack.requests() if r["path"] == "/api/conversations.list"]
    assert len(lists) == 4  # two channels a page; #complaints is on the fourth


# ------------------------------------------- the complaints channel, mid-run


@pytest.mark.parametrize(
    ("fault", "line", "mend"),
    [
        ("archived", "the channel is archived; unarchive it", "unarchive"),
        ("app removed", "the app is not a member; invite it", "invite"),
    ],
)
def test_the_complaints_channel_refusing_mid_run_holds_tells_and_delivers_once_mended(
    emu: Emulators,
    tmp_path: Path,
    channels: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    fault: str,
    line: str,
    mend: str,
) -> None:
    emu.x.add_post("@acme my order never came", "ann")
    daemon, clock = make_daemon(emu, tmp_path)
    daemon.run_cycle()
    first = newest_case(daemon)
    if fault == "archived":
        emu.slack.archive_channel("#complaints")
    else:
        emu.slack.remove_bot("#complaints")
    daemon.workflow.assign(first, APPROVER, APPROVER)  # the first card's update must wait
    emu.x.add_post("@acme order two never came either", "bob")
    with caplog.at_level(logging.INFO):
        daemon.run_cycle()
        daemon.deliver()  # the alert queued when the channel refused
        second = newest_case(daemon)
        expected = f'slack: [slack] complaints_channel = "#complaints": {line}'
        assert [p[: len(expected)] for p in daemon.problems()] == [expected]
        assert daemon.status()["ok"] is False
        (alert,) = messages_in(emu, channels["escalations"])
        assert (
            '[slack] complaints_channel = "#complaints"' in alert["text"] and line in alert["text"]
        )
        for _ in range(3):  # tried again each minute: no second line, alert or error
            clock.advance(MOVED)
            daemon.run_cycle()
        assert len(daemon.problems()) == 1 and len(messages_in(emu, channels["escalations"])) == 1
        assert len(outbox_errors(caplog)) == 1
        assert not any("perhaps twice" in r.getMessage() for r in caplog.records)
    assert daemon.workflow.outbox.failed() == 0 and cards_of(emu, second) == []

    if mend == "unarchive":
        emu.slack.archive_channel("#complaints", archived=False)
    else:
        emu.slack.remove_bot("#complaints", member=True)
    clock.advance(MOVED)
    daemon.run_cycle()
    assert daemon.problems() == [] and daemon.workflow.outbox.backlog() == 0
    assert len(cards_of(emu, second)) == 1
    (card,) = cards_of(emu, first)
    assert [h["action"] for h in card["history"]] == ["post", "update"]


def test_the_escalation_channel_archived_mid_run_holds_only_the_alerts(
    emu: Emulators, tmp_path: Path, channels: dict[str, str]
) -> None:
    """Existing behaviour, proved through the emulator: the cards go on; the alerts wait
    with a line naming the escalation channel (which cannot carry an alert about itself)."""
    daemon, clock = make_daemon(emu, tmp_path)
    emu.slack.archive_channel("#complaints-escalations")
    emu.x.add_post("@acme the charger caught fire on my order", "ann")
    daemon.run_cycle()
    daemon.deliver()
    assert len(cards_of(emu, newest_case(daemon))) == 1
    assert daemon.problems() == [
        'slack: [slack] escalation_channel = "#complaints-escalations": the channel is '
        "archived; unarchive it or set [slack] escalation_channel to another channel; "
        "waiting messages are sent then"
    ]
    assert messages_in(emu, channels["escalations"]) == []
    emu.slack.archive_channel("#complaints-escalations", archived=False)
    clock.advance(MOVED)
    daemon.run_cycle()
    assert daemon.problems() == [] and len(messages_in(emu, channels["escalations"])) == 1


def test_the_complaints_channel_renamed_mid_run_names_the_new_name_and_updates_go_on(
    emu: Emulators, tmp_path: Path, channels: dict[str, str]
) -> None:
    emu.x.add_post("@acme my order never came", "ann")
    config = hardening_config(emu, tmp_path)
    daemon, clock = make_daemon(emu, tmp_path, config)
    daemon.run_cycle()
    first = newest_case(daemon)
    emu.slack.rename_channel("#complaints", "complaints-old")
    daemon.workflow.assign(first, APPROVER, APPROVER)
    emu.x.add_post("@acme order two never came either", "bob")
    daemon.run_cycle()
    daemon.deliver()
    second = newest_case(daemon)
    renamed = f"#complaints-old ({channels['complaints']})"
    line = (
        f'slack: [slack] complaints_channel = "#complaints": that channel was renamed to '
        f"{renamed}; set [slack] complaints_channel to its new name or its id and restart "
        "(or rename it back); waiting messages are sent then"
    )
    assert daemon.problems() == [line]
    clock.advance(MOVED)  # the next try looks for the card first: the same line
    daemon.run_cycle()
    assert daemon.problems() == [line]
    (alert,) = messages_in(emu, channels["escalations"])
    assert renamed in alert["text"]
    # The card already posted is edited by its channel id, which a rename keeps.
    (card,) = cards_of(emu, first)
    assert [h["action"] for h in card["history"]] == ["post", "update"]
    assert cards_of(emu, second) == []

    fixed = restarted(emu, with_channel(config, "#complaints-old"), daemon)
    clock.advance(MOVED)
    fixed.run_cycle()
    assert fixed.problems() == []
    (card,) = cards_of(emu, second)
    assert card["channel"] == channels["complaints"]
    assert len(cards_of(emu, first)) == 1


def test_a_new_channel_that_takes_the_old_name_is_where_the_bot_looks_for_its_cards(
    emu: Emulators, tmp_path: Path, channels: dict[str, str]
) -> None:
    """The bot remembers which channel a name resolved to; after a rename, a new channel
    under the old name must not be hidden by it (a card Slack took there would be posted
    again)."""
    daemon, clock = make_daemon(emu, tmp_path)
    for author in ("ann", "bob"):
        if author == "bob":
            emu.slack.rename_channel("#complaints", "complaints-old")
            channels["complaints"] = emu.slack.add_channel("complaints")
        emu.x.add_post(f"@acme my order never came, {author} here", author)
        daemon.poll("x")
        time_out_the_next_post(daemon)
        assert daemon.deliver()["retried"] == 1  # Slack took the card; the bot does not know
        assert retry(daemon, clock)["done"] == 1  # found where it went, not posted again
        (card,) = cards_of(emu, newest_case(daemon))
        assert card["channel"] == channels["complaints"]


def test_cards_in_an_archived_channel_move_to_the_channel_the_operator_sets(
    emu: Emulators, tmp_path: Path, channels: dict[str, str]
) -> None:
    """The fix line offers "set [slack] complaints_channel to another channel": once that is
    done, the first card's waiting update must not hold the new cards back for ever."""
    emu.x.add_post("@acme my order never came", "ann")
    config = hardening_config(emu, tmp_path)
    daemon, clock = make_daemon(emu, tmp_path, config)
    daemon.run_cycle()
    first = newest_case(daemon)
    emu.slack.archive_channel("#complaints")
    daemon.workflow.assign(first, APPROVER, APPROVER)
    emu.x.add_post("@acme order two never came either", "bob")
    daemon.run_cycle()
    second = newest_case(daemon)
    assert len(daemon.problems()) == 1

    new = emu.slack.add_channel("complaints-new")
    fixed = restarted(emu, with_channel(config, "#complaints-new"), daemon)
    clock.advance(MOVED)
    fixed.run_cycle()
    assert fixed.problems() == [] and fixed.workflow.outbox.backlog() == 0
    assert [c["channel"] for c in cards_of(emu, second)] == [new]
    # The first card is posted again in the new channel, as it stands now; the case follows.
    old, moved = cards_of(emu, first)
    assert (old["channel"], moved["channel"]) == (channels["complaints"], new)
    assert fixed.workflow.book.get(first).slack_channel == new
    assert fixed.workflow.book.get(first).slack_ts == moved["ts"]


# --------------------------------------------------- the token and the scopes


@pytest.mark.parametrize("error", ["token_revoked", "invalid_auth"])
def test_a_token_revoked_mid_run_is_one_line_and_all_goes_out_after_a_restart(
    emu: Emulators,
    tmp_path: Path,
    channels: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    error: str,
) -> None:
    emu.x.add_post("@acme my order never came", "ann")
    config = hardening_config(emu, tmp_path)
    daemon, clock = make_daemon(emu, tmp_path, config)
    daemon.run_cycle()
    first = newest_case(daemon)
    emu.slack.revoke_token(TOKEN, error)
    daemon.workflow.assign(first, APPROVER, APPROVER)
    emu.x.add_post("@acme the charger caught fire on my order", "bob")  # a card and an alert
    with caplog.at_level(logging.INFO):
        for _ in range(3):  # tried each minute
            clock.advance(MOVED)
            daemon.run_cycle()
            daemon.deliver()
    fix = (
        f"Slack refused SLACK_BOT_TOKEN ({error}); set a valid bot token (xoxb-…) for the "
        "installed app and restart; waiting messages are sent then"
    )
    assert daemon.problems() == [f"slack: {fix}"]  # one line, though both channels wait
    assert daemon.status()["slack_delivery_blocked"] == {"every Slack channel": fix}
    assert outbox_errors(caplog) == [f"outbox: every Slack channel waits: {fix}"]
    assert messages_in(emu, channels["escalations"]) == []  # no channel can carry an alert
    assert daemon.workflow.outbox.failed() == 0

    fixed = restarted(emu, config, daemon, token="xoxb-reinstalled")
    fixed.run_cycle()  # at once: a start tries again what a setup fault held
    assert fixed.problems() == [] and fixed.workflow.outbox.backlog() == 0
    assert len(cards_of(emu, newest_case(fixed))) == 1
    assert len(messages_in(emu, channels["escalations"])) == 1
    (card,) = cards_of(emu, first)
    assert [h["action"] for h in card["history"]] == ["post", "update"]


def test_a_scope_removed_mid_run_names_it_and_all_goes_out_once_it_is_back(
    emu: Emulators, tmp_path: Path, channels: dict[str, str]
) -> None:
    emu.x.add_post("@acme my order never came", "ann")
    daemon, clock = make_daemon(emu, tmp_path)
    daemon.run_cycle()
    emu.slack.scopes(remove=["chat:write"])
    emu.x.add_post("@acme the charger caught fire on my order", "bob")
    daemon.run_cycle()
    daemon.deliver()
    assert daemon.problems() == [
        "slack: the Slack app lacks the scope chat:write (missing_scope); add it under "
        "OAuth & Permissions (docs/slack.md lists every scope) and reinstall the app; "
        "waiting messages are sent then"
    ]
    assert daemon.status()["ok"] is False
    emu.slack.scopes(add=["chat:write"])  # reinstalled with it: the token stays the same
    clock.advance(MOVED)
    daemon.run_cycle()
    assert daemon.problems() == [] and daemon.workflow.outbox.backlog() == 0
    assert len(cards_of(emu, newest_case(daemon))) == 1
    assert len(messages_in(emu, channels["escalations"])) == 1


def test_without_the_history_scope_a_card_is_still_delivered_and_the_log_names_the_scope(
    emu: Emulators, tmp_path: Path, channels: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """The bot cannot look for a card Slack may have taken, so it posts it: a second card
    beats a missing one (docs/slack.md). The warning says which scope would prevent that."""
    emu.x.add_post("@acme my order never came", "ann")
    daemon, clock = make_daemon(emu, tmp_path)
    daemon.poll("x")
    emu.slack.scopes(remove=["channels:history"])
    lose_the_next_answer(daemon)
    daemon.deliver()
    with caplog.at_level(logging.WARNING):
        assert retry(daemon, clock)["done"] == 1
    assert len(cards_of(emu, newest_case(daemon))) == 2
    (warning,) = [r.getMessage() for r in caplog.records if "perhaps twice" in r.getMessage()]
    assert "add the scope channels:history" in warning


def test_a_shared_fault_is_one_line_for_every_lane_it_holds_and_ends_for_all_at_once() -> None:
    """The worker's bookkeeping behind the one line: a refused token holds lanes A and B
    under one key; once one lane shows that the token works, the token line goes."""
    clock = ManualClock(datetime(2026, 12, 2, 9, tzinfo=UTC))
    outbox = Outbox(Store.memory(), clock)
    answers: dict[str, list[Exception | None]] = {"a": [], "b": []}

    def handler(delivery: Delivery) -> dict[str, Any]:
        answer = answers[delivery.kind].pop(0) if answers[delivery.kind] else None
        if answer is not None:
            raise answer
        return {}

    token = SharedSetupError("the token is refused", lane="every channel", retry_after=60)
    worker = OutboxWorker(outbox, {"a": handler, "b": handler}, lanes={"a": "A", "b": "B"})
    for n in range(2):
        outbox.enqueue("a", f"a{n}", {})
        outbox.enqueue("b", f"b{n}", {})
    answers.update(a=[token], b=[token])
    assert worker.run_once() == {"done": 0, "retried": 0, "failed": 0, "held": 4}
    assert worker.blocked == {"every channel": "the token is refused"}
    # A's channel now refuses on its own: the token works, so its line goes and B is free.
    answers.update(a=[SetupError("A is archived", retry_after=60)], b=[])
    clock.advance(MOVED)
    assert worker.run_once() == {"done": 2, "retried": 0, "failed": 0, "held": 2}
    assert worker.blocked == {"A": "A is archived"}
    clock.advance(MOVED)
    assert worker.run_once()["done"] == 2 and worker.blocked == {}
    # Held rows carry the fault they wait for, so a restart revives them at once.
    answers.update(a=[token])
    outbox.enqueue("a", "a2", {})
    outbox.enqueue("a", "a3", {})
    worker.run_once()
    waiting = outbox.db.execute("SELECT last_error FROM outbox WHERE status = 'pending'")
    assert [row[0] for row in waiting] == ["SetupError: the token is refused"] * 2


# ------------------------------------------------------------------ Slack failing at start


@pytest.mark.parametrize(
    ("path", "fault"),
    [
        ("/api/auth.test", {"status": 503}),
        ("/api/auth.test", {"malformed": True}),
        ("/api/apps.connections.open", {"status": 500}),
        ("/api/apps.connections.open", {"malformed": True}),
    ],
)
def test_slack_failing_at_start_is_one_line_and_the_bot_runs_and_connects_later(
    emu: Emulators,
    tmp_path: Path,
    channels: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    path: str,
    fault: dict[str, Any],
) -> None:
    emu.slack.fault(path, **fault)
    emu.x.add_post("@acme my order never came", "ann")
    daemon, _ = make_daemon(emu, tmp_path)
    try:
        with caplog.at_level(logging.WARNING, logger="complaintbot.daemon"):
            daemon.start()  # no exit: X and Reddit are read while Slack is out
        (problem,) = daemon.problems()
        assert problem.startswith("slack: Slack did not ") and "connecting again every" in problem
        assert "SLACK_BOT_TOKEN" not in problem and "SLACK_APP_TOKEN" not in problem
        assert daemon.status()["slack_connected"] is False
        assert daemon.scheduler.get_job("slack-connect") is not None
        assert [r.getMessage() for r in caplog.records if "Slack did not" in r.getMessage()]
        daemon.run_cycle()
        assert newest_case(daemon) == 1  # the complaint is in, its card waits

        assert daemon.connect_slack() is True  # the fault has lapsed: the retry job's work
        assert daemon.problems() == [] and daemon.status()["slack_connected"] is True
    finally:
        daemon.stop()


@pytest.mark.parametrize("error", ["invalid_auth", "token_revoked"])
def test_a_refused_bot_token_at_start_still_stops_the_start_naming_it(
    emu: Emulators, tmp_path: Path, channels: dict[str, str], error: str
) -> None:
    emu.slack.revoke_token(TOKEN, error)
    daemon, _ = make_daemon(emu, tmp_path)
    try:
        with pytest.raises(AuthError, match=rf"^Slack refused SLACK_BOT_TOKEN \({error}\)"):
            daemon.start()
        assert daemon.scheduler is None
    finally:
        daemon.stop()
