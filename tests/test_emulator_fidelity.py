"""The emulators' answers checked against the official API descriptions in ../shared/reference.

Where a description and what the real client libraries (and the live API) use
disagree, the client wins; each such patch below says why.
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from jsonschema import Draft4Validator
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator
from slack_sdk import WebClient
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from emulators import Emulators

X_HOST = "https://api.x.com"
X_SPEC = Path(__file__).resolve().parents[2] / "shared" / "reference" / "x-api-v2-openapi.json"
BEARER = {"Authorization": "Bearer AAAAAAAAAAAAAAAAAAAAAEmulatorAppToken"}
SLACK_AUTH = {"Authorization": "Bearer xoxb-emulator"}


def oauth1_header() -> dict[str, str]:
    """A well-formed OAuth 1.0a header for the emulator's account (it checks form, not HMAC)."""
    params = {
        "oauth_consumer_key": "ck",
        "oauth_nonce": "n0nce",
        "oauth_signature": "c2lnbmF0dXJl",
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_timestamp": str(int(time.time())),
        "oauth_token": "1700000000000000001-token",
        "oauth_version": "1.0",
    }
    return {"Authorization": "OAuth " + ", ".join(f'{k}="{v}"' for k, v in params.items())}


def rename_required(schema: dict[str, Any], renames: dict[str, str]) -> None:
    schema["required"] = [renames.get(name, name) for name in schema.get("required", [])]
    for old, new in renames.items():
        if old in schema.get("properties", {}):
            schema["properties"][new] = schema["properties"][old]


@pytest.fixture(scope="module")
def x_api() -> OpenAPI:
    path = (
        Path(__file__).resolve().parents[1].parent
        / "shared"
        / "reference"
        / "x-api-v2-openapi.json"
    )
    if not path.exists():
        pytest.skip(f"no X API description at {path}")
    spec = json.loads(path.read_text())
    schemas = spec["components"]["schemas"]
    # The xdk description renames tweets to posts; the live API and tweepy still use
    # tweet_count / retweet_count (tweepy's Tweet and User read these names).
    rename_required(schemas["UserPublicMetrics"], {"post_count": "tweet_count"})
    rename_required(schemas["PostPublicMetrics"], {"repost_count": "retweet_count"})
    # The published file repeats an enum value, which openapi-spec-validator rejects as a
    # document; the response schemas themselves are sound, so only that check is skipped.
    # openapi-core only knows plain JSON; problem+json bodies are JSON too.
    config = Config(
        spec_validator_cls=None,
        extra_media_type_deserializers={"application/problem+json": json.loads},
    )
    return OpenAPI.from_dict(spec, config=config)


def x_check(
    api: OpenAPI, emu: Emulators, method: str, path: str, **kwargs: Any
) -> requests.Response:
    """Call the emulator, then validate request and answer against the description."""
    answer = requests.request(method, emu.x_url + path, **kwargs)
    request = MockRequest(
        X_HOST,
        method.lower(),
        path,
        args=kwargs.get("params"),
        headers=kwargs.get("headers"),
        data=json.dumps(kwargs["json"]).encode() if "json" in kwargs else None,
    )
    response = MockResponse(
        answer.content,
        status_code=answer.status_code,
        headers=dict(answer.headers),
        content_type=answer.headers["Content-Type"].split(";")[0],
    )
    api.validate_response(request, response)
    return answer


def test_x__search_post_me_and_mentions_match_the_description(
    x_api: OpenAPI, emu: Emulators
) -> None:
    original = emu.x.add_post("@acme my order is late", "ann", author_followers=12)
    emu.x.add_post("@acme quoting", "bob", quote_of=original)
    fields = {
        "tweet.fields": "created_at,author_id,public_metrics,referenced_tweets,entities,lang",
        "expansions": "author_id,referenced_tweets.id",
        "user.fields": "public_metrics,created_at,verified",
        "max_results": "10",
    }
    search = x_check(
        x_api,
        emu,
        "GET",
        "/2/tweets/search/recent",
        params={"query": "@acme", **fields},
        headers=BEARER,
    )
    assert len(search.json()["data"]) == 2
    empty = x_check(
        x_api, emu, "GET", "/2/tweets/search/recent", params={"query": "nothing"}, headers=BEARER
    )
    assert empty.json() == {"meta": {"result_count": 0}}
    me = x_check(
        x_api,
        emu,
        "GET",
        "/2/users/me",
        params={"user.fields": "public_metrics"},
        headers=oauth1_header(),
    )
    user_id = me.json()["data"]["id"]
    x_check(x_api, emu, "GET", f"/2/users/{user_id}/mentions", params=fields, headers=BEARER)
    reply = {"text": "Sorry!", "reply": {"in_reply_to_tweet_id": original}}
    created = x_check(x_api, emu, "POST", "/2/tweets", json=reply, headers=oauth1_header())
    assert created.status_code == 201


