"""The emulated Slack page in a real Chromium, as a person uses it: the real bot's card
approved with a click and its reply on the emulated X, the digest's chart drawn, emoji,
mrkdwn and select menus as Slack shows them, and the app's Home tab.

The bot runs as ``run`` builds it (tests/erasure_scenario.py ``make_daemon``, with the
keyword classifier); the selects and the Home tab are checked against a small Bolt app so
that what the page sends is read back as Bolt receives it. Screenshots are kept as artefacts
(tests/browser.py says where)."""

from __future__ import annotations

import json
import re
import struct
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from browser import CHROMIUM_SKIP, Screenshot, chromium_path
from digest_scenario import build_weeks
from erasure_scenario import APPROVER, erasure_config, make_daemon
from factories import Desk, la
from playwright.sync_api import expect
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from test_slack_loop import wait_for

from bot.app.daemon import Daemon
from bot.app.slack.web import WebSlack
from bot.cases import CaseBook
from bot.digest.slack import post_weekly_digest
from bot.store import Store
from emulators import Emulators

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

if chromium_path() is None:  # one line for the whole module, not one per test
    pytest.skip(CHROMIUM_SKIP, allow_module_level=True)


def started_daemon(emu: Emulators, tmp_path: Path) -> Daemon:
    """The real daemon on the emulators, its outbox run every second."""
    base = erasure_config(emu, tmp_path)
    config = replace(base, daemon=replace(base.daemon, outbox_interval_seconds=1))
    daemon, _ = make_daemon(emu, tmp_path, config)
    daemon.start()
    return daemon


def card_for(emu: Emulators, words: str) -> dict[str, Any]:
    """The case card whose text has ``words``, once the bot has posted it."""

    def posted() -> dict[str, Any] | None:
        for message in emu.slack.messages():
            if words in json.dumps(message.get("blocks") or []):
                return message
        return None

    found: dict[str, Any] = wait_for(posted, timeout=20)
    return found


def open_channel(page: Any, emu: Emulators, channel: str, user: str = APPROVER) -> None:
    page.goto(f"{emu.slack_url}/?as={user}")
    page.locator(f'nav a[data-channel="{channel}"]').click()
    expect(page.locator("#title")).to_have_text(f"# {channel}")


def open_modal_with(page: Any, control: Any) -> None:
    """Click what opens a modal, and again, as a person would, if the app did not answer
    within Slack's 3 seconds (a busy machine): the trigger it got has expired by then."""
    status = page.locator("#status")
    for _ in range(3):
        page.evaluate("document.getElementById('status').textContent = ''")
        control.click()
        expect(status).not_to_have_text("")
        if status.inner_text().startswith("The app acknowledged"):
            break
    expect(page.locator("#modal")).to_be_visible()


def test_approve_reply_clicked_on_the_page_posts_the_reply_on_x(
    emu: Emulators, tmp_path: Path, page: Any, screenshot: Screenshot
) -> None:
    post_id = emu.x.add_post("@acme my order is two weeks late", "jane")
    daemon = started_daemon(emu, tmp_path)
    try:
        card = card_for(emu, "two weeks late")
        open_channel(page, emu, "complaints")
        on_page = page.locator(f'.msg[data-ts="{card["ts"]}"]')
        expect(on_page).to_contain_text("two weeks late")
        approve = on_page.get_by_role("button", name="Approve reply")
        expect(approve).to_have_class(re.compile("primary"))
        screenshot(page, "card")
        assert [p for p in emu.x.posts() if p.get("in_reply_to") == post_id] == []

        approve.click()

        replies = wait_for(
            lambda: [p for p in emu.x.posts() if p.get("in_reply_to") == post_id], timeout=20
        )
        assert len(replies) == 1 and "Drafted by our assistant" in replies[0]["text"]
        expect(on_page).to_contain_text("Reply posted", timeout=20_000)
        expect(on_page.get_by_role("button", name="Approve reply")).to_have_count(0)
        expect(on_page.locator(".mention", has_text="@pat")).to_have_count(1)  # Approved by
        screenshot(page, "approved")
    finally:
        daemon.stop()


