"""The fault mix (issue 11): model and Slack failures at once, through the real server.

Each request ends in a draft or a plain message, every billed model attempt leaves exactly
one usage row, and nothing Slack shows carries a traceback or a raw API error.
"""

from __future__ import annotations

from collections import Counter

import pytest

from bot import wording
from tests.conftest import RunningBot
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.slack import FakeSlack

pytestmark = pytest.mark.faults


# ------------------------------------------------------------------ what the mix found


@pytest.mark.parametrize(
    "cut",
    [
        Reply(text="Hi Alex, " * 20, stream_error_after_chunks=1, error_type="overloaded_error"),
        Reply(text="Hi Alex, " * 20, drop_after_chunks=1),
    ],
    ids=["error-event", "dropped"],
)
async def test_when_every_attempt_is_cut_mid_stream_each_leaves_exactly_one_row(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack, cut: Reply
) -> None:
    fake_anthropic.default = cut
    reply = await bot.slash("email to Alex about the offsite")
    [post] = await fake_slack.wait_for_responses_async(reply.response_url, 1, 15.0)
    assert post["text"] in (wording.BUSY, wording.UNAVAILABLE)
    billed = [b.request_id for b in fake_anthropic.billed()]
    assert len(billed) == bot.services.drafter.model_client.policy.max_attempts
    rows = bot.usage_rows()
    assert Counter(row["request_id"] for row in rows) == Counter(billed)
    assert all(row["input_tokens"] + row["cache_creation_input_tokens"] > 0 for row in rows)
    assert rows[-1]["error"].split(":")[0] in ("busy", "unavailable")
    assert rows[-1]["attempts"] == len(billed)
