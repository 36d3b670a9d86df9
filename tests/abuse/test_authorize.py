"""Draftbot asks Slack who it is (auth.test) once and shares the answer: at start-up, or on
a cold start by the first of many concurrent requests. A failed auth.test is not a reason to
tell people to reinstall the app; only Slack refusing the token is."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from bot import wording
from tests.abuse.test_http_hygiene import served
from tests.conftest import SIGNING_SECRET, RunningBot
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.signing import sign_request, slash_command_body
from tests.fakes.slack import FakeSlack

AUTH_TEST_LATENCY = 0.25  # about what Slack takes


def failing_auth_test(state: dict[str, Any]) -> Any:
    """auth.test answers a transient error while ``state["down"]`` is true."""

    def handler(args: dict[str, Any]) -> dict[str, Any]:
        if state["down"]:
            return {"ok": False, "error": "internal_error"}
        return {"ok": True, "team_id": "T0001", "user_id": "U0BOT", "bot_id": "B0001"}

    return handler


def said(fake_slack: FakeSlack, reply: Any) -> str:
    """Everything the person saw for one slash command: its ack and its response_url posts."""
    return str(reply.body) + str(fake_slack.responses(reply.response_url))


async def test_a_cold_burst_of_commands_asks_slack_who_it_is_once(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_slack.set_latency("auth.test", AUTH_TEST_LATENCY)
    fake_anthropic.default = Reply(text="Hi Alex.")
    replies = await asyncio.gather(*(bot.slash(f"email number {i}") for i in range(50)))

    assert [r.status for r in replies] == [200] * 50
    assert all(r.body["text"] == "Drafting your email…" for r in replies)
    assert max(r.seconds for r in replies) < 3.0
    assert len(fake_slack.calls_to("auth.test")) == 1
    for reply in replies:
        await fake_slack.wait_for_responses_async(reply.response_url, 1, 20.0)
    assert len(fake_slack.calls_to("auth.test")) == 1


def test_serve_verifies_the_token_at_start_up_then_never_asks_again(
    tmp_path: Path, env: dict[str, str], fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_slack.set_latency("auth.test", AUTH_TEST_LATENCY)
    with served(env, tmp_path) as server:
        assert len(fake_slack.calls_to("auth.test")) == 1  # before any request arrived
        # From here auth.test would fail: nobody should notice.
        fake_slack.fail("auth.test", error="internal_error", status=500, times=100)
        urls = [fake_slack.new_response_url() for _ in range(20)]
        bodies = [slash_command_body(f"email {i}", response_url=u) for i, u in enumerate(urls)]
        with ThreadPoolExecutor(20) as pool:
            acks = list(pool.map(lambda b: server.post(b, sign_request(b, SIGNING_SECRET)), bodies))
        for url in urls:
            fake_slack.wait_for_responses(url, 1, 20.0)
        log = server.stop()

    assert acks == [(200, "Drafting your email…".encode())] * 20
    assert len(fake_slack.calls_to("auth.test")) == 1
    assert "reinstall" not in str([fake_slack.responses(u) for u in urls]).lower()
    assert "Slack token checked" in log


async def test_one_failed_auth_test_is_retried_not_a_reinstall_message(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("auth.test", error="internal_error", status=500, times=1)
    reply = await bot.slash("email to Alex about Monday")
    assert "reinstall" not in str(reply.body).lower()
    assert reply.body["text"] == "Drafting your email…"
    await fake_slack.wait_for_responses_async(reply.response_url, 1, 10.0)
    assert "reinstall" not in said(fake_slack, reply).lower()
    assert len(fake_anthropic.message_requests()) == 1


async def test_while_slack_is_down_people_are_told_to_try_again_not_to_reinstall(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    state = {"down": True}
    fake_slack.set_method_handler("auth.test", failing_auth_test(state))
    started = time.monotonic()
    down = await asyncio.gather(*(bot.slash(f"email {i} to Alex") for i in range(5)))
    assert time.monotonic() - started < 3.0
    for reply in down:
        assert reply.status == 200
        assert "reinstall" not in said(fake_slack, reply).lower()
        assert reply.body["text"] == wording.SLACK_UNREACHABLE
    assert fake_anthropic.message_requests() == []
    asked_while_down = len(fake_slack.calls_to("auth.test"))
    assert asked_while_down <= 3  # one shared check (and its retries), not one per request

    state["down"] = False  # Slack is back: the next request works
    reply = await bot.slash("email to Alex about Monday")
    await fake_slack.wait_for_responses_async(reply.response_url, 1, 10.0)
    assert reply.body["text"] == "Drafting your email…"
    assert len(fake_anthropic.message_requests()) == 1


@pytest.mark.parametrize("error", ["invalid_auth", "token_revoked"])
async def test_a_refused_token_tells_the_person_plainly(
    error: str, bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("auth.test", error=error, times=10)
    reply = await bot.slash("email to Alex about Monday")
    assert reply.status == 200
    assert reply.body["text"] == wording.SLACK_TOKEN_REFUSED
    assert fake_anthropic.message_requests() == []
    assert len(fake_slack.calls_to("auth.test")) == 1  # a refusal is not retried


async def test_a_click_while_slack_is_down_is_answered_at_its_response_url(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_slack.set_method_handler("auth.test", failing_auth_test({"down": True}))
    url = fake_slack.new_response_url()
    status, _ = await bot.interact(
        {
            "type": "block_actions",
            "user": {"id": "U0001", "username": "alex", "team_id": "T0001"},
            "team": {"id": "T0001", "domain": "acme"},
            "channel": {"id": "C0001", "name": "general"},
            "trigger_id": "9.9.down",
            "response_url": url,
            "actions": [
                {"action_id": "draft_shorter", "block_id": "draft_actions", "value": "d" * 16}
            ],
        }
    )
    assert status == 200
    [note] = await fake_slack.wait_for_responses_async(url, 1, 10.0)
    assert note["text"] == wording.SLACK_UNREACHABLE
    assert note["replace_original"] is False  # the draft above it stays
    assert fake_anthropic.message_requests() == []