def test_a_flagged_card_shows_its_emoji_and_the_assign_menu_assigns_the_case(
    emu: Emulators, tmp_path: Path, page: Any, screenshot: Screenshot
) -> None:
    emu.x.add_post("@acme the order arrived and the charger caught fire", "ola")
    daemon = started_daemon(emu, tmp_path)
    try:
        card = card_for(emu, "caught fire")
        assert ":rotating_light:" in json.dumps(card["blocks"])
        open_channel(page, emu, "complaints")
        on_page = page.locator(f'.msg[data-ts="{card["ts"]}"]')
        siren = on_page.locator('.emoji[title=":rotating_light:"]').first
        expect(siren).to_have_text("🚨")
        assert ":rotating_light:" not in on_page.inner_text()
        assign = on_page.locator('select[data-action-id="assign"]')
        expect(assign).to_have_attribute("data-type", "users_select")
        expect(assign.locator("option:checked")).to_have_text("Assign to…")
        assert "pat" in assign.locator("option").all_inner_texts()

        assign.select_option(APPROVER)

        case_id = daemon.store.db.execute("SELECT id FROM cases").fetchone()[0]
        wait_for(lambda: daemon.workflow.book.get(case_id).assignee == APPROVER, timeout=10)
        expect(on_page).to_contain_text("Assigned to @pat", timeout=20_000)
        expect(on_page.locator('select[data-action-id="assign"]')).to_have_value(APPROVER)
        screenshot(page, "assigned")
    finally:
        daemon.stop()


def test_the_dismiss_modal_opens_on_the_page_and_its_choice_dismisses_the_case(
    emu: Emulators, tmp_path: Path, page: Any, screenshot: Screenshot
) -> None:
    emu.x.add_post("@acme is this order thing a spam test", "sam")
    daemon = started_daemon(emu, tmp_path)
    try:
        card = card_for(emu, "spam test")
        open_channel(page, emu, "complaints")
        on_page = page.locator(f'.msg[data-ts="{card["ts"]}"]')
        open_modal_with(page, on_page.get_by_role("button", name="Dismiss"))

        modal = page.locator("#modal")
        expect(modal.locator("h3")).to_have_text("Dismiss case 1")
        modal.get_by_label("Spam").check()
        screenshot(page, "modal")
        modal.get_by_role("button", name="Dismiss").click()

        expect(modal).to_be_hidden()
        wait_for(lambda: daemon.workflow.book.get(1).status == "dismissed", timeout=10)
        expect(on_page).to_contain_text("Case dismissed", timeout=20_000)
    finally:
        daemon.stop()


def test_the_bots_home_tab_lists_the_case_and_shows_its_card_in_a_modal(
    emu: Emulators, tmp_path: Path, page: Any, screenshot: Screenshot
) -> None:
    emu.x.add_post("@acme my order is lost somewhere", "kim")
    daemon = started_daemon(emu, tmp_path)
    try:
        card = card_for(emu, "lost somewhere")
        page.goto(f"{emu.slack_url}/?as={APPROVER}&tab=home")
        home = page.locator("#home")
        show = home.get_by_role("button", name="Show case")
        expect(show).to_have_count(1, timeout=20_000)
        expect(home).to_contain_text("Case 1")
        screenshot(page, "home")

        open_modal_with(page, show)

        modal = page.locator("#modal")
        expect(modal).to_contain_text("lost somewhere")
        screenshot(page, "case-modal")
        modal.get_by_role("button", name="Close").click()
        expect(modal).to_be_hidden()

        home.get_by_role("link", name="P3 · Case 1").click()  # the card's permalink

        expect(page.locator("#title")).to_have_text("# complaints")
        expect(page.locator(f'.msg.highlight[data-ts="{card["ts"]}"]')).to_be_visible()
    finally:
        daemon.stop()


@pytest.fixture
def digest_desk(tmp_path: Path) -> Iterator[Desk]:
    """Three weeks of cases in a store file (the digest tests' scenario)."""
    desk = Desk(la(2026, 11, 9, 14))
    desk.store = Store.open(tmp_path / "bot.db")
    desk.book = CaseBook(desk.store, desk.config.policy, desk.clock)
    build_weeks(desk)
    yield desk
    desk.store.close()


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_digest_channel_shows_the_chart_image(
    emu: Emulators, digest_desk: Desk, page: Any, screenshot: Screenshot
) -> None:
    emu.slack.add_channel("complaints-digest")
    slack = WebSlack("xoxb-emulator", emu.slack_api_url)
    digest_desk.clock.set(la(2026, 11, 23, 9))
    assert post_weekly_digest(digest_desk.store, digest_desk.config, slack, digest_desk.clock)
    [shared] = [f for m in emu.slack.messages() for f in m.get("files") or []]

    open_channel(page, emu, "complaints-digest")
    expect(page.locator(".block.header")).to_contain_text("Complaint digest 2026-W47")
    chart = page.locator(f'.file[data-file-id="{shared["id"]}"] img')
    expect(chart).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=chart.element_handle()
    )
    shown = chart.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    with urllib.request.urlopen(emu.slack_url + chart.get_attribute("src")) as served:
        assert served.headers["Content-Type"] == "image/png"
        assert tuple(shown) == png_size(served.read())
    assert shown[0] > 0
    screenshot(page, "digest")


