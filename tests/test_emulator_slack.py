"""The Slack Web API emulator driven by the real slack_sdk WebClient."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from emulators import Emulators
from emulators.admin import AdminError

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
    emu.slack.scopes(add=["users:read"])  # not in the manifest: the bot never reads users
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
    emu.slack.scopes(add=["users:read"])
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
    assert page.status_code == 200 and "/static/slack.js" in page.text
    assert page.headers["Content-Type"].startswith("text/html")


# ------------------------------------------------------------------ pagination


def pages(call: Any, **args: Any) -> list[dict[str, Any]]:
    """Every page of a cursor-paginated call, following next_cursor as a client does."""
    answers, cursor = [], None
    while True:
        answer = call(**args, cursor=cursor)
        answers.append(answer.data)
        cursor = answer["response_metadata"]["next_cursor"]
        assert answer.get("has_more", bool(cursor)) == bool(cursor)  # the two always agree
        if not cursor:
            return answers


def test_history__pages_newest_first_with_slack_cursors(emu: Emulators, slack: WebClient) -> None:
    channel = emu.slack.add_channel("complaints")
    posted = [slack.chat_postMessage(channel=channel, text=f"m{n}")["ts"] for n in range(250)]
    first = slack.conversations_history(channel=channel)  # no limit: Slack's default, 100
    assert len(first["messages"]) == 100 and first["has_more"] is True
    cursor = first["response_metadata"]["next_cursor"]
    assert base64.b64decode(cursor).decode() == f"next_ts:{posted[149]}"  # Slack's own shape
    walked = pages(slack.conversations_history, channel=channel, limit=120)
    assert [len(p["messages"]) for p in walked] == [120, 120, 10]
    seen = [m["ts"] for p in walked for m in p["messages"]]
    assert seen == list(reversed(posted))
    assert walked[-1]["has_more"] is False and walked[-1]["response_metadata"]["next_cursor"] == ""
    # oldest bounds every page; the last page inside the range says there is no more.
    ranged = pages(slack.conversations_history, channel=channel, limit=30, oldest=posted[199])
    assert [m["ts"] for p in ranged for m in p["messages"]] == list(reversed(posted[200:]))
    with pytest.raises(SlackApiError) as refused:
        slack.conversations_history(channel=channel, cursor="not-a-cursor")
    assert refused.value.response["error"] == "invalid_cursor"


def test_page_sizes__slack_defaults_and_maximums() -> None:
    from emulators.slack_paging import PAGE_LIMITS, page_size

    history = PAGE_LIMITS["conversations.history"]
    assert [page_size({"limit": n}, history) for n in (None, 0, 15, 999, 5000)] == [
        100,
        100,
        15,
        999,
        999,
    ]
    assert page_size({}, PAGE_LIMITS["conversations.list"]) == 100
    assert page_size({"limit": 1000}, PAGE_LIMITS["conversations.list"]) == 1000


def test_page_limits__the_non_marketplace_cohort_gets_15(emu: Emulators, slack: WebClient) -> None:
    channel = emu.slack.add_channel("complaints")
    for n in range(20):
        slack.chat_postMessage(channel=channel, text=f"m{n}")
    emu.slack.page_limits({"conversations.history": 15})
    assert len(slack.conversations_history(channel=channel)["messages"]) == 15
    assert len(slack.conversations_history(channel=channel, limit=200)["messages"]) == 15


def test_replies__the_thread_in_pages(emu: Emulators, slack: WebClient) -> None:
    card = slack.chat_postMessage(channel="general", text="card")["ts"]
    notes = [
        slack.chat_postMessage(channel="general", text=f"n{n}", thread_ts=card)["ts"]
        for n in range(12)
    ]
    walked = pages(slack.conversations_replies, channel="general", ts=card, limit=5)
    assert [m["ts"] for p in walked for m in p["messages"]] == [card, *notes]  # oldest first
    assert [len(p["messages"]) for p in walked] == [5, 5, 3]
    later = slack.conversations_replies(channel="general", ts=card, oldest=notes[9])
    assert [m["ts"] for m in later["messages"]] == [card, *notes[10:]]


def test_list__pages_by_channel_and_drops_archived_after_paging(
    emu: Emulators, slack: WebClient
) -> None:
    names = [f"team-{n}" for n in range(5)]
    ids = [emu.slack.add_channel(name) for name in names]
    emu.slack.archive_channel("#team-1")
    emu.slack.page_limits({"conversations.list": 2})
    walked = pages(slack.conversations_list, exclude_archived=True, limit=1000)
    # general, team-0 | team-1 (archived, dropped: the page comes back short) , team-2 | ...
    assert [[c["name"] for c in p["channels"]] for p in walked] == [
        ["general", "team-0"],
        ["team-2"],
        ["team-3", "team-4"],
    ]
    assert (
        base64.b64decode(walked[0]["response_metadata"]["next_cursor"]) == f"team:{ids[1]}".encode()
    )
    everything = pages(slack.conversations_list, limit=2)
    assert [c["is_archived"] for p in everything for c in p["channels"]].count(True) == 1


# ------------------------------------------------------- refusals from the setup


def test_archived_channel__refuses_posts_and_edits_keeps_history(
    emu: Emulators, slack: WebClient
) -> None:
    channel = emu.slack.add_channel("complaints")
    card = slack.chat_postMessage(channel=channel, text="card")["ts"]
    assert emu.slack.archive_channel("#complaints")["is_archived"] is True
    for call in (
        lambda: slack.chat_postMessage(channel="#complaints", text="x"),
        lambda: slack.chat_update(channel=channel, ts=card, text="x"),
        lambda: slack.chat_delete(channel=channel, ts=card),
    ):
        with pytest.raises(SlackApiError) as refused:
            call()
        assert refused.value.response.data == {"ok": False, "error": "is_archived"}
    assert [m["ts"] for m in slack.conversations_history(channel=channel)["messages"]] == [card]
    assert slack.conversations_info(channel=channel)["channel"]["is_archived"] is True
    emu.slack.archive_channel(channel, archived=False)
    assert slack.chat_postMessage(channel="#complaints", text="back")["ok"]


def test_app_removed_from_a_channel__not_in_channel_until_invited(
    emu: Emulators, slack: WebClient
) -> None:
    channel = emu.slack.add_channel("complaints")
    card = slack.chat_postMessage(channel=channel, text="card")["ts"]
    assert emu.slack.remove_bot("#complaints")["bot_is_member"] is False
    for call in (
        lambda: slack.chat_postMessage(channel=channel, text="x"),
        lambda: slack.chat_update(channel=channel, ts=card, text="x"),
        lambda: slack.conversations_history(channel=channel),
        lambda: slack.conversations_replies(channel=channel, ts=card),
    ):
        with pytest.raises(SlackApiError) as refused:
            call()
        assert refused.value.response["error"] == "not_in_channel"
    assert slack.conversations_info(channel=channel)["channel"]["is_member"] is False
    emu.slack.remove_bot(channel, member=True)
    assert slack.chat_postMessage(channel=channel, text="back")["ok"]


def test_renamed_channel__old_name_unknown_id_works(emu: Emulators, slack: WebClient) -> None:
    channel = emu.slack.add_channel("complaints")
    renamed = emu.slack.rename_channel("#complaints", "complaints-old")
    assert renamed == {
        "id": channel,
        "name": "complaints-old",
        "is_im": False,
        "is_archived": False,
        "bot_is_member": True,
        "previous_names": ["complaints"],
    }
    with pytest.raises(SlackApiError) as refused:
        slack.chat_postMessage(channel="#complaints", text="x")
    assert refused.value.response["error"] == "channel_not_found"
    assert slack.chat_postMessage(channel=channel, text="by id")["channel"] == channel
    listed = {c["id"]: c for c in slack.conversations_list()["channels"]}
    assert listed[channel]["name"] == "complaints-old"
    assert listed[channel]["previous_names"] == ["complaints"]
    with pytest.raises(AdminError, match="name_taken"):
        emu.slack.rename_channel(channel, "general")


@pytest.mark.parametrize("error", ["token_revoked", "invalid_auth", "account_inactive"])
def test_token_revoked_mid_run__every_call_refused(
    emu: Emulators, slack: WebClient, error: str
) -> None:
    assert slack.auth_test()["ok"]
    emu.slack.revoke_token("xoxb-emulator", error)
    for call in (slack.auth_test, lambda: slack.chat_postMessage(channel="general", text="x")):
        with pytest.raises(SlackApiError) as refused:
            call()
        assert refused.value.response.data == {"ok": False, "error": error}
    other = WebClient(token="xoxb-reinstalled", base_url=emu.slack_api_url)
    assert other.chat_postMessage(channel="general", text="new token")["ok"]
    emu.slack.restore_token("xoxb-emulator")
    assert slack.auth_test()["ok"]


def test_scope_removed__missing_scope_names_what_is_needed(
    emu: Emulators, slack: WebClient
) -> None:
    scopes = emu.slack.scopes(remove=["chat:write", "groups:read"])
    assert "chat:write" not in scopes and "channels:history" in scopes
    with pytest.raises(SlackApiError) as refused:
        slack.chat_postMessage(channel="general", text="x")
    assert refused.value.response.data == {
        "ok": False,
        "error": "missing_scope",
        "needed": "chat:write",
        "provided": ",".join(scopes),
    }
    with pytest.raises(SlackApiError) as listing:
        slack.conversations_list(types="public_channel,private_channel")
    assert listing.value.response["needed"] == "groups:read"
    assert slack.conversations_list()["ok"]  # public channels only: channels:read suffices
    emu.slack.scopes(add=["chat:write"])  # the app reinstalled with it: same token
    assert slack.chat_postMessage(channel="general", text="x")["ok"]


def test_setup_refusals_match_the_description(emu: Emulators, shared_dir: Path) -> None:
    from openapi_schema_validator import OAS30Validator

    spec = json.loads((shared_dir / "reference" / "slack-web-openapi-v2.json").read_text())
    slack = WebClient(token="xoxb-emulator", base_url=emu.slack_api_url)
    channel = emu.slack.add_channel("complaints")
    answers: list[tuple[str, dict[str, Any]]] = []

    def refused(method: str, call: Any) -> None:
        with pytest.raises(SlackApiError) as raised:
            call()
        answers.append((method, raised.value.response.data))

    emu.slack.archive_channel(channel)
    refused("chat.postMessage", lambda: slack.chat_postMessage(channel=channel, text="x"))
    emu.slack.archive_channel(channel, archived=False)
    emu.slack.remove_bot(channel)
    refused("chat.postMessage", lambda: slack.chat_postMessage(channel=channel, text="x"))
    emu.slack.scopes(remove=["channels:history", "channels:read"])
    refused("conversations.history", lambda: slack.conversations_history(channel=channel))
    refused("conversations.list", slack.conversations_list)
    emu.slack.revoke_token("xoxb-emulator", "invalid_auth")
    refused("conversations.history", lambda: slack.conversations_history(channel=channel))
    for method, body in answers:
        (operation,) = spec["paths"][f"/{method}"].values()
        schema = {"definitions": spec["definitions"], **operation["responses"]["default"]["schema"]}
        OAS30Validator(schema).validate(body)
    assert [body["error"] for _, body in answers] == [
        "is_archived",
        "not_in_channel",
        "missing_scope",
        "missing_scope",
        "invalid_auth",
    ]


HOME: dict[str, Any] = {"type": "home", "blocks": CARD}


def slack_error(call: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as raised:
        call()
    response: dict[str, Any] = raised.value.response.data
    return response


def test_views_publish__one_home_view_per_user_replaced_in_place(
    emu: Emulators, slack: WebClient
) -> None:
    human = "U0EMUHUM01"
    assert emu.slack.home_view(human) is None
    first = slack.views_publish(user_id=human, view=HOME)["view"]
    assert first["type"] == "home" and first["id"].startswith("V") and first["hash"]
    assert first["blocks"][1]["block_id"] == "case-1"

    again = slack.views_publish(user_id=human, view=HOME, hash=first["hash"])["view"]
    assert again["id"] == first["id"]
    assert emu.slack.home_view(human) == again
    # Someone published in between: the hash the caller had is stale.
    stale = slack_error(lambda: slack.views_publish(user_id=human, view=HOME, hash=first["hash"]))
    assert stale["error"] == "hash_conflict"
    assert [v["type"] for v in emu.slack.views()] == ["home"]


def test_views_publish__refuses_what_slack_refuses(emu: Emulators, slack: WebClient) -> None:
    human = "U0EMUHUM01"
    modal = {**HOME, "type": "modal", "title": {"type": "plain_text", "text": "Case"}}
    too_many = {"type": "home", "blocks": [CARD[0]] * 101}
    for call, error in [
        (lambda: slack.views_publish(user_id="U0NOBODY1", view=HOME), "user_not_found"),
        (lambda: slack.views_publish(user_id=human, view=modal), "invalid_arguments"),
        (lambda: slack.views_publish(user_id=human, view=too_many), "invalid_arguments"),
        (lambda: slack.api_call("views.publish", json={"view": HOME}), "invalid_arguments"),
    ]:
        assert slack_error(call)["error"] == error
    # views.open takes modals only.
    trigger = emu.slack.slash_command(human, "/complaints", wait_s=0)["trigger_id"]
    refused = slack_error(lambda: slack.views_open(trigger_id=trigger, view=HOME))
    assert refused["error"] == "invalid_arguments"
    assert emu.slack.home_view(human) is None
    with pytest.raises(AdminError) as raised:
        emu.slack.home_view("U0NOBODY1")
    assert raised.value.status == 404
