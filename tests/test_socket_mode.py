"""Socket Mode (the zero-set-up default): the same /draft over Slack's WebSocket."""

from __future__ import annotations

import asyncio

from bot.config import load_settings
from bot.services import build_services
from handlers.app import serve
from tests.conftest import APP_TOKEN, FAST_RETRIES
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.slack import FakeSlack


async def test_slash_command_over_socket_mode(
    env: dict[str, str], fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    env = {**env, "SLACK_APP_TOKEN": APP_TOKEN}
    del env["SLACK_SIGNING_SECRET"]
    services = build_services(load_settings(env), FAST_RETRIES)
    fake_anthropic.default = Reply(text="Hi Alex, shall we meet?", delay=0.5)
    stop = asyncio.Event()
    server = asyncio.create_task(serve(services, stop=stop))
    try:
        assert await asyncio.to_thread(fake_slack.wait_for_socket_connection, 10.0)
        response_url = fake_slack.new_response_url()
        envelope = fake_slack.send_socket_event(
            "slash_commands",
            {
                "command": "/draft",
                "text": "email to Alex about a meeting",
                "user_id": "U0001",
                "user_name": "alex",
                "team_id": "T0001",
                "channel_id": "C0001",
                "response_url": response_url,
                "trigger_id": "1.2.3",
                "api_app_id": "A0001",
            },
        )
        ack = await asyncio.to_thread(fake_slack.wait_for_socket_ack, envelope, 5.0)
        assert ack["payload"]["text"] == "Drafting your email…"
        [posted] = await asyncio.to_thread(fake_slack.wait_for_responses, response_url, 1, 10.0)
        assert posted["blocks"][0]["text"] == "Hi Alex, shall we meet?"
        assert services.store.usage_rows()[0]["source"] == "slash"
    finally:
        stop.set()
        await asyncio.wait_for(server, 10)
