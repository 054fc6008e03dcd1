"""The queue staff can see: the App Home tab and ``/complaints``, through the real slack_bolt
Socket Mode app against the Slack emulator (cards posted by the real outbox worker)."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from factories import Desk, la, mention, verdict
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot.app.slack.bolt import build_app
from bot.app.slack.queue import HomeTabs, Queue
from bot.app.slack.web import WebSlack
from bot.app.wiring import REPLY_RULES
from bot.clock import ManualClock
from bot.config import default_config
from bot.outbox import OutboxWorker
from bot.slack.delivery import SlackDelivery
from bot.slack.home import HOME_ROWS, SHOW_CASE, home_view, is_breached, queue_rows
from bot.store import Store
from bot.workflow import Workflow
from emulators import Emulators

PAT, KIM, OUTSIDER = "U0PAT00001", "U0KIM00001", "U0OUT00001"
MONDAY_9 = la(2026, 3, 2, 9)


def wait_for(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


@dataclass
class Team:
    emu: Emulators
    clock: ManualClock
    store: Store
    flow: Workflow
    worker: OutboxWorker
    channel: str
    tabs: HomeTabs

    def open_case(self, minutes_after_nine: int, author: str) -> int:
        """A complaint received ``minutes_after_nine`` into Monday, its card posted."""
        at = MONDAY_9 + timedelta(minutes=minutes_after_nine)
        self.clock.set(at)
        mention_id, _ = self.store.save_mention(mention(at, author), "2026-01-01T00:00:00Z")
        outcome = self.flow.take_in(mention_id, verdict())
        assert outcome is not None
        self.worker.run_once()
        return outcome.case_id

    def home_rows(self, user: str) -> list[int]:
        view = wait_for(lambda: self.emu.slack.home_view(user))
        return row_ids(view["blocks"])

    def ephemerals(self, user: str) -> list[dict[str, Any]]:
        return [m for m in self.emu.slack.messages() if m["ephemeral_to"] == user]


def row_ids(blocks: list[dict[str, Any]]) -> list[int]:
    return [
        int(b["block_id"].removeprefix("queue:"))
        for b in blocks
        if str(b.get("block_id", "")).startswith("queue:")
    ]


def text_of(blocks: list[dict[str, Any]]) -> str:
    parts = []
    for block in blocks:
        for part in [block.get("text") or {}, *block.get("elements", []), *block.get("fields", [])]:
            parts.append(str(part.get("text", "")) if isinstance(part, dict) else "")
    return "\n".join(parts)


def action_ids(blocks: list[dict[str, Any]]) -> list[str]:
    return [
        element["action_id"]
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
    ]


@pytest.fixture
def team(emu: Emulators, tmp_path: Path) -> Iterator[Team]:
    channel = emu.slack.add_channel("complaints")
    emu.slack.add_channel("complaints-escalations")
    for user, name in ((PAT, "pat"), (KIM, "kim"), (OUTSIDER, "sam")):
        emu.slack.add_user(user, name)
    base = default_config()
    config = replace(
        base, slack=replace(base.slack, api_base_url=emu.slack_api_url, approvers=(PAT, KIM))
    )
    clock = ManualClock(MONDAY_9)
    store = Store.open(tmp_path / "bot.db")
    slack = WebSlack("xoxb-emulator", emu.slack_api_url)
    flow = Workflow(config, store, clock, {}, slack.group_members, reply_rules=REPLY_RULES)
    worker = flow.outbox_worker(SlackDelivery(config, flow.book, slack).handlers())
    tabs = HomeTabs(Queue(flow, slack), slack)
    app = build_app(flow, slack, home_tabs=tabs)
    handler = SocketModeHandler(app, app_token="xapp-emulator")
    handler.connect()
    wait_for(lambda: emu.slack.post("/_admin/socket_mode", {})["connections"] == 1)
    try:
        yield Team(emu, clock, store, flow, worker, channel, tabs)
    finally:
        handler.close()


@pytest.fixture
def queue(team: Team) -> dict[str, int]:
    """Four cases on Monday morning: ``late`` has missed its first response by now, ``kims``
    is assigned to Kim, ``pats`` to Pat, ``soon`` is nobody's, ``done`` is resolved."""
    ids = {
        "late": team.open_case(0, "ann"),
        "soon": team.open_case(30, "bob"),
        "pats": team.open_case(60, "cy"),
        "kims": team.open_case(90, "di"),
        "done": team.open_case(100, "ed"),
    }
    flow = team.flow
    assert flow.assign(ids["pats"], PAT, PAT).ok and flow.assign(ids["kims"], PAT, KIM).ok
    assert flow.resolve(ids["done"], PAT, "refunded").ok
    late = flow.book.get(ids["late"])
    team.clock.set(late.ack_due_at + timedelta(minutes=5))
    assert is_breached(late, team.clock.now())
    assert not is_breached(flow.book.get(ids["soon"]), team.clock.now())
    return ids


