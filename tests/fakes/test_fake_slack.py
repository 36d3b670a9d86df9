"""The Slack fake, exercised with the real slack_sdk clients."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakes.signing import (
    interactive_body,
    sign_request,
    signed_slash_command,
    slash_command_body,
)
from tests.fakes.slack import FakeSlack

BOT = "xoxb-test-token"
APP = "xapp-test-token"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeSlack]:
    with FakeSlack(bot_token=BOT, app_token=APP) as fake:
        yield fake


@pytest.fixture
def fake(server: FakeSlack) -> FakeSlack:
    server.reset()
    return server


def client(fake: FakeSlack, token: str = BOT, **kwargs: Any) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=fake.api_url, **kwargs)


# ----------------------------------------------------------------- Web API


@pytest.mark.asyncio
async def test_auth_test_shape_scopes_header_and_recording(fake: FakeSlack) -> None:
    fake.scopes = "commands,chat:write"
    resp = await client(fake).auth_test()
    assert resp["ok"] is True
    assert (resp["team_id"], resp["user_id"], resp["bot_id"]) == ("T0001", "U0BOT", "B0001")
    assert resp["url"].startswith("https://")
    assert resp.headers["x-oauth-scopes"] == "commands,chat:write"
    assert resp.headers["content-type"].startswith("application/json")
    [call] = fake.calls_to("auth.test")
    assert call.headers["authorization"] == f"Bearer {BOT}"
    assert call.status == 200 and call.response["ok"] is True


@pytest.mark.asyncio
async def test_post_message_records_decoded_blocks_and_increments_ts(fake: FakeSlack) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    web = client(fake)
    first = await web.chat_postMessage(channel="C0001", text="hi", blocks=blocks)
    second = await web.chat_postMessage(channel="U0001", text="dm", thread_ts=first["ts"])
    assert first["ts"] == "1700000000.000100" and second["ts"] == "1700000000.000200"
    assert first["message"]["blocks"] == blocks and first["message"]["bot_id"] == "B0001"
    assert second["channel"] == "DU0001"
    call = fake.calls_to("chat.postMessage")[0]
    assert call.args["blocks"] == blocks and call.args["channel"] == "C0001"
    # blocks sent as a JSON string in form fields are decoded too
    await web.api_call(
        "chat.postMessage", data={"channel": "C0001", "text": "x", "blocks": json.dumps(blocks)}
    )
    assert fake.calls_to("chat.postMessage")[-1].args["blocks"] == blocks


@pytest.mark.asyncio
async def test_invalid_token_and_token_types(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as err:
        await client(fake, token="xoxb-wrong").chat_postMessage(channel="C1", text="x")
    assert err.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as err:
        await client(fake).apps_connections_open(app_token=BOT)
    assert err.value.response["error"] == "not_allowed_token_type"
    with pytest.raises(SlackApiError) as err:
        await client(fake, token=APP).auth_test()
    assert err.value.response["error"] == "not_allowed_token_type"
    resp = await client(fake).apps_connections_open(app_token=APP)
    assert resp["url"].startswith(f"ws://127.0.0.1:{fake.port}/socket?")
    with pytest.raises(SlackApiError) as err:
        await client(fake).api_call("chat.noSuchThing")
    assert err.value.response["error"] == "unknown_method"


@pytest.mark.asyncio
async def test_scripted_failures_not_in_channel_and_missing_scope(fake: FakeSlack) -> None:
    web = client(fake)
    fake.fail("chat.postMessage", "channel_not_found", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as err:
            await web.chat_postMessage(channel="C1", text="x")
        assert err.value.response["error"] == "channel_not_found"
    assert (await web.chat_postMessage(channel="C1", text="x"))["ok"]

    fake.channels_without_bot.add("C9")
    for call in (
        web.chat_postMessage(channel="C9", text="x"),
        web.chat_postEphemeral(channel="C9", user="U1", text="x"),
    ):
        with pytest.raises(SlackApiError) as err:
            await call
        assert err.value.response["error"] == "not_in_channel"

    fake.scopes = ["commands", "chat:write"]
    with pytest.raises(SlackApiError) as err:
        await web.users_info(user="U0BOT")
    assert err.value.response["error"] == "missing_scope"
    assert err.value.response["needed"] == "users:read"


@pytest.mark.asyncio
async def test_dropped_connections_are_network_errors_retried_once_by_default(
    fake: FakeSlack,
) -> None:
    web = client(fake)  # slack_sdk's default retry handlers: one retry on connection errors
    fake.drop_connection("chat.postMessage", times=1)
    assert (await web.chat_postMessage(channel="C1", text="x"))["ok"]
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [0, 200]

    fake.drop_connection("chat.postMessage", times=2, match={"channel": "C0ALERTS"})
    assert (await web.chat_postMessage(channel="C1", text="other channels are fine"))["ok"]
    with pytest.raises(aiohttp.ClientConnectionError):
        await web.chat_postMessage(channel="C0ALERTS", text="x")
    assert [c.status for c in fake.calls_to("chat.postMessage")][-2:] == [0, 0]
    assert (await web.chat_postMessage(channel="C0ALERTS", text="x"))["ok"]  # used up


@pytest.mark.asyncio
async def test_stored_views_get_block_and_action_ids_like_slack(fake: FakeSlack) -> None:
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Post"},
        "blocks": [
            {
                "type": "input",
                "label": {"type": "plain_text", "text": "Where?"},
                "element": {"type": "conversations_select"},
            },
            {
                "type": "input",
                "block_id": "text",
                "label": {"type": "plain_text", "text": "Text"},
                "element": {"type": "plain_text_input", "action_id": "value"},
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}},
        ],
    }
    opened = await client(fake).views_open(trigger_id="1.2.3", view=view)
    first, second, third = opened["view"]["blocks"]
    assert first["block_id"] and first["element"]["action_id"]
    assert (second["block_id"], second["element"]["action_id"]) == ("text", "value")
    assert third["block_id"] and "action_id" not in third["text"]
    assert fake.views[opened["view"]["id"]]["blocks"] == opened["view"]["blocks"]
    assert "block_id" not in fake.calls_to("views.open")[0].args["view"]["blocks"][0]


@pytest.mark.asyncio
async def test_invalid_blocks_are_refused(fake: FakeSlack) -> None:
    too_long = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    with pytest.raises(SlackApiError) as err:
        await client(fake).chat_postMessage(channel="C1", text="x", blocks=too_long)
    assert err.value.response["error"] == "invalid_blocks"
    assert "/blocks/0/text/text" in err.value.response["errors"][0]


@pytest.mark.asyncio
async def test_a_button_confirm_is_checked_like_slack(fake: FakeSlack) -> None:
    def actions(confirm: dict[str, Any]) -> list[dict[str, Any]]:
        button = {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "Go"}}
        return [{"type": "actions", "elements": [{**button, "confirm": confirm}]}]

    def plain(text: str) -> dict[str, str]:
        return {"type": "plain_text", "text": text}

    good = {"title": plain("Sure?"), "text": plain("Post it?"), "confirm": plain("Yes")}
    good["deny"] = plain("No")
    await client(fake).chat_postMessage(channel="C1", text="x", blocks=actions(good))
    for bad, where in (
        ({**good, "text": plain("x" * 301)}, "/confirm/text/text"),
        ({k: v for k, v in good.items() if k != "deny"}, "deny"),
        ({**good, "confirm": plain("x" * 31)}, "/confirm/confirm/text"),
    ):
        with pytest.raises(SlackApiError) as err:
            await client(fake).chat_postMessage(channel="C1", text="x", blocks=actions(bad))
        assert err.value.response["error"] == "invalid_blocks"
        assert where in err.value.response["errors"][0]


@pytest.mark.asyncio
async def test_ratelimited_429_and_retry_handler(fake: FakeSlack) -> None:
    fake.fail("chat.postMessage", "ratelimited")
    with pytest.raises(SlackApiError) as err:
        await client(fake).chat_postMessage(channel="C1", text="x")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "1"
    assert err.value.response["error"] == "ratelimited"

    fake.fail("chat.postMessage", "ratelimited")
    retrying = client(fake, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)])
    started = time.monotonic()
    resp = await retrying.chat_postMessage(channel="C1", text="x")
    assert resp["ok"] and time.monotonic() - started >= 1.0
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [429, 429, 200]


@pytest.mark.asyncio
async def test_files_upload_v2_end_to_end(fake: FakeSlack) -> None:
    resp = await client(fake).files_upload_v2(
        channel="C0001",
        content="# Draft\n\nHello",
        filename="draft.md",
        title="Your draft",
        initial_comment="Too long for a message",
        thread_ts="1700000000.000100",
    )
    assert resp["file"]["title"] == "Your draft"
    [upload] = fake.uploads
    assert upload["content"] == b"# Draft\n\nHello" and upload["filename"] == "draft.md"
    assert upload["file_id"] == resp["file"]["id"] and upload["completed"]
    assert upload["channel_id"] == "C0001"
    assert upload["initial_comment"] == "Too long for a message"
    assert upload["thread_ts"] == "1700000000.000100"
    methods = [c.method for c in fake.calls]
    assert methods == ["files.getUploadURLExternal", "files.completeUploadExternal"]


@pytest.mark.asyncio
async def test_conversations_replies_and_history_pagination(fake: FakeSlack) -> None:
    parent = "1600000000.000100"
    fake.add_messages("C0001", [{"ts": parent, "user": "U1", "text": "parent"}], thread_ts=parent)
    fake.add_messages("C0001", [{"user": "U2", "text": f"r{i}"} for i in range(4)], parent)
    fake.add_messages("C0001", [{"user": "U3", "text": "later"}])
    web = client(fake)
    # AsyncSlackResponse iterates by mutating itself: copy each page's data.
    first = await web.conversations_replies(channel="C0001", ts=parent, limit=2)
    pages = [dict(page.data) async for page in first]
    assert [len(p["messages"]) for p in pages] == [2, 2, 1]
    assert [p["has_more"] for p in pages] == [True, True, False]
    texts = [m["text"] for p in pages for m in p["messages"]]
    assert texts == ["parent", "r0", "r1", "r2", "r3"]
    assert pages[0]["messages"][0]["reply_count"] == 4

    history = await web.conversations_history(channel="C0001")
    assert [m["text"] for m in history["messages"]] == ["later", "parent"]
    with pytest.raises(SlackApiError) as err:
        await web.conversations_replies(channel="C0001", ts="1.2")
    assert err.value.response["error"] == "thread_not_found"


@pytest.mark.asyncio
async def test_users_info(fake: FakeSlack) -> None:
    fake.add_user("U0001", "alex", display_name="Alex", real_name="Alex Doe", is_admin=True)
    resp = await client(fake).users_info(user="U0001", include_locale=True)
    user = resp["user"]
    assert (user["id"], user["name"], user["is_admin"], user["is_bot"]) == (
        "U0001",
        "alex",
        True,
        False,
    )
    assert user["profile"]["display_name"] == "Alex" and user["tz"] == "Europe/London"
    assert user["locale"] == "en-GB"
    with pytest.raises(SlackApiError) as err:
        await client(fake).users_info(user="U404")
    assert err.value.response["error"] == "user_not_found"


@pytest.mark.asyncio
async def test_chat_stream_records_chunks(fake: FakeSlack) -> None:
    stream = await client(fake).chat_stream(
        channel="C0001",
        thread_ts="1700000000.000001",
        recipient_team_id="T0001",
        recipient_user_id="U0001",
        buffer_size=5,
    )
    await stream.append(markdown_text="Hello ")
    await stream.append(markdown_text="world")
    await stream.stop(blocks=[{"type": "divider"}])
    [recorded] = fake.streams
    assert recorded["text"] == "Hello world" and recorded["state"] == "completed"
    assert [c.method for c in fake.calls] == [
        "chat.startStream",
        "chat.appendStream",
        "chat.stopStream",
    ]
    assert fake.calls[0].args["chunks"] == [{"type": "markdown_text", "text": "Hello "}]
    assert fake.message("C0001", recorded["ts"])["text"] == "Hello world"  # type: ignore[index]


@pytest.mark.asyncio
async def test_views_open_update_and_validation(fake: FakeSlack) -> None:
    web = client(fake)
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Draft"}, "blocks": []}
    opened = await web.views_open(trigger_id="123.456.abc", view=view)
    vid = opened["view"]["id"]
    assert vid.startswith("V") and opened["view"]["title"]["text"] == "Draft"
    updated = await web.views_update(view_id=vid, view={**view, "private_metadata": "m"})
    assert updated["view"]["id"] == vid and fake.views[vid]["private_metadata"] == "m"
    bad = {**view, "title": {"type": "plain_text", "text": "x" * 25}}
    with pytest.raises(SlackApiError) as err:
        await web.views_open(trigger_id="1", view=bad)
    assert err.value.response["error"] == "invalid_arguments"


# ------------------------------------------------------------- response_url


@pytest.mark.asyncio
async def test_response_url_records_and_refuses_sixth_post(fake: FakeSlack) -> None:
    url = fake.new_response_url()
    hook = AsyncWebhookClient(url)
    for i in range(5):
        resp = await hook.send_dict({"text": f"post {i}", "response_type": "ephemeral"})
        assert (resp.status_code, resp.body) == (200, "ok")
    sixth = await hook.send_dict({"text": "post 5"})  # no exception: a status to check
    assert (sixth.status_code, sixth.body) == (404, "used_url")
    assert [r["text"] for r in fake.responses(url)] == [f"post {i}" for i in range(5)]
    assert await fake.wait_for_responses_async(url, 5) == fake.responses(url)

    unknown = await AsyncWebhookClient(fake.base_url + "response/nope").send(text="x")
    assert (unknown.status_code, unknown.body) == (404, "no_service")


@pytest.mark.asyncio
async def test_response_url_scripted_failure_and_bolt_respond(fake: FakeSlack) -> None:
    url = fake.new_response_url()
    fake.fail_response_url(url, status=404, body="expired_url")
    respond = AsyncRespond(response_url=url)
    failed = await respond("first")
    assert (failed.status_code, failed.body) == (404, "expired_url")
    await respond("second", replace_original=True)
    assert fake.responses(url) == [{"text": "second", "replace_original": True}]
    assert fake.all_responses() == [(url, {"text": "second", "replace_original": True})]


@pytest.mark.asyncio
async def test_response_url_failures_carry_headers(fake: FakeSlack) -> None:
    url = fake.new_response_url()
    fake.fail_response_url(url, status=429, body="rate_limited", headers={"Retry-After": "1"})
    async with aiohttp.ClientSession() as session, session.post(url, json={"text": "x"}) as r:
        assert (r.status, r.headers["Retry-After"], await r.text()) == (429, "1", "rate_limited")
    assert fake.responses(url) == []


@pytest.mark.asyncio
async def test_scripted_failures_can_match_arguments(fake: FakeSlack) -> None:
    fake.fail("chat.postMessage", "internal_error", status=500, match={"channel": "U0002"})
    web = client(fake, retry_handlers=[])
    assert (await web.chat_postMessage(channel="U0001", text="hi"))["ok"]
    with pytest.raises(SlackApiError) as caught:
        await web.chat_postMessage(channel="U0002", text="hi")
    assert caught.value.response.status_code == 500
    assert (await web.chat_postMessage(channel="U0002", text="hi"))["ok"]  # once only


@pytest.mark.asyncio
async def test_blocking_waits_refuse_inside_event_loop(fake: FakeSlack) -> None:
    url = fake.new_response_url()
    with pytest.raises(RuntimeError, match="wait_for_responses_async"):
        fake.wait_for_responses(url)
    with pytest.raises(AssertionError, match="expected 1 post"):
        await asyncio.to_thread(fake.wait_for_responses, url, 1, 0.05)


# -------------------------------------------------------------- socket mode


@pytest.mark.asyncio
async def test_socket_mode_client_connects_receives_and_acks(fake: FakeSlack) -> None:
    received: list[SocketModeRequest] = []
    hello: list[dict[str, Any]] = []

    async def on_request(sm: Any, req: SocketModeRequest) -> None:
        received.append(req)
        await sm.send_socket_mode_response(
            SocketModeResponse(envelope_id=req.envelope_id, payload={"text": "on it"})
        )

    async def on_message(sm: Any, message: dict[str, Any], raw: str | None) -> None:
        if message.get("type") == "hello":
            hello.append(message)

    sm = SocketModeClient(app_token=APP, web_client=client(fake, token=None))
    sm.socket_mode_request_listeners.append(on_request)
    sm.message_listeners.append(on_message)
    try:
        await sm.connect()
        await fake.wait_for_socket_connection_async()
        payload = {"command": "/draft", "text": "an email", "user_id": "U0001"}
        envelope_id = await fake.send_socket_event_async("slash_commands", payload)
        ack = await fake.wait_for_socket_ack_async(envelope_id)
    finally:
        await sm.close()
    assert ack == {"envelope_id": envelope_id, "payload": {"text": "on it"}}
    [req] = received
    assert req.type == "slash_commands" and req.payload == payload
    assert req.accepts_response_payload is True
    assert hello and hello[0]["num_connections"] == 1
    [call] = fake.calls_to("apps.connections.open")
    assert call.headers["authorization"] == f"Bearer {APP}"


# ------------------------------------------------------------------ signing


def test_sign_request_verifies_with_slack_sdk() -> None:
    body, headers = signed_slash_command("s3cret", "an email to Sam", response_url="http://x/r")
    verifier = SignatureVerifier("s3cret")
    assert verifier.is_valid(
        body=body,
        timestamp=headers["X-Slack-Request-Timestamp"],
        signature=headers["X-Slack-Signature"],
    )
    assert verifier.is_valid_request(body, headers)
    assert not SignatureVerifier("other").is_valid_request(body, headers)
    old = sign_request(body, "s3cret", timestamp=int(time.time()) - 600)
    assert not verifier.is_valid_request(body, old)
    fields = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    assert fields["command"] == "/draft" and fields["text"] == "an email to Sam"
    assert b"command=%2Fdraft" in body and b"text=an+email+to+Sam" in body


def test_slash_and_interactive_bodies() -> None:
    body = slash_command_body("x", response_url="http://r", enterprise_id="E1")
    fields = parse_qs(body.decode())
    assert fields["enterprise_id"] == ["E1"] and fields["response_url"] == ["http://r"]
    payload = {"type": "block_actions", "actions": [{"action_id": "a", "value": "v"}]}
    raw = interactive_body(payload)
    assert raw.startswith(b"payload=")
    assert json.loads(parse_qs(raw.decode())["payload"][0]) == payload


@pytest.mark.asyncio
async def test_usergroups_users_list_scope_plan_and_unknown_groups(fake: FakeSlack) -> None:
    fake.add_usergroup("S0PILOT", ["U0001", "U0002"])
    resp = await client(fake).usergroups_users_list(usergroup="S0PILOT")
    assert resp["users"] == ["U0001", "U0002"]
    with pytest.raises(SlackApiError) as err:
        await client(fake).usergroups_users_list(usergroup="S0NONE")
    assert err.value.response["error"] == "no_such_subteam"
    fake.usergroups_need_plan_upgrade = True
    with pytest.raises(SlackApiError) as err:
        await client(fake).usergroups_users_list(usergroup="S0PILOT")
    assert err.value.response["error"] == "plan_upgrade_required"
    fake.usergroups_need_plan_upgrade = False
    fake.scopes = [s for s in fake.scopes if s != "usergroups:read"]
    with pytest.raises(SlackApiError) as err:
        await client(fake).usergroups_users_list(usergroup="S0PILOT")
    assert err.value.response["error"] == "missing_scope"
    assert err.value.response["needed"] == "usergroups:read"
