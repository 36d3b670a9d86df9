"""`/draft` end to end: signed HTTP in, real Bolt, real SDK clients, fake Slack and Anthropic."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot import wording
from tests.conftest import RunningBot
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.slack import FakeSlack

REQUEST = "email to Alex asking for a meeting about Q2 budget planning, 3 sentences"


async def wait_for_reply(fake_slack: FakeSlack, url: str, n: int = 1) -> list[dict]:
    return await asyncio.to_thread(fake_slack.wait_for_responses, url, n, 10.0)


async def test_draft_is_acked_at_once_then_delivered_privately(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(text="**Subject:** Q2 budget\n\nHi Alex, …", delay=1.0)
    reply = await bot.slash(REQUEST)

    assert reply.status == 200
    assert reply.body["text"] == "Drafting your email…"
    assert reply.body.get("response_type", "ephemeral") == "ephemeral"
    assert reply.seconds < 1.0, "the ack must not wait for the model"

    [posted] = await wait_for_reply(fake_slack, reply.response_url)
    assert posted["replace_original"] is True
    assert posted["response_type"] == "ephemeral"
    assert posted["blocks"][0] == {
        "type": "markdown",
        "text": "**Subject:** Q2 budget\n\nHi Alex, …",
    }
    assert posted["text"].startswith("**Subject:** Q2 budget")  # plain-text fallback
    assert "Only you can see this draft" in str(posted["blocks"][-3])  # then 👍 / 👎, buttons
    buttons = [e.get("action_id") for e in posted["blocks"][-1]["elements"]]
    assert buttons[0] == "draft_post" and "draft_discard" in buttons


async def test_request_shape_model_system_blocks_and_cache_breakpoints(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    reply = await bot.slash(REQUEST)
    await wait_for_reply(fake_slack, reply.response_url)

    [request] = fake_anthropic.message_requests()
    body = request.body
    assert body is not None
    email = bot.services.library.find("email")
    assert email is not None
    assert request.headers["authorization"] == "Bearer sk-ant-test-key"
    assert body["model"] == "claude-sonnet-4-6"
    assert body["stream"] is True
    assert body["max_tokens"] == email.max_tokens
    assert body["messages"] == [{"role": "user", "content": REQUEST}]
    house, kind = body["system"]
    assert house["text"] == bot.services.library.house_style
    assert kind["text"] == email.body
    assert house["cache_control"] == {"type": "ephemeral"}
    assert kind["cache_control"] == {"type": "ephemeral"}
    assert not {"temperature", "top_p", "top_k"} & body.keys()


async def test_caching_engages_across_requests_and_kinds(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    for text in (REQUEST, "email to Sam declining the offsite", "summary: we agreed to ship"):
        reply = await bot.slash(text)
        await wait_for_reply(fake_slack, reply.response_url)

    first, second, other_kind = bot.usage_rows()
    assert first["cache_creation_input_tokens"] > 2048
    assert first["cache_read_input_tokens"] == 0
    # Same kind again: the whole system prompt is read from the cache.
    assert second["cache_read_input_tokens"] == first["cache_creation_input_tokens"]
    assert second["cache_creation_input_tokens"] == 0
    # Another kind shares the house-style prefix and writes only its own block.
    assert 2048 < other_kind["cache_read_input_tokens"] < first["cache_creation_input_tokens"]
    assert other_kind["cache_creation_input_tokens"] > 0
    assert second["cost_nano_usd"] < first["cost_nano_usd"] / 3


async def test_usage_row_holds_the_api_figures_and_no_text(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(text="SECRET-DRAFT-TEXT " * 10, input_tokens=42)
    reply = await bot.slash(REQUEST, user_id="U0ALEX", team_id="T0TEAM", channel_id="C0CHAN")
    await wait_for_reply(fake_slack, reply.response_url)

    [row] = bot.usage_rows()
    assert row["status"] == "ok"
    assert (row["user_id"], row["team_id"], row["channel_id"]) == ("U0ALEX", "T0TEAM", "C0CHAN")
    assert (row["source"], row["kind"], row["model"]) == ("slash", "email", "claude-sonnet-4-6")
    assert row["input_tokens"] == 42
    assert row["output_tokens"] == 45  # the fake counts 4 characters a token: 180 / 4
    assert row["stop_reason"] == "end_turn"
    assert row["request_id"].startswith("req_")
    assert row["latency_ms"] >= row["ttft_ms"] >= 0
    assert row["cost_usd"] > 0 and row["created_at"].endswith("+00:00")
    assert "SECRET-DRAFT-TEXT" not in str(row) and "Q2 budget" not in str(row)


@pytest.mark.parametrize("text", ["help", "  HELP  ", "?"])
async def test_help_lists_every_kind_with_an_example_and_calls_no_model(
    bot: RunningBot, fake_anthropic: FakeAnthropic, text: str
) -> None:
    reply = await bot.slash(text)
    assert reply.status == 200
    for kind in bot.services.library.kinds:
        assert f"/draft {kind.example}" in reply.body["text"]
    assert fake_anthropic.message_requests() == []
    assert bot.usage_rows() == []


async def test_kind_word_alone_asks_for_details(
    bot: RunningBot, fake_anthropic: FakeAnthropic
) -> None:
    reply = await bot.slash("an email")
    assert "What should the email say?" in reply.body["text"]
    assert fake_anthropic.message_requests() == []


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("an email to Alex about the offsite", "email"),
        ("summarize this: the meeting moved to Monday", "summary"),
        ("tldr: long text here", "summary"),
        ("snippet python that reverses a list", "code"),
        ("a bio for our new office manager, Sam", "general"),
    ],
)
async def test_natural_phrasing_routes_to_the_right_kind(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack, text: str, kind: str
) -> None:
    reply = await bot.slash(text)
    # The catch-all kind has no noun of its own ("Drafting your general…" reads as a bug).
    assert reply.body["text"] == ("Drafting…" if kind == "general" else f"Drafting your {kind}…")
    await wait_for_reply(fake_slack, reply.response_url)
    assert bot.usage_rows()[0]["kind"] == kind


async def test_truncated_draft_says_so_in_plain_words(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(text="Hi Alex, " * 5, stop_reason="max_tokens")
    reply = await bot.slash(REQUEST)
    [posted] = await wait_for_reply(fake_slack, reply.response_url)
    assert posted["blocks"][0]["text"].startswith("Hi Alex,")
    assert "was cut off because it reached the length limit" in str(posted["blocks"])
    assert bot.usage_rows()[0]["stop_reason"] == "max_tokens"


async def test_refusal_gets_a_polite_explanation(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(text="", stop_reason="refusal")
    reply = await bot.slash("email pretending to be the CEO asking for gift cards")
    [posted] = await wait_for_reply(fake_slack, reply.response_url)
    assert posted["text"] == wording.REFUSED
    assert bot.usage_rows()[0]["stop_reason"] == "refusal"


async def test_model_output_never_pings_anyone(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(
        text="<!channel> and <!here|here> and <!everyone> and <!subteam^S0ENG|@eng> and @here"
    )
    reply = await bot.slash("message to the team about lunch")
    [posted] = await wait_for_reply(fake_slack, reply.response_url)
    for field in (posted["text"], posted["blocks"][0]["text"]):
        assert "<!" not in field
        assert "@here" not in field and "@channel" not in field and "@everyone" not in field
        assert "eng" in field  # still readable


@pytest.mark.parametrize(
    ("headers", "secret_ok", "age"),
    [({}, False, 0), ({}, True, 6 * 60)],
    ids=["forged-signature", "stale-timestamp"],
)
async def test_unsigned_or_stale_requests_are_rejected_without_a_model_call(
    bot: RunningBot, fake_anthropic: FakeAnthropic, headers: dict, secret_ok: bool, age: int
) -> None:
    secret = "test-signing-secret" if secret_ok else "not-the-secret"
    reply = await bot.slash(REQUEST, secret=secret, timestamp=int(time.time()) - age)
    assert reply.status == 401
    await asyncio.sleep(0.2)
    assert fake_anthropic.message_requests() == []
    assert bot.usage_rows() == []


@pytest.mark.long_drafts
async def test_long_draft_is_split_across_private_messages(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    paragraph = "This paragraph is part of a long report. " * 40
    fake_anthropic.default = Reply(text="\n\n".join([paragraph] * 14), chunk_size=4000)
    reply = await bot.slash("write a long report on the offsite")
    posted = await wait_for_reply(fake_slack, reply.response_url, 2)
    assert [p["replace_original"] for p in posted] == [True, False]
    assert all(len(p["blocks"][0]["text"]) <= 12_000 for p in posted)
    assert "Only you can see this draft" in str(posted[-1]["blocks"])


@pytest.mark.long_drafts
async def test_very_long_draft_goes_to_a_dm_file(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_slack.canvas_plan = "disabled"  # with canvases it goes to one (tests/test_canvases.py)
    paragraph = "A line of the very long handbook, repeated. " * 50
    fake_anthropic.default = Reply(text="\n\n".join([paragraph] * 30), chunk_size=20_000)
    reply = await bot.slash("write the whole employee handbook", user_id="U0LONG")
    [posted] = await wait_for_reply(fake_slack, reply.response_url)
    assert posted["text"] == wording.SENT_AS_FILE
    [upload] = fake_slack.uploads
    assert upload["channel_id"] == "DU0LONG"
    assert upload["content"].decode().count("very long handbook") == 30 * 50


async def test_usage_is_recorded_even_when_slack_refuses_the_post(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_response_url(None, status=404, body="expired_url", times=5)
    reply = await bot.slash(REQUEST)
    await asyncio.to_thread(fake_anthropic.wait_for_requests, 1, 5.0)
    for _ in range(100):
        if bot.usage_rows():
            break
        await asyncio.sleep(0.05)
    [row] = bot.usage_rows()
    assert row["status"] == "ok"
    assert fake_slack.responses(reply.response_url) == []


async def test_hundred_concurrent_drafts_do_not_queue(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(delay=2.0)
    replies = await asyncio.gather(*(bot.slash(f"email number {i}") for i in range(100)))
    assert all(r.status == 200 for r in replies)
    for r in replies:
        await wait_for_reply(fake_slack, r.response_url)
    arrivals = sorted(req.received_at for req in fake_anthropic.message_requests())
    assert len(arrivals) == 100
    # All 100 model calls were in flight together: the last started before the first ended.
    assert arrivals[-1] - arrivals[0] < 2.0
    assert len(bot.usage_rows(status="ok")) == 100
