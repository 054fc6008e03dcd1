"""The Slack Web API emulator driven by the real slack_sdk WebClient."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from emulators import Emulators

CARD: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Late parcel* from @ann"}},
    {
        "type": "actions",
        "block_id": "case-1",
        "elements": [
            {
                "type": "button",
                "action_id": "approve",
                "text": {"type": "plain_text", "text": "Approve"},
                "value": "case-1",
                "style": "primary",
            }
        ],
    },
]


@pytest.fixture
def slack(emu: Emulators) -> WebClient:
    return WebClient(token="xoxb-emulator", base_url=emu.slack_api_url)


def test_post_update_delete__history_is_kept(emu: Emulators, slack: WebClient) -> None:
    channel = emu.slack.add_channel("complaints")
    posted = slack.chat_postMessage(channel="#complaints", text="New case", blocks=CARD)
    assert posted["channel"] == channel and posted["message"]["blocks"][1]["block_id"] == "case-1"
    assert posted["message"]["blocks"][0]["block_id"]  # Slack fills in missing block ids
    thread = slack.chat_postMessage(channel=channel, text="note", thread_ts=posted["ts"])
    updated = slack.chat_update(channel=channel, ts=posted["ts"], text="Approved", blocks=[])
    assert updated["text"] == "Approved" and updated["ts"] == posted["ts"]
    slack.chat_delete(channel=channel, ts=thread["ts"])

    card, note = emu.slack.messages()
    assert [h["action"] for h in card["history"]] == ["post", "update"]
    assert card["text"] == "Approved" and card["blocks"] == []
    assert note["thread_ts"] == posted["ts"] and note["deleted"] is True
    with pytest.raises(SlackApiError) as raised:
        slack.chat_update(channel=channel, ts=thread["ts"], text="x")
    assert raised.value.response["error"] == "message_not_found"


def test_earlier_versions_are_kept_only_when_the_workspace_keeps_revisions(
    emu: Emulators, slack: WebClient
) -> None:
    channel = emu.slack.add_channel("complaints")
    first = slack.chat_postMessage(channel=channel, text="first words")
    slack.chat_update(channel=channel, ts=first["ts"], text="edited")
    gone = slack.chat_postMessage(channel=channel, text="deleted words")
    slack.chat_delete(channel=channel, ts=gone["ts"])
    held = emu.slack.messages()
    assert [h["text"] for h in held[0]["history"]] == [None, "edited"]
    assert [h["action"] for h in held[1]["history"]] == ["post", "delete"]
    assert "first words" not in str(held) and "deleted words" not in str(held)

    assert emu.slack.retention(keep_revisions=True) == {"keep_revisions": True}
    kept = slack.chat_postMessage(channel=channel, text="kept words")
    slack.chat_update(channel=channel, ts=kept["ts"], text="edited")
    assert [h["text"] for h in emu.slack.messages()[2]["history"]] == ["kept words", "edited"]


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_errors__slack_strings_with_http_200(emu: Emulators, slack: WebClient) -> None:
    cases = [
        (lambda: slack.chat_postMessage(channel="#nowhere", text="x"), "channel_not_found"),
        (lambda: slack.chat_postMessage(channel="general"), "no_text"),
        (lambda: slack.users_info(user="U404"), "user_not_found"),
        (lambda: slack.usergroups_users_list(usergroup="S404"), "no_such_subteam"),
        (
            lambda: slack.views_open(trigger_id="1.2.3", view={"type": "modal"}),
            "invalid_trigger_id",
        ),
        (
            lambda: WebClient(token="nonsense", base_url=emu.slack_api_url).auth_test(),
            "invalid_auth",
        ),
        (lambda: WebClient(base_url=emu.slack_api_url).auth_test(), "not_authed"),
        (
            lambda: slack.apps_connections_open(app_token="xoxb-wrong-kind"),
            "not_allowed_token_type",
        ),
    ]
    for call, error in cases:
        with pytest.raises(SlackApiError) as raised:
            call()
        assert raised.value.response.status_code == 200
        assert raised.value.response.data == {"ok": False, "error": error}


def test_blocks__limits_slack_enforces_on_plain_dicts(slack: WebClient) -> None:
    too_many = [{"type": "divider"}] * 51
    long_text = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    for blocks in (too_many, long_text):
        with pytest.raises(SlackApiError) as raised:
            slack.chat_postMessage(channel="general", text="x", blocks=blocks)
        assert raised.value.response["error"] == "invalid_blocks"


def test_arguments__json_form_and_get_all_work(emu: Emulators) -> None:
    auth = {"Authorization": "Bearer xoxb-emulator"}
    url = emu.slack_api_url + "chat.postMessage"
    as_form = requests.post(url, data={"channel": "general", "text": "form"}, headers=auth)
    as_json = requests.post(url, json={"channel": "general", "text": "json"}, headers=auth)
    as_get = requests.get(url, params={"channel": "general", "text": "get", "token": "xoxb-x"})
    assert [a.json()["ok"] for a in (as_form, as_json, as_get)] == [True, True, True]
    assert [m["text"] for m in emu.slack.messages()] == ["form", "json", "get"]
    unknown = requests.post(emu.slack_api_url + "chat.nope", headers=auth)
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_method"


def test_lookups__users_groups_channels(emu: Emulators, slack: WebClient) -> None:
    emu.slack.add_user("U0APPROVE1", "pat", groups=["approvers"])
    group_id = emu.slack.add_user("U0APPROVE2", "kim", groups=["approvers"])["groups"][0]
    assert slack.usergroups_users_list(usergroup=group_id)["users"] == ["U0APPROVE1", "U0APPROVE2"]
    assert slack.users_info(user="U0APPROVE1")["user"]["name"] == "pat"
    assert slack.conversations_info(channel="#general")["channel"]["name"] == "general"
    assert slack.auth_test()["user_id"] == "U0EMUBOT01"


def test_ephemeral_and_permalink(emu: Emulators, slack: WebClient) -> None:
    posted = slack.chat_postMessage(channel="general", text="card")
    answer = slack.chat_postEphemeral(channel="general", user="U0EMUHUM01", text="only you")
    assert answer["message_ts"] > posted["ts"]
    link = slack.chat_getPermalink(channel="general", message_ts=posted["ts"])["permalink"]
    assert link.endswith(posted["ts"].replace(".", ""))
    assert emu.slack.messages()[1]["ephemeral_to"] == "U0EMUHUM01"


def test_files_upload_v2__three_calls(emu: Emulators, slack: WebClient) -> None:
    posted = slack.chat_postMessage(channel="general", text="digest follows")
    upload = slack.files_upload_v2(
        channel=posted["channel"],
        content="week,cases\n1,12\n",
        filename="digest.csv",
        title="Weekly digest",
        initial_comment="This week",
        thread_ts=posted["ts"],
    )
    assert upload["file"]["title"] == "Weekly digest" and upload["file"]["size"] == 16
    paths = [r["path"] for r in emu.slack.requests()][1:]
    assert paths[0] == "/api/files.getUploadURLExternal"
    assert paths[1].startswith("/upload/v1/")
    assert paths[2] == "/api/files.completeUploadExternal"
    shared = emu.slack.messages()[-1]
    assert shared["text"] == "This week" and shared["files"][0]["name"] == "digest.csv"


def test_faults__as_slack_sdk_sees_them(emu: Emulators, slack: WebClient) -> None:
    path = "/api/auth.test"
    emu.slack.fault(path, status=429, retry_after_s=7)
    with pytest.raises(SlackApiError) as limited:
        slack.auth_test()
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "7"
    assert limited.value.response["error"] == "ratelimited"

    emu.slack.fault(path, status=503)
    with pytest.raises(SlackApiError) as unavailable:
        slack.auth_test()
    assert unavailable.value.response.status_code == 503

    emu.slack.fault(path, malformed=True)
    with pytest.raises(ValueError):
        slack.auth_test()

    emu.slack.fault(path, drop_connection=True)
    assert slack.auth_test()["ok"]  # slack_sdk retries a dropped connection once by default
    assert [r["status"] for r in emu.slack.requests()] == [429, 503, 200, None, 200]

    slow = WebClient(token="xoxb-emulator", base_url=emu.slack_api_url, timeout=0.2)  # type: ignore[arg-type]
    emu.slack.fault(path, delay_s=0.6)
    with pytest.raises(TimeoutError):
        slow.auth_test()


def test_page__shows_the_workspace(emu: Emulators) -> None:
    page = requests.get(emu.slack_url + "/")
    assert page.status_code == 200 and "/_admin/actions" in page.text
    assert page.headers["Content-Type"].startswith("text/html")
