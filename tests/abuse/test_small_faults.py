"""Small faults from issue 11, item 14: odd Retry-After headers from Slack, absurd budget
amounts, and Slack rate-limiting the reading of a thread. Each ends in what a person
expects (the post, a plain refusal, "Slack is busy"), never in silence or "Something went
wrong", through the real server and the fakes."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from bot import wording
from bot.config import ConfigError, load_settings
from bot.pricing import usd_bounds
from tests.conftest import RunningBot
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.slack import FakeSlack
from tests.test_cli import pythonpath, run
from tests.test_previews import button, draft_id_of
from tests.test_summaries import seed_thread, shortcut

LINK = "<https://acme.slack.com/archives/C0PROJ/p1700000000000100>"


async def responses(fake_slack: FakeSlack, url: str, n: int) -> list[dict[str, Any]]:
    return await asyncio.to_thread(fake_slack.wait_for_responses, url, n, 10.0)


async def drafted(bot: RunningBot, fake_slack: FakeSlack, channel: str = "C0001") -> str:
    reply = await bot.slash("message to the team: standup moves to 10:00", channel_id=channel)
    [preview] = await responses(fake_slack, reply.response_url, 1)
    return draft_id_of(preview)


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


# ------------------------------------------------------------------ Retry-After


@pytest.mark.parametrize("retry_after", ["1.5", "0.2", "soon", "", "-3"])
async def test_a_post_survives_any_retry_after_slack_sends(
    bot: RunningBot,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    retry_after: str,
) -> None:
    draft_id = await drafted(bot, fake_slack)
    fake_slack.fail("chat.postMessage", "ratelimited", headers={"Retry-After": retry_after})
    url = fake_slack.new_response_url()
    started = time.monotonic()
    await bot.interact(button("post", draft_id, url))
    [done] = await responses(fake_slack, url, 1)
    assert done["text"] == wording.POSTED.format(channel="C0001")
    first, second = fake_slack.calls_to("chat.postMessage")
    assert first.status == 429 and second.status == 200
    waited = second.received_at - first.received_at
    wanted = float(retry_after) if retry_after == "1.5" else 0.0
    assert wanted <= waited < max(wanted, 1.0) + 1.5, waited  # as asked, or a short default
    assert time.monotonic() - started < 5
    no_tracebacks(caplog)


async def test_a_retry_after_too_long_to_wait_for_says_slack_is_busy_at_once(
    bot: RunningBot, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    draft_id = await drafted(bot, fake_slack)
    fake_slack.fail("chat.postMessage", "ratelimited", headers={"Retry-After": "86400"})
    url = fake_slack.new_response_url()
    started = time.monotonic()
    await bot.interact(button("post", draft_id, url))
    [note] = await responses(fake_slack, url, 1)
    assert time.monotonic() - started < 3
    assert note["text"] == wording.SLACK_BUSY
    assert len(fake_slack.calls_to("chat.postMessage")) == 1  # no day-long wait, no retry
    # The draft is not lost: the next click posts it.
    await bot.interact(button("post", draft_id, url))
    _, done = await responses(fake_slack, url, 2)
    assert done["text"] == wording.POSTED.format(channel="C0001")
    no_tracebacks(caplog)


# ------------------------------------------------------------------ budgets


@pytest.mark.parametrize(
    "amount",
    ["1e400", "99999999999999999999", "1000000.01", "1e7", "NaN", "Infinity", "-5", "$-0.5"],
)
async def test_an_absurd_budget_gets_a_plain_refusal_with_the_allowed_range(
    bot: RunningBot, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture, amount: str
) -> None:
    reply = await bot.slash(f"budget <@U0ALEX|alex> {amount}", user_id="UADMIN1")
    [posted] = await responses(fake_slack, reply.response_url, 1)
    lowest, highest = usd_bounds()
    assert posted["text"] == wording.BUDGET_BAD_AMOUNT.format(
        lowest=lowest, highest=highest, command="/draft"
    )
    assert "$1,000,000.00" in posted["text"]
    assert bot.services.store.budget_override("U0ALEX") is None
    no_tracebacks(caplog)


def test_the_cli_refuses_an_absurd_budget_in_a_sentence(
    tmp_path: Path, env: dict[str, str]
) -> None:
    result = run(["budget", "set", "U0ALEX", "1e400"], {**env, **pythonpath()}, tmp_path)
    assert result.returncode == 2
    assert "from $0.00 to $1,000,000.00, not '1e400'" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_absurd_default_budget_setting_is_named_at_start(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({**env, "DRAFTBOT_USER_MONTHLY_BUDGET_USD": "1e400"})
    report = caught.value.report()
    assert "DRAFTBOT_USER_MONTHLY_BUDGET_USD" in report and "$1,000,000.00" in report


async def test_the_largest_allowed_budget_is_set(bot: RunningBot, fake_slack: FakeSlack) -> None:
    reply = await bot.slash("budget <@U0ALEX|alex> $1000000", user_id="UADMIN1")
    [posted] = await responses(fake_slack, reply.response_url, 1)
    assert posted["text"].startswith("<@U0ALEX>'s monthly Draftbot budget is now $1,000,000.00")
    assert bot.services.store.budget_override("U0ALEX") == 1_000_000 * 10**9


# ------------------------------------------------------------------ Slack rate limits


async def test_reading_a_thread_rate_limited_three_times_says_slack_is_busy(
    bot: RunningBot,
    fake_anthropic: FakeAnthropic,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    seed_thread(fake_slack)
    fake_slack.fail("conversations.replies", "ratelimited", times=3, headers={"Retry-After": "0"})
    reply = await bot.slash(f"summary {LINK}")
    [said] = await responses(fake_slack, reply.response_url, 1)
    assert said["text"] == wording.SLACK_BUSY
    assert len(fake_slack.calls_to("conversations.replies")) == 3  # Slack's rule, then words
    assert fake_anthropic.message_requests() == []
    no_tracebacks(caplog)

    # The shortcut says the same.
    fake_slack.fail("conversations.replies", "ratelimited", times=3, headers={"Retry-After": "0"})
    url = fake_slack.new_response_url()
    await bot.interact(shortcut(url))
    _, said = await responses(fake_slack, url, 2)
    assert said["text"] == wording.SLACK_BUSY
    assert fake_anthropic.message_requests() == []


async def test_a_budget_the_database_cannot_store_is_answered_not_silence(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    store = bot.services.store
    with store.lock:  # type: ignore[attr-defined]
        store.db.execute("pragma query_only = 1")  # type: ignore[attr-defined]
    try:
        reply = await bot.slash("budget <@U0ALEX|alex> 25", user_id="UADMIN1")
        [posted] = await responses(fake_slack, reply.response_url, 1)
    finally:
        with store.lock:  # type: ignore[attr-defined]
            store.db.execute("pragma query_only = 0")  # type: ignore[attr-defined]
    assert posted["text"] == wording.DATABASE_BUSY
    assert store.budget_override("U0ALEX") is None


async def test_a_channel_post_answered_500_is_never_repeated(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    """Slack may have posted before it answered 500: a second try would show the draft twice
    in the channel, in the person's name. (A DM fallback that meets a 500 tries again:
    tests/abuse/test_fault_mix.py.)"""
    from slack_sdk.errors import SlackApiError

    from bot.services import build_slack_client

    client = build_slack_client(bot.services.settings)
    assert client is not None
    fake_slack.fail("chat.postMessage", "internal_error", status=500, times=3)
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel="C0TEAM", text="Posted draft")
    assert len(fake_slack.calls_to("chat.postMessage")) == 1, "a post is never repeated"
    fake_slack.add_user("U0001", "someone")
    fake_slack.fail("users.info", "internal_error", status=500)  # a read is retried
    await client.users_info(user="U0001")
    assert len(fake_slack.calls_to("users.info")) == 2