class RecordingApp:
    """A Bolt app over Socket Mode that records every action and event payload it gets."""

    def __init__(self, emu: Emulators) -> None:
        self.client = WebClient(token="xoxb-emulator", base_url=emu.slack_api_url)
        self.app = App(client=self.client)
        self.actions: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.app.action(re.compile(".*"))(self._on_action)
        self.app.event("app_home_opened")(self._on_home)
        self.home_blocks: list[dict[str, Any]] = []
        self.handler = SocketModeHandler(self.app, app_token="xapp-emulator")

    def _on_action(self, ack: Any, body: dict[str, Any]) -> None:
        ack()
        self.actions.append(body)

    def _on_home(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        if self.home_blocks:
            self.client.views_publish(
                user_id=event["user"], view={"type": "home", "blocks": self.home_blocks}
            )

    def action(self, action_id: str) -> dict[str, Any]:
        """The last payload for ``action_id``, once it has arrived."""

        def arrived() -> dict[str, Any] | None:
            found = [b for b in self.actions if b["actions"][0]["action_id"] == action_id]
            return found[-1] if found else None

        payload: dict[str, Any] = wait_for(arrived, timeout=10)
        return payload


@pytest.fixture
def bolt(emu: Emulators) -> Iterator[RecordingApp]:
    emu.slack.add_user(APPROVER, "pat")
    recording = RecordingApp(emu)
    recording.handler.connect()
    try:
        yield recording
    finally:
        recording.handler.close()


def text(value: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": value, "emoji": True}


def option(label: str, value: str) -> dict[str, Any]:
    return {"text": text(label), "value": value}


def test_mrkdwn_emoji_and_select_menus_render_and_send_block_actions_like_slack(
    emu: Emulators, bolt: RecordingApp, page: Any, screenshot: Screenshot
) -> None:
    team = emu.slack.add_channel("team")
    kinds = [option("Access", "access"), option("Erasure", "erasure")]
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "*Bold* _slanted_ ~gone~ `a_b*c` <https://example.com/x_y|the link> "
                f"<@{APPROVER}> :white_check_mark: :+1::skin-tone-3: :not_an_emoji: a &lt;b&gt;\n"
                "> quoted line",
            },
        },
        {"type": "header", "text": text(":rotating_light: Alert")},
        {
            "type": "actions",
            "block_id": "pickers",
            "elements": [
                {
                    "type": "static_select",
                    "action_id": "kind",
                    "placeholder": text("Kind"),
                    "options": kinds,
                },
                {"type": "users_select", "action_id": "who", "placeholder": text("Person")},
                {
                    "type": "conversations_select",
                    "action_id": "where",
                    "placeholder": text("Channel"),
                },
            ],
        },
    ]
    posted = bolt.client.chat_postMessage(channel=team, text="pickers", blocks=blocks)

    open_channel(page, emu, "team")
    message = page.locator(f'.msg[data-ts="{posted["ts"]}"]')
    section = message.locator(".section-text")
    expect(section.locator("b")).to_have_text("Bold")
    expect(section.locator("i")).to_have_text("slanted")
    expect(section.locator("s")).to_have_text("gone")
    expect(section.locator("code")).to_have_text("a_b*c")
    expect(section.locator("a")).to_have_attribute("href", "https://example.com/x_y")
    expect(section.locator("a")).to_have_text("the link")
    expect(section.locator(".mention")).to_have_text("@pat")
    expect(section.locator("blockquote")).to_have_text("quoted line")
    shown = section.inner_text()
    assert "✅" in shown and "👍🏼" in shown and ":not_an_emoji:" in shown and "a <b>" in shown
    expect(message.locator(".block.header")).to_have_text("🚨 Alert")
    for action_id, element in (
        ("kind", "static_select"),
        ("who", "users_select"),
        ("where", "conversations_select"),
    ):
        expect(message.locator(f'select[data-action-id="{action_id}"]')).to_have_attribute(
            "data-type", element
        )
    screenshot(page, "pickers")

    message.locator('select[data-action-id="kind"]').select_option("erasure")
    message.locator('select[data-action-id="who"]').select_option(label="pat")
    message.locator('select[data-action-id="where"]').select_option(label="#team")

    kind = bolt.action("kind")
    assert kind["type"] == "block_actions" and kind["user"]["id"] == APPROVER
    assert kind["container"] == {
        "type": "message",
        "message_ts": posted["ts"],
        "channel_id": team,
        "is_ephemeral": False,
    }
    assert kind["actions"][0]["block_id"] == "pickers"
    assert kind["actions"][0]["selected_option"] == option("Erasure", "erasure")
    assert bolt.action("who")["actions"][0]["selected_user"] == APPROVER
    assert bolt.action("where")["actions"][0]["selected_conversation"] == team


