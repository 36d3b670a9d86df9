"""Requests whose words happen to look like Bolt's own keys are still understood.

Bolt's body parser looks for the substring "payload" anywhere in a form body, takes it for
an interaction, finds no `payload` field and hands the listeners an empty body: Slack then
shows the person an error for `/draft email about the payload of the rocket`.
"""

from __future__ import annotations

import asyncio
import json

from tests.conftest import RunningBot
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.slack import FakeSlack


async def test_a_request_mentioning_payload_is_drafted(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(text="Hi Alex, the payload is ready.")
    text = "email to Alex about the payload of the rocket"
    reply = await bot.slash(text)
    assert reply.status == 200
    assert reply.body["text"] == "Drafting your email…"
    [preview] = await asyncio.to_thread(fake_slack.wait_for_responses, reply.response_url, 1, 10.0)
    assert "the payload is ready" in json.dumps(preview)
    [request] = fake_anthropic.message_requests()
    assert request.body is not None and request.body["messages"][0]["content"] == text