def test_app_home_lists_breached_first_then_mine_then_by_deadline(
    team: Team, queue: dict[str, int]
) -> None:
    opened = team.emu.slack.open_home(PAT)
    assert opened["acked"]

    assert team.home_rows(PAT) == [queue["late"], queue["pats"], queue["soon"], queue["kims"]]
    view = team.emu.slack.home_view(PAT)
    assert view is not None and view["type"] == "home"
    shown = text_of(view["blocks"])
    assert "*4* new" in shown and "*1* resolved" in shown
    assert "*1* breached" in shown and "*1* yours" in shown
    assert shown.index("Breached") < shown.index("Yours") < shown.index("Open")
    # Each row links to its card (chat.getPermalink) and has a button to show it.
    late = team.flow.book.get(queue["late"])
    link = f"archives/{late.slack_channel}/p{str(late.slack_ts).replace('.', '')}"
    (row,) = [b for b in view["blocks"] if b.get("block_id") == f"queue:{late.id}"]
    assert link in row["text"]["text"] and "First response due" in row["text"]["text"]
    assert row["accessory"]["action_id"] == SHOW_CASE
    assert row["accessory"]["value"] == str(late.id)

    team.emu.slack.open_home(KIM)
    assert team.home_rows(KIM) == [queue["late"], queue["kims"], queue["soon"], queue["pats"]]


def test_app_home_is_published_again_on_each_open(team: Team, queue: dict[str, int]) -> None:
    team.emu.slack.open_home(PAT)
    first = wait_for(lambda: team.emu.slack.home_view(PAT))
    assert team.flow.assign(queue["soon"], PAT, PAT).ok

    team.emu.slack.open_home(PAT)
    # The event carries the view published before, as Slack's does.
    event = team.emu.slack.envelopes()[-1]["payload"]["event"]
    assert event["view"]["id"] == first["id"] and event["tab"] == "home"
    wait_for(lambda: team.emu.slack.home_view(PAT)["hash"] != first["hash"])
    assert team.home_rows(PAT) == [queue["late"], queue["soon"], queue["pats"], queue["kims"]]
    assert team.emu.slack.home_view(PAT)["id"] == first["id"]


def test_an_opened_home_tab_is_published_again_only_when_the_queue_changes(
    team: Team, queue: dict[str, int]
) -> None:
    team.emu.slack.open_home(PAT)
    assert team.home_rows(PAT) == [queue["late"], queue["pats"], queue["soon"], queue["kims"]]
    published = team.emu.slack.home_view(PAT)
    team.clock.advance(timedelta(minutes=3))  # only the times shown move
    assert team.tabs.refresh() == 0
    assert team.emu.slack.home_view(PAT)["hash"] == published["hash"]
    assert team.flow.resolve(queue["soon"], KIM, "replacement sent").ok
    assert team.tabs.refresh() == 1
    assert team.home_rows(PAT) == [queue["late"], queue["pats"], queue["kims"]]
    assert team.tabs.refresh() == 0
    assert team.emu.slack.home_view(KIM) is None  # never opened: never published


