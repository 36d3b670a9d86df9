"""Retries and failures: each ends with a plain-language message and a usage row."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot import wording
from tests.conftest import RunningBot
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.slack import FakeSlack

REQUEST = "email to Alex asking for a meeting about Q2 budget planning"


async def draft_and_wait(bot: RunningBot, fake_slack: FakeSlack) -> dict:
    reply = await bot.slash(REQUEST)
    assert reply.body["text"] == "Drafting your email…"
    [posted] = await asyncio.to_thread(fake_slack.wait_for_responses, reply.response_url, 1, 15.0)
    return posted


@pytest.mark.parametrize(
    "failure",
    [
        Reply(status=429, headers={"retry-after-ms": "50"}),
        Reply(status=529),
        Reply(status=500),
        Reply(status=503),
        Reply(status=408),
        Reply(status=409),
        Reply(drop_connection=True),
        Reply(stream_error_after_chunks=0, error_type="overloaded_error"),
    ],
    ids=["429", "529", "500", "503", "408", "409", "dropped", "stream-overloaded"],
)
async def test_transient_failures_are_retried_and_the_draft_arrives(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack, failure: Reply
) -> None:
    fake_anthropic.script(failure, Reply(text="Hi Alex, shall we meet on Tuesday?"))
    posted = await draft_and_wait(bot, fake_slack)
    assert posted["blocks"][0]["text"] == "Hi Alex, shall we meet on Tuesday?"
    assert len(fake_anthropic.message_requests()) == 2
    [row] = bot.usage_rows(status="ok")
    assert row["attempts"] == 2


async def test_retry_after_is_honoured(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(Reply(status=429, headers={"retry-after": "1"}), Reply())
    await draft_and_wait(bot, fake_slack)
    first, second = fake_anthropic.message_requests()
    assert second.received_at - first.received_at >= 0.95


async def test_a_stream_cut_mid_way_is_retried_and_both_attempts_are_logged(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(
        Reply(text="Hi Alex, this will be cut " * 10, drop_after_chunks=2), Reply(text="Hi Alex!")
    )
    posted = await draft_and_wait(bot, fake_slack)
    assert posted["blocks"][0]["text"] == "Hi Alex!"
    interrupted, ok = bot.usage_rows()
    assert interrupted["status"] == "error" and interrupted["error"].startswith("interrupted")
    assert interrupted["cache_creation_input_tokens"] + interrupted["input_tokens"] > 0
    assert ok["status"] == "ok"


@pytest.mark.parametrize(
    ("failure", "message", "category"),
    [
        (Reply(status=529), wording.BUSY, "busy"),
        (Reply(status=429, headers={"retry-after-ms": "10"}), wording.BUSY, "busy"),
        (Reply(status=500), wording.UNAVAILABLE, "unavailable"),
        (Reply(drop_connection=True), wording.UNAVAILABLE, "unavailable"),
    ],
    ids=["overloaded", "rate-limited", "server-error", "unreachable"],
)
async def test_persistent_transient_failures_give_up_with_a_friendly_message(
    bot: RunningBot,
    fake_anthropic: FakeAnthropic,
    fake_slack: FakeSlack,
    failure: Reply,
    message: str,
    category: str,
) -> None:
    fake_anthropic.default = failure
    posted = await draft_and_wait(bot, fake_slack)
    assert posted["text"] == message
    assert posted["replace_original"] is True
    assert (
        len(fake_anthropic.message_requests())
        == bot.services.drafter.model_client.policy.max_attempts
    )
    [row] = bot.usage_rows()
    assert row["status"] == "error" and row["error"].startswith(category)
    assert row["attempts"] == 4


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (Reply(status=401), wording.MISCONFIGURED),
        (Reply(status=403), wording.MISCONFIGURED),
        (Reply(status=404, error_type="not_found_error"), wording.MISCONFIGURED),
        (
            Reply(status=400, error_message="messages: text content blocks must be non-empty"),
            wording.REJECTED,
        ),
        (
            Reply(status=400, error_message="prompt is too long: 210000 tokens > 200000 maximum"),
            wording.TOO_LONG,
        ),
        (Reply(status=413), wording.TOO_LONG),
        (Reply(status=529, headers={"x-should-retry": "false"}), wording.BUSY),
        (Reply(status=429, headers={"retry-after": "120"}), wording.BUSY),
    ],
    ids=["401", "403", "404", "400", "400-too-long", "413", "should-retry-false", "long-wait"],
)
async def test_failures_that_retrying_cannot_fix_are_not_retried(
    bot: RunningBot,
    fake_anthropic: FakeAnthropic,
    fake_slack: FakeSlack,
    failure: Reply,
    message: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_anthropic.default = failure
    with caplog.at_level(logging.ERROR, logger="bot.drafting"):
        posted = await draft_and_wait(bot, fake_slack)
    assert posted["text"] == message
    assert len(fake_anthropic.message_requests()) == 1
    [row] = bot.usage_rows()
    assert row["status"] == "error" and row["request_id"].startswith("req_")
    # The admin's log line carries the request id and the status; the user sees neither.
    [line] = [r for r in caplog.records if r.getMessage() == "draft failed"]
    fields = line.fields  # type: ignore[attr-defined]
    assert fields["request_id"] == row["request_id"]
    assert fields["status"] == failure.status
    assert "status" not in posted["text"] and "Error" not in posted["text"]
    assert row["request_id"] in str(posted["blocks"])  # as a reference for the admin


async def test_wrong_model_id_is_a_setup_problem(
    env: dict[str, str], fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    from bot.config import load_settings
    from bot.drafting import DraftFailed, DraftRequest
    from bot.services import build_services

    services = build_services(load_settings({**env, "DRAFTBOT_MODEL": "claude-sonnet-9"}))
    kind = services.library.find("email")
    assert kind is not None
    with pytest.raises(DraftFailed) as caught:
        await services.drafter.draft(DraftRequest(kind=kind, text="hi", user_id="U1", source="t"))
    assert caught.value.user_message == wording.MISCONFIGURED
    [row] = services.store.usage_rows()
    assert row["model"] == "claude-sonnet-9" and "NotFoundError" in row["error"]
    await services.aclose()
