"""Posting the digest to Slack from the cron job: once per week, chart attached, across restarts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from digest_scenario import PERSONAL, build_weeks
from factories import Desk, la

from bot.cases import CaseBook
from bot.digest.slack import digest_blocks, next_digest_at, post_weekly_digest
from bot.digest.store import posted_record
from bot.slack.port import Blocks, PostedMessage, SlackError
from bot.store import Store
from emulators import Emulators

PNG = b"\x89PNG\r\n\x1a\n"


class FakeSlack:
    """Records what would reach Slack; answers with a channel id as Slack does."""

    def __init__(self, fail_uploads: int = 0, history_error: SlackError | None = None) -> None:
        self.messages: list[dict[str, Any]] = []
        self.files: list[dict[str, Any]] = []
        self.fail_uploads = fail_uploads
        self.history_error = history_error
        self.looked = 0

    def find_message(
        self, channel: str, block_id: str, oldest: float, thread_ts: str | None = None
    ) -> PostedMessage | None:
        self.looked += 1
        if self.history_error is not None:
            raise self.history_error
        for n, message in enumerate(self.messages, start=1):
            if any(b.get("block_id") == block_id for b in message["blocks"] or []):
                return PostedMessage(channel="C0DIGEST", ts=f"1700000000.{n:06d}")
        return None

    def post_message(
        self, channel: str, text: str, blocks: Blocks | None = None, thread_ts: str | None = None
    ) -> PostedMessage:
        self.messages.append({"channel": channel, "text": text, "blocks": blocks})
        return PostedMessage(channel="C0DIGEST", ts=f"1700000000.{len(self.messages):06d}")

    def upload_file(
        self, channel: str, filename: str, content: bytes, title: str, comment: str = ""
    ) -> str:
        if self.fail_uploads:
            self.fail_uploads -= 1
            raise SlackError("Slack answered ratelimited", code="ratelimited", transient=True)
        self.files.append({"channel": channel, "filename": filename, "content": content})
        return f"F{len(self.files)}"

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the digest should not call {name}")


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    """The scenario in a store file, so a restart can reopen it."""
    desk = Desk(la(2026, 11, 9, 14))
    desk.store = Store.open(tmp_path / "bot.db")
    desk.book = CaseBook(desk.store, desk.config.policy, desk.clock)
    build_weeks(desk)
    return desk


def test_the_cron_posts_last_week_once_with_the_chart_and_not_again_after_a_restart(
    desk: Desk, tmp_path: Path
) -> None:
    slack = FakeSlack()
    fire = next_digest_at(desk.config, la(2026, 11, 23, 9, 30))
    assert fire == la(2026, 11, 30, 9)  # Monday 09:00 in Los Angeles, as configured
    desk.clock.set(la(2026, 11, 23, 8, 59))  # the week is over, but it is not 09:00 yet
    assert post_weekly_digest(desk.store, desk.config, slack, desk.clock) is False
    assert slack.messages == []
    desk.clock.set(next_digest_at(desk.config, la(2026, 11, 22, 12)))
    assert desk.clock.now() == la(2026, 11, 23, 9)
    assert post_weekly_digest(desk.store, desk.config, slack, desk.clock) is True
    assert len(slack.messages) == 1 and len(slack.files) == 1
    message, upload = slack.messages[0], slack.files[0]
    assert message["channel"] == "#complaints-digest"
    assert message["text"].startswith("Complaint digest 2026-W47: 6 complaints")
    assert upload["channel"] == "C0DIGEST"  # files_upload_v2 needs the id Slack gave back
    assert upload["filename"] == "complaint-digest-2026-W47.png"
    assert upload["content"].startswith(PNG)
    record = posted_record(desk.store, "2026-W47")
    assert record is not None and record["status"] == "posted" and record["file_id"] == "F1"

    desk.store.close()  # the daemon restarts at 09:05 and the job fires again
    restarted = Store.open(tmp_path / "bot.db")
    desk.clock.set(la(2026, 11, 23, 9, 5))
    assert post_weekly_digest(restarted, desk.config, slack, desk.clock) is False
    assert len(slack.messages) == 1 and len(slack.files) == 1

    desk.clock.set(la(2026, 12, 1, 15))  # down all Monday: at start on Tuesday it catches up
    assert post_weekly_digest(restarted, desk.config, slack, desk.clock) is True
    assert slack.messages[1]["text"].startswith("Complaint digest 2026-W48")


def test_a_failed_upload_is_retried_without_posting_the_message_again(desk: Desk) -> None:
    slack = FakeSlack(fail_uploads=1)
    desk.clock.set(la(2026, 11, 23, 9))
    with pytest.raises(SlackError):
        post_weekly_digest(desk.store, desk.config, slack, desk.clock)
    record = posted_record(desk.store, "2026-W47")
    assert record is not None and record["status"] == "failed" and record["message_ts"]
    assert "ratelimited" in record["last_error"]
    desk.clock.set(la(2026, 11, 23, 9, 10))
    assert post_weekly_digest(desk.store, desk.config, slack, desk.clock) is True
    assert len(slack.messages) == 1 and len(slack.files) == 1
    assert posted_record(desk.store, "2026-W47")["attempts"] == 2  # type: ignore[index]


def test_an_attempt_that_died_mid_call_is_looked_for_before_it_is_sent_again(
    desk: Desk,
) -> None:
    """A crash between claiming and Slack's answer leaves the week 'posting'. Ten minutes on,
    the channel is read: a message Slack took is kept (the chart follows), one it never got
    is sent."""
    claimed = {"status": "posting", "claimed_at": "2026-11-23T17:00:00.000000Z"}
    desk.store.db.table("digests").insert({"week": "2026-W47", **claimed})
    slack = FakeSlack()
    desk.clock.set(la(2026, 11, 23, 9, 5))
    assert post_weekly_digest(desk.store, desk.config, slack, desk.clock) is False
    assert slack.looked == 0  # five minutes: it may still be in flight
    desk.clock.set(la(2026, 11, 23, 9, 30))
    assert post_weekly_digest(desk.store, desk.config, slack, desk.clock) is True
    assert slack.looked == 1 and len(slack.messages) == 1 and len(slack.files) == 1
    assert posted_record(desk.store, "2026-W47")["status"] == "posted"  # type: ignore[index]


def test_a_post_that_timed_out_after_sending_is_found_not_sent_again(desk: Desk) -> None:
    """Slack may have a message whose answer never came; a second one would be a duplicate."""

    class TimingOut(FakeSlack):
        def post_message(self, *args: Any, **kwargs: Any) -> PostedMessage:
            super().post_message(*args, **kwargs)
            raise SlackError("Slack unreachable: TimeoutError", transient=True, maybe_done=True)

    slack = TimingOut()
    desk.clock.set(la(2026, 11, 23, 9))
    with pytest.raises(SlackError):
        post_weekly_digest(desk.store, desk.config, slack, desk.clock)
    record = posted_record(desk.store, "2026-W47")
    assert record is not None and record["status"] == "posting"
    assert "may have posted it" in record["last_error"]
    desk.clock.set(la(2026, 11, 23, 9, 5))
    assert post_weekly_digest(desk.store, desk.config, slack, desk.clock) is False
    desk.clock.set(la(2026, 11, 23, 9, 20))
    assert post_weekly_digest(desk.store, desk.config, slack, desk.clock) is True
    assert len(slack.messages) == 1 and len(slack.files) == 1
    record = posted_record(desk.store, "2026-W47")
    assert record is not None and record["status"] == "posted"
    assert record["message_ts"] == "1700000000.000001"


def test_a_stuck_week_whose_channel_cannot_be_read_is_left_alone_and_warned_about(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    claimed = {"status": "posting", "claimed_at": "2026-11-23T17:00:00.000000Z"}
    desk.store.db.table("digests").insert({"week": "2026-W47", **claimed})
    slack = FakeSlack(history_error=SlackError("Slack answered missing_scope", transient=False))
    desk.clock.set(la(2026, 11, 23, 9, 30))
    assert post_weekly_digest(desk.store, desk.config, slack, desk.clock) is False
    assert slack.messages == []
    [warning] = [r for r in caplog.records if r.name == "bot.digest.slack"]
    assert "DELETE FROM digests WHERE week = '2026-W47'" in warning.getMessage()
    assert "missing_scope" in warning.getMessage() and "#complaints-digest" in warning.getMessage()


def test_slack_summary_has_arrows_breaches_themes_and_no_personal_data(desk: Desk) -> None:
    from bot.digest.build import build_digest
    from bot.digest.weeks import Week

    desk.clock.set(la(2026, 11, 23, 10))
    digest = build_digest(
        desk.store,
        desk.config,
        Week.parse("2026-W47", desk.config.digest.timezone),
        desk.clock.now(),
    )
    blocks = digest_blocks(digest)
    assert blocks[0] == {
        "type": "header",
        "block_id": "digest:2026-W47",  # how a post whose answer was lost is found again
        "text": {"type": "plain_text", "text": "Complaint digest 2026-W47"},
    }
    fields = {f["text"].split("\n")[0]: f["text"] for f in blocks[2]["fields"]}
    assert fields["*Complaints*"] == "*Complaints*\n6  ↑ 500%"  # 1 in W46
    assert fields["*SLA compliance*"] == "*SLA compliance*\n67%  ↓ 33 pts"  # 100 % in W46
    assert len(blocks[2]["fields"]) <= 10
    text = json.dumps(blocks, ensure_ascii=False)
    assert "case 1 · P3 shipping delivery · resolution 140.0 h late (still open)" in text
    assert "Top themes" in text and "[phone]" in text
    for secret in PERSONAL:
        assert secret not in text
    for block in blocks:
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= 3000


def test_on_the_slack_emulator_the_digest_and_its_chart_appear_once(
    emu: Emulators, desk: Desk, tmp_path: Path
) -> None:
    from bot.app.slack.web import WebSlack

    channel = emu.slack.add_channel("complaints-digest")
    slack = WebSlack("xoxb-emulator", emu.slack_api_url)
    desk.clock.set(la(2026, 11, 23, 9))
    assert post_weekly_digest(desk.store, desk.config, slack, desk.clock) is True
    desk.store.close()
    restarted = Store.open(tmp_path / "bot.db")
    desk.clock.set(la(2026, 11, 23, 9, 5))
    assert post_weekly_digest(restarted, desk.config, slack, desk.clock) is False
    messages = [m for m in emu.slack.messages() if m["channel"] == channel]
    assert [m["text"][:26] for m in messages if not m.get("files")] == [
        "Complaint digest 2026-W47:"
    ]
    shared = [file for m in messages for file in m.get("files", [])]
    assert [file["name"] for file in shared] == ["complaint-digest-2026-W47.png"]