def test_the_home_show_button_opens_the_case_card_in_a_modal(
    team: Team, queue: dict[str, int]
) -> None:
    team.emu.slack.open_home(PAT)
    home = wait_for(lambda: team.emu.slack.home_view(PAT))
    clicked = team.emu.slack.view_action(PAT, home["id"], SHOW_CASE)
    assert clicked["acked"]

    modal = wait_for(lambda: [v for v in team.emu.slack.views() if v["type"] == "modal"])[0]
    assert modal["title"]["text"] == f"Case {queue['late']}"
    assert {"approve_reply", "escalate", "resolve"} <= set(action_ids(modal["blocks"]))


def test_complaints_case_answers_ephemerally_with_the_card_well_inside_3_seconds(
    team: Team, queue: dict[str, int]
) -> None:
    case_id = queue["soon"]
    answer = team.emu.slack.slash_command(PAT, "/complaints", str(case_id), channel="complaints")

    assert answer["acked"] and answer["ack_payload"] is None
    (envelope,) = [e for e in team.emu.slack.envelopes() if e["type"] == "slash_commands"]
    # Real elapsed time from Slack sending the envelope to the app's ack.
    assert envelope["ack_seconds"] < 1.0
    (reply,) = wait_for(lambda: team.ephemerals(PAT))
    assert reply["channel"] == team.channel
    card = next(
        m for m in team.emu.slack.messages() if m["ts"] == team.flow.book.get(case_id).slack_ts
    )
    assert text_of(reply["blocks"]) == text_of(card["blocks"])
    assert action_ids(reply["blocks"]) == action_ids(card["blocks"])
    assert "escalate" in action_ids(reply["blocks"])
    assert not any(m["ephemeral_to"] == KIM for m in team.emu.slack.messages())

    # Its buttons act on the case, as the card's do.
    clicked = team.emu.slack.click(PAT, team.channel, reply["ts"], "escalate")
    assert clicked["acked"]
    assert wait_for(lambda: team.flow.book.get(case_id).escalation_level == 1)


def test_the_ack_does_not_wait_for_the_answer(team: Team, queue: dict[str, int]) -> None:
    """Slack takes the answer slowly (its response_url takes a second): the command is
    still acked at once, and the answer follows when it is ready."""
    team.emu.slack.fault("/_response/*", delay_s=1.0)
    answer = team.emu.slack.slash_command(PAT, "/complaints", "open")

    assert answer["acked"]
    (envelope,) = [e for e in team.emu.slack.envelopes() if e["type"] == "slash_commands"]
    (reply,) = wait_for(lambda: team.ephemerals(PAT))
    assert envelope["ack_seconds"] < 0.5
    assert reply["history"][0]["at"] - envelope["created_at"] >= 1.0
    assert row_ids(reply["blocks"]) == [queue["late"], queue["pats"], queue["soon"], queue["kims"]]


def test_complaints_open_and_mine_list_the_queue(team: Team, queue: dict[str, int]) -> None:
    team.emu.slack.slash_command(KIM, "/complaints", "open")
    (listed,) = wait_for(lambda: team.ephemerals(KIM))
    assert row_ids(listed["blocks"]) == [queue["late"], queue["kims"], queue["soon"], queue["pats"]]
    assert "Open cases (4 cases, 1 breached)" in text_of(listed["blocks"])

    team.emu.slack.slash_command(KIM, "/complaints", "mine")
    mine = wait_for(lambda: team.ephemerals(KIM)[1:])
    assert row_ids(mine[0]["blocks"]) == [queue["kims"]]

    # A row's button on the ephemeral list shows the card.
    team.emu.slack.click(KIM, "general", listed["ts"], SHOW_CASE)
    modal = wait_for(lambda: [v for v in team.emu.slack.views() if v["type"] == "modal"])[0]
    assert modal["title"]["text"] == f"Case {queue['late']}" and modal["user"] == KIM


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "`/complaints 42` — case 42"),
        ("help", "`/complaints mine` — the open cases assigned to you"),
        ("999", "There is no case 999. `/complaints open` lists the open cases."),
        ("close 4", "`/complaints close 4` is not something I know"),
    ],
)
def test_complaints_usage_unknown_case_and_bad_arguments_answer_one_line(
    team: Team, text: str, expected: str
) -> None:
    team.emu.slack.slash_command(PAT, "/complaints", text)
    (reply,) = wait_for(lambda: team.ephemerals(PAT))
    assert expected in reply["text"]


