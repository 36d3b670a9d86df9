"""A bounded number of model calls in flight; the rest wait in order and are told so."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from bot.gate import ModelGate
from tests.conftest import RunningBot
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.slack import FakeSlack


@pytest.mark.env(DRAFTBOT_MAX_CONCURRENCY="2")
async def test_calls_beyond_the_limit_wait_their_turn_and_are_told(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(delay=0.4)
    replies = await asyncio.gather(*(bot.slash(f"email number {i}") for i in range(5)))
    posts = [
        await asyncio.to_thread(fake_slack.wait_for_responses, r.response_url, 1, 10.0)
        for r in replies
    ]
    for reply in replies:  # every draft still arrives
        await asyncio.to_thread(
            fake_slack.wait_for,
            lambda f, url=reply.response_url: any(
                "draft_actions" in str(p) for p in f.responses(url)
            ),
            10.0,
        )
    arrivals = sorted(r.received_at for r in fake_anthropic.message_requests())
    assert arrivals[2] - arrivals[0] >= 0.35  # the third call waited for a free place
    assert arrivals[4] - arrivals[2] >= 0.35
    queued = [p[0]["text"] for p in posts if "in the queue" in p[0]["text"]]
    assert len(queued) == 3
    assert any("number 1 in the queue" in text for text in queued)


async def test_low_rate_limit_headroom_pauses_new_calls_until_the_reset() -> None:
    gate = ModelGate(10)
    reset = (datetime.now(UTC) + timedelta(seconds=0.4)).isoformat()
    gate.observe(
        {"anthropic-ratelimit-requests-remaining": "1", "anthropic-ratelimit-requests-reset": reset}
    )
    started = time.monotonic()
    async with gate.slot():
        waited = time.monotonic() - started
    assert 0.25 < waited < 1.0


async def test_plenty_of_headroom_means_no_pause() -> None:
    gate = ModelGate(10)
    reset = (datetime.now(UTC) + timedelta(seconds=30)).isoformat()
    gate.observe(
        {
            "anthropic-ratelimit-requests-remaining": "3999",
            "anthropic-ratelimit-requests-reset": reset,
            "anthropic-ratelimit-input-tokens-remaining": "399000",
            "anthropic-ratelimit-input-tokens-reset": reset,
        }
    )
    started = time.monotonic()
    async with gate.slot():
        assert time.monotonic() - started < 0.1