def test_x__error_answers(x_api: OpenAPI, emu: Emulators) -> None:
    stranger = emu.x.add_post("no mention here", "ann")
    old = emu.x.add_post("a week ago", "ann", created_at=time.time() - 8 * 86400)
    for params in ({"query": "x", "max_results": "5"}, {"query": "x", "since_id": old}):
        invalid = x_check(
            x_api, emu, "GET", "/2/tweets/search/recent", params=params, headers=BEARER
        )
        assert invalid.status_code == 400 and invalid.json()["type"].endswith("/invalid-request")
    # X answers plain HTTP errors (401, 429, 5xx) with RFC 7807 "about:blank" problems,
    # which the description's Problem union does not list; tweepy reads their "detail".
    # They are checked against RFC 7807's members instead.
    problems = [requests.get(emu.x_url + "/2/users/me")]
    emu.x.fault("/2/tweets/search/recent", status=429)
    problems.append(
        requests.get(emu.x_url + "/2/tweets/search/recent", params={"query": "x"}, headers=BEARER)
    )
    rfc7807 = {
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"const": "about:blank"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
        },
    }
    for answer in problems:
        Draft4Validator(rfc7807).validate(answer.json())
        assert answer.json()["status"] == answer.status_code
    assert [a.status_code for a in problems] == [401, 429]
    # The reply rule's 403 is the description's NotAuthorizedForResourceProblem, except that
    # the live answer carries no resource_type (recorded bodies: detail, status, title, type).
    refused = requests.post(
        emu.x_url + "/2/tweets",
        json={"text": "hi", "reply": {"in_reply_to_tweet_id": stranger}},
        headers=oauth1_header(),
    )
    spec = json.loads(X_SPEC.read_text())
    problem = spec["components"]["schemas"]["NotAuthorizedForResourceProblem"]
    problem["required"] = [name for name in problem["required"] if name != "resource_type"]
    assert refused.status_code == 403
    Draft4Validator(problem).validate(refused.json())


@pytest.fixture(scope="module")
def slack_spec() -> dict[str, Any]:
    path = (
        Path(__file__).resolve().parents[1].parent
        / "shared"
        / "reference"
        / "slack-web-openapi-v2.json"
    )
    if not path.exists():
        pytest.skip(f"no Slack API description at {path}")
    spec: dict[str, Any] = json.loads(path.read_text())
    definitions = spec["definitions"]
    # Modern bot messages carry app_id (slack_sdk/Bolt read it to spot their own messages);
    # the 2021 description predates it.
    definitions["objs_message"]["properties"]["app_id"] = {"type": "string"}
    # chat.update returns blocks as an array, like every other method; the description says
    # "object". slack_sdk hands the array back unchanged.
    update = spec["paths"]["/chat.update"]["post"]["responses"]["200"]["schema"]
    update["properties"]["message"]["properties"]["blocks"] = {"$ref": "#/definitions/blocks"}
    return spec


def slack_schema(spec: dict[str, Any], method: str, status: str) -> OAS30Validator:
    operations = spec["paths"][f"/{method}"]
    (operation,) = operations.values()
    schema = copy.deepcopy(operation["responses"][status]["schema"])
    return OAS30Validator({"definitions": spec["definitions"], **schema})