def test_the_queue_is_only_for_the_team(team: Team, queue: dict[str, int]) -> None:
    team.emu.slack.slash_command(OUTSIDER, "/complaints", str(queue["late"]))
    (reply,) = wait_for(lambda: team.ephemerals(OUTSIDER))
    assert "for the complaints team" in reply["text"] and not action_ids(reply["blocks"] or [])

    team.emu.slack.open_home(OUTSIDER)
    view = wait_for(lambda: team.emu.slack.home_view(OUTSIDER))
    assert not row_ids(view["blocks"]) and "for the complaints team" in text_of(view["blocks"])


def test_a_long_queue_shows_the_top_rows_within_slacks_100_blocks(emu: Emulators) -> None:
    desk = Desk(MONDAY_9)
    for minute in range(HOME_ROWS + 30):
        desk.clock.set(MONDAY_9 + timedelta(minutes=minute))
        desk.open(mention(desk.clock.now(), f"a{minute}"))
    cases = desk.book.cases()
    view = home_view(cases, PAT, desk.clock.now(), desk.config.policy.timezone)

    assert len(view["blocks"]) <= 100
    assert len(row_ids(view["blocks"])) == HOME_ROWS
    assert "…and *30* more" in text_of(view["blocks"])
    # Slack (here the emulator) takes it.
    web = WebClient(token="xoxb-emulator", base_url=emu.slack_api_url)
    assert web.views_publish(user_id="U0EMUHUM01", view=view)["ok"]


def test_a_paused_case_counts_as_breached_only_if_it_was_late_when_paused() -> None:
    desk = Desk(MONDAY_9)
    on_time = desk.open(mention(MONDAY_9, "ann"))
    late = desk.open(mention(MONDAY_9, "bob"))
    due = desk.book.get(on_time).ack_due_at
    desk.book.pause(on_time, PAT)
    desk.clock.set(due + timedelta(minutes=1))
    desk.book.pause(late, PAT)
    desk.clock.set(due + timedelta(days=2))
    now = desk.clock.now()

    assert not is_breached(desk.book.get(on_time), now)
    assert is_breached(desk.book.get(late), now)
    rows = queue_rows(desk.book.cases(), PAT, now)
    assert [r.case.id for r in rows] == [late, on_time]


def test_complaints_in_http_mode_answers_through_the_response_url(
    emu: Emulators, tmp_path: Path
) -> None:
    """The same listener behind HTTP mode: Slack posts the command form-encoded and signed."""
    secret = "queue-signing-secret"
    flow = Workflow(default_config(), Store.open(tmp_path / "bot.db"), ManualClock(MONDAY_9), {})
    app = build_app(flow, WebSlack("xoxb-emulator", emu.slack_api_url), signing_secret=secret)
    # No Socket Mode client is connected, so the envelope waits with Slack's payload in it.
    emu.slack.slash_command("U0EMUHUM01", "/complaints", "help", wait_s=0)
    (envelope,) = emu.slack.envelopes()
    body = urlencode(envelope["payload"])
    stamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256)
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": stamp,
        "x-slack-signature": f"v0={digest.hexdigest()}",
    }

    answer = app.dispatch(BoltRequest(body=body, headers=headers))

    assert answer.status == 200 and answer.body == ""
    (reply,) = wait_for(
        lambda: [m for m in emu.slack.messages() if m["ephemeral_to"] == "U0EMUHUM01"]
    )
    assert "`/complaints open`" in reply["text"]
