"""A signed request captured and sent again within Slack's 5-minute signature window is
acknowledged and ignored: no second model call, no second reply. Real Bolt app on loopback
HTTP, fake Slack and fake Anthropic."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.refinements import REFINEMENTS
from tests.conftest import SIGNING_SECRET, RunningBot
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.signing import interactive_body, sign_request, slash_command_body
from tests.fakes.slack import FakeSlack


async def post(bot: RunningBot, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with bot.session.post(f"{bot.url}/slack/events", data=body, headers=headers) as r:
        return r.status, await r.text()


def button(action: str, draft_id: str, response_url: str) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": "U0001", "username": "alex", "team_id": "T0001"},
        "api_app_id": "A0001",
        "team": {"id": "T0001", "domain": "acme"},
        "container": {"type": "message", "is_ephemeral": True, "channel_id": "C0001"},
        "channel": {"id": "C0001", "name": "general"},
        "trigger_id": "222.333.replayed",
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": f"draft_{action}",
                "block_id": "draft_actions",
                "value": draft_id,
                "action_ts": "1700000000.000002",
            }
        ],
    }


async def test_a_replayed_slash_command_drafts_once_and_replies_once(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(text="Hi Alex, can we meet on Monday?", delay=0.3)
    response_url = fake_slack.new_response_url()
    body = slash_command_body("email to Alex about Monday", response_url=response_url)
    headers = sign_request(body, SIGNING_SECRET)

    first = await post(bot, body, headers)
    replays = [await post(bot, body, headers) for _ in range(2)]
    await fake_slack.wait_for_responses_async(response_url, 1, 10.0)
    await asyncio.sleep(0.8)  # time for a second draft to arrive, were one started

    assert first == (200, "Drafting your email…")
    assert [status for status, _ in replays] == [200, 200]
    assert all("Drafting" not in text for _, text in replays)
    assert len(fake_anthropic.message_requests()) == 1
    assert len(fake_slack.responses(response_url)) == 1
    assert len(bot.usage_rows()) == 1


async def test_a_replayed_button_click_runs_once(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    draft = await bot.slash("email to Alex about Monday")
    [preview] = await fake_slack.wait_for_responses_async(draft.response_url, 1, 10.0)
    draft_id = str(preview["blocks"][-1]["elements"][0]["value"])
    fake_anthropic.default = Reply(text="Monday?", delay=0.3)
    url = fake_slack.new_response_url()
    body = interactive_body(button("shorter", draft_id, url))
    headers = sign_request(body, SIGNING_SECRET)

    statuses = [(await post(bot, body, headers))[0] for _ in range(3)]
    await fake_slack.wait_for_responses_async(url, 2, 10.0)
    await asyncio.sleep(0.8)

    assert statuses == [200, 200, 200]
    assert len(fake_anthropic.message_requests()) == 2  # the draft, and one shorter version
    assert [row["source"] for row in bot.usage_rows()] == ["slash", "shorter"]
    # What one click shows: "Making it shorter…", then the shorter draft. Nothing else.
    working, refined = fake_slack.responses(url)
    assert working["text"] == REFINEMENTS["shorter"].working
    assert refined["blocks"][0]["text"] == "Monday?"


async def test_the_same_words_sent_again_by_the_person_are_drafted_again(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    # Slack gives every real send its own trigger_id and response_url: not a replay.
    first = await bot.slash("email to Alex about Monday", trigger_id="1.1.a")
    second = await bot.slash("email to Alex about Monday", trigger_id="1.1.b")
    for reply in (first, second):
        await fake_slack.wait_for_responses_async(reply.response_url, 1, 10.0)
    assert len(fake_anthropic.message_requests()) == 2