def slack_call(
    emu: Emulators, method: str, token: str | None = "xoxb-emulator", **args: Any
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = requests.post(emu.slack_api_url + method, json=args, headers=headers)
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


def test_slack__success_answers_match_the_description(
    slack_spec: dict[str, Any], emu: Emulators
) -> None:
    card = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "case"}},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "open",
                    "text": {"type": "plain_text", "text": "Open"},
                }
            ],
        },
    ]
    posted = slack_call(emu, "chat.postMessage", channel="general", text="case", blocks=card)
    updated = slack_call(
        emu, "chat.update", channel=posted["channel"], ts=posted["ts"], text="done", blocks=card
    )
    group = emu.slack.add_user("U0APPROVE1", "pat", groups=["approvers"])["groups"][0]
    listed = slack_call(emu, "usergroups.users.list", usergroup=group)
    trigger = emu.slack.click(
        "U0EMUHUM01",
        posted["channel"],
        posted["ts"],
        "open",
    )["trigger_id"]
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Edit"}, "blocks": []}
    opened = slack_call(emu, "views.open", trigger_id=trigger, view=view)
    for method, body in [
        ("auth.test", slack_call(emu, "auth.test")),
        ("chat.postMessage", posted),
        ("chat.update", updated),
        ("views.open", opened),
        ("usergroups.users.list", listed),
    ]:
        assert body["ok"], body
        slack_schema(slack_spec, method, "200").validate(body)


def test_slack__error_answers_match_the_description(
    slack_spec: dict[str, Any], emu: Emulators
) -> None:
    cases = [
        ("auth.test", slack_call(emu, "auth.test", token="garbage")),
        ("auth.test", slack_call(emu, "auth.test", token=None)),
        ("chat.postMessage", slack_call(emu, "chat.postMessage", channel="#missing", text="x")),
        ("chat.postMessage", slack_call(emu, "chat.postMessage", channel="general")),
        ("chat.update", slack_call(emu, "chat.update", channel="general", ts="1.000001", text="x")),
        ("views.open", slack_call(emu, "views.open", trigger_id="1.2.3", view={"type": "modal"})),
        (
            "usergroups.users.list",
            slack_call(emu, "usergroups.users.list", token="garbage", usergroup="S1"),
        ),
    ]
    for method, body in cases:
        assert body["ok"] is False
        slack_schema(slack_spec, method, "default").validate(body)
    # Rate limiting is HTTP 429 + Retry-After with error "ratelimited" (what slack_sdk's
    # RateLimitErrorRetryHandler and socket-mode client test for); the description's enum
    # spells it "rate_limited", so the body is checked by hand.
    emu.slack.fault("/api/chat.postMessage", status=429, retry_after_s=3)
    limited = requests.post(
        emu.slack_api_url + "chat.postMessage",
        json={"channel": "general", "text": "x"},
        headers=SLACK_AUTH,
    )
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
    assert limited.json() == {"ok": False, "error": "ratelimited"}


def test_slack__events_match_the_event_wrapper_schema(emu: Emulators, shared_dir: Path) -> None:
    schema = json.loads((shared_dir / "reference" / "slack-event-wrapper-schema.json").read_text())
    # Slack replaced the deprecated authed_users with authorizations (Bolt reads those);
    # Slack's own socket-mode fixtures in slack_sdk carry no authed_users.
    schema["required"].remove("authed_users")
    payloads: list[dict[str, Any]] = []
    client = SocketModeClient(
        app_token="xapp-emulator", web_client=WebClient(token="xoxb-e", base_url=emu.slack_api_url)
    )

    def ack(socket: BaseSocketModeClient, request: SocketModeRequest) -> None:
        payloads.append(request.payload)
        socket.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))

    client.socket_mode_request_listeners.append(ack)
    client.connect()
    try:
        for _ in range(300):
            if emu.slack.post("/_admin/socket_mode", {})["connections"]:
                break
            time.sleep(0.01)
        result = emu.slack.post(
            "/_admin/messages",
            {
                "channel": "general",
                "user_id": "U0EMUHUM01",
                "text": "hi <@U0EMUBOT01>",
                "wait_s": 3,
            },
        )
    finally:
        client.close()
    assert result["acked"]
    (payload,) = payloads
    Draft4Validator(schema).validate(payload)
    assert payload["event"]["type"] == "app_mention"