def test_the_home_tab_sends_app_home_opened_and_shows_the_published_view(
    emu: Emulators, bolt: RecordingApp, page: Any, screenshot: Screenshot
) -> None:
    bolt.home_blocks = [
        {"type": "header", "text": text(":wave: Your queue")},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*3* cases wait for you"}},
        {
            "type": "actions",
            "block_id": "home_actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "refresh",
                    "text": text("Refresh"),
                    "value": "r1",
                },
                {
                    "type": "static_select",
                    "action_id": "filter",
                    "placeholder": text("Filter"),
                    "options": [option("Mine", "mine"), option("All", "all")],
                },
            ],
        },
    ]
    page.goto(f"{emu.slack_url}/?as={APPROVER}")
    page.locator("#home-tab").click()

    home = page.locator("#home")
    expect(home.locator(".block.header")).to_have_text("👋 Your queue")
    expect(home.locator("b")).to_have_text("3")
    [opened] = bolt.events
    assert opened["user"] == APPROVER and opened["tab"] == "home"
    screenshot(page, "home")
    view = emu.slack.home_view(APPROVER)
    assert view is not None

    home.get_by_role("button", name="Refresh").click()
    clicked = bolt.action("refresh")
    assert clicked["container"] == {"type": "view", "view_id": view["id"]}
    assert clicked["view"]["type"] == "home" and clicked["actions"][0]["value"] == "r1"
    home.locator('select[data-action-id="filter"]').select_option("all")
    assert bolt.action("filter")["actions"][0]["selected_option"]["value"] == "all"


def test_the_home_tab_says_so_when_the_emulator_has_no_app_home(
    emu: Emulators, bolt: RecordingApp, page: Any
) -> None:
    page.route("**/_admin/views/home*", lambda route: route.fulfill(status=404, body="404"))
    page.goto(f"{emu.slack_url}/?as={APPROVER}")
    page.locator("#home-tab").click()
    expect(page.locator("#home")).to_have_text("App Home not available")
    assert bolt.events == []


MRKDWN_CASES = [
    ("*bold* and _it_", "<b>bold</b> and <i>it</i>"),
    ("snake_case_name and 2*3*4", "snake_case_name and 2*3*4"),
    (
        "<https://x.example/a_b_c*d*|see *this*>",
        '<a href="https://x.example/a_b_c*d*" target="_blank" rel="noopener">see *this*</a>',
    ),
    ("`*not bold* :fire:`", "<code>*not bold* :fire:</code>"),
    ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ("a &lt;b&gt; &amp; c", "a &lt;b&gt; &amp; c"),
    ("&gt; not a quote\n> a quote", "&gt; not a quote<br><blockquote>a quote</blockquote>"),
    (
        "<!here> <#C0EMU00001|general>",
        '<span class="mention">@here</span> <span class="mention">#general</span>',
    ),
    (":wave::skin-tone-2: :nope:", '<span class="emoji" title=":wave:">👋🏻</span> :nope:'),
]


@pytest.mark.parametrize(("source", "html"), MRKDWN_CASES)
def test_mrkdwn_formats_like_slack_and_escapes_everything_else(
    emu: Emulators, page: Any, source: str, html: str
) -> None:
    page.goto(emu.slack_url + "/")
    assert page.evaluate("text => Blocks.mrkdwn(text, {})", source) == html
