"""Summarize a Slack conversation from the message shortcut or from a link."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.conftest import RunningBot
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.slack import FakeSlack
from tests.test_previews import button

PARENT_TS = "1700000000.000100"


def seed_thread(fake_slack: FakeSlack, channel: str = "C0PROJ", replies: int = 3) -> None:
    fake_slack.add_user("U0PRIYA", "priya", display_name="Priya")
    fake_slack.add_user("U0TOM", "tom", display_name="Tom")
    fake_slack.add_messages(
        channel,
        [{"ts": PARENT_TS, "user": "U0PRIYA", "text": "The vendor moved delivery to Tuesday."}]
        + [
            {
                "ts": f"1700000000.{200 + i:06d}",
                "user": "U0TOM" if i % 2 == 0 else "U0PRIYA",
                "text": f"Reply {i}: <@U0PRIYA> can facilities clear room 4B? <!here>",
            }
            for i in range(replies)
        ],
        thread_ts=PARENT_TS,
    )


def shortcut(response_url: str, channel: str = "C0PROJ", ts: str = PARENT_TS) -> dict[str, Any]:
    return {
        "type": "message_action",
        "callback_id": "summarize_thread",
        "trigger_id": "555.666.ghi",
        "response_url": response_url,
        "team": {"id": "T0001", "domain": "acme"},
        "channel": {"id": channel, "name": "project"},
        "user": {"id": "U0001", "name": "alex"},
        "message_ts": ts,
        "message": {"type": "message", "ts": ts, "thread_ts": PARENT_TS, "user": "U0PRIYA"},
    }


async def wait(fake_slack: FakeSlack, url: str, n: int) -> list[dict[str, Any]]:
    return await asyncio.to_thread(fake_slack.wait_for_responses, url, n, 10.0)


async def test_shortcut_summarizes_the_thread_privately_with_names(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    seed_thread(fake_slack)
    fake_anthropic.default = Reply(text="**TL;DR:** Delivery moved to Tuesday.")
    url = fake_slack.new_response_url()
    status, _ = await bot.interact(shortcut(url))
    assert status == 200
    reading, working, preview = await wait(fake_slack, url, 3)
    assert reading["text"] == "Reading the conversation…"
    assert working["text"] == "Drafting your summary…"
    assert preview["blocks"][0]["text"] == "**TL;DR:** Delivery moved to Tuesday."
    assert preview["blocks"][-1]["type"] == "actions"  # the same preview buttons

    [request] = fake_anthropic.message_requests()
    assert request.body is not None
    prompt = request.body["messages"][0]["content"]
    assert "Priya" in prompt and "Tom" in prompt and "U0PRIYA" not in prompt
    assert "The vendor moved delivery to Tuesday." in prompt and "Reply 2" in prompt
    assert "<!here>" not in prompt
    assert request.body["system"][1]["text"] == bot.services.library.find("summary").body  # type: ignore[union-attr]
    assert bot.usage_rows()[0]["source"] == "shortcut"


async def test_a_link_in_draft_summary_does_the_same(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    seed_thread(fake_slack)
    link = "https://acme.slack.com/archives/C0PROJ/p1700000000000201?thread_ts=1700000000.000100&amp;cid=C0PROJ"
    reply = await bot.slash(f"summary <{link}>", channel_id="C0HERE")
    assert reply.body["text"] == "Reading the conversation…"
    working, preview = await wait(fake_slack, reply.response_url, 2)
    assert working["text"] == "Drafting your summary…"
    assert preview["blocks"][-1]["type"] == "actions"
    [request] = fake_anthropic.message_requests()
    assert request.body is not None
    assert "The vendor moved delivery to Tuesday." in request.body["messages"][0]["content"]
    draft = bot.services.store.get_draft(preview["blocks"][-1]["elements"][0]["value"])
    assert draft is not None and draft["channel_id"] == "C0HERE"  # posts where /draft was typed


async def test_long_threads_are_fetched_fully_across_pages(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    seed_thread(fake_slack, replies=450)
    url = fake_slack.new_response_url()
    await bot.interact(shortcut(url))
    await wait(fake_slack, url, 3)
    assert len(fake_slack.calls_to("conversations.replies")) >= 3  # paginated
    [request] = fake_anthropic.message_requests()
    assert request.body is not None
    prompt = request.body["messages"][0]["content"]
    # 451 messages fit the token budget, so all arrive (trimming: tests/test_threads.py).
    assert "Reply 0:" in prompt and "Reply 449:" in prompt and "left out" not in prompt


async def test_a_channel_the_bot_cannot_read_gets_clear_instructions(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("conversations.replies", error="not_in_channel")
    url = fake_slack.new_response_url()
    await bot.interact(shortcut(url, channel="C0SECRET"))
    _, problem = await wait(fake_slack, url, 2)
    assert "/invite @Draftbot" in problem["text"] and "<#C0SECRET>" in problem["text"]
    assert fake_anthropic.message_requests() == []


async def test_a_bad_link_is_treated_as_plain_text(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    reply = await bot.slash("summary https://example.com/archives/C0PROJ/p1700000000000201")
    assert reply.body["text"] == "Drafting your summary…"
    assert fake_slack.calls_to("conversations.replies") == []


async def test_a_link_to_a_private_conversation_the_person_is_not_in_is_refused(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    seed_thread(fake_slack, channel="G0SECRET")
    fake_slack.channel_members["G0SECRET"] = {"U0PRIYA", "U0TOM"}
    link = "https://acme.slack.com/archives/G0SECRET/p1700000000000100"
    reply = await bot.slash(f"summary <{link}>", user_id="U0NOSY")
    [refusal] = await wait(fake_slack, reply.response_url, 1)
    assert "private conversation you're not in" in refusal["text"]
    assert fake_slack.calls_to("conversations.replies") == []
    assert fake_anthropic.message_requests() == []
    # A member may summarize it.
    fake_slack.channel_members["G0SECRET"].add("U0NOSY")
    reply = await bot.slash(f"summary <{link}>", user_id="U0NOSY")
    await wait(fake_slack, reply.response_url, 2)
    assert len(fake_anthropic.message_requests()) == 1


async def test_a_summary_keeps_where_the_conversation_is_not_its_text(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    seed_thread(fake_slack)
    fake_anthropic.default = Reply(text="**TL;DR:** Delivery moved to Tuesday.")
    url = fake_slack.new_response_url()
    await bot.interact(shortcut(url))
    *_, preview = await wait(fake_slack, url, 3)
    draft_id = preview["blocks"][-1]["elements"][0]["value"]
    stored = bot.services.store.get_draft(draft_id)
    assert stored is not None
    assert "vendor moved delivery" not in json.dumps(stored)  # no transcript in the database
    assert stored["source_ref"] == f"C0PROJ {PARENT_TS} {PARENT_TS}"

    # Shorter works on the draft alone; Regenerate reads the conversation again.
    for action, reads_again in (("shorter", False), ("regenerate", True)):
        replies_before = len(fake_slack.calls_to("conversations.replies"))
        click = fake_slack.new_response_url()
        await bot.interact(button(action, draft_id, click))
        await wait(fake_slack, click, 2)
        prompt = json.dumps(fake_anthropic.message_requests()[-1].body)
        assert ("vendor moved delivery" in prompt) is reads_again, action
        assert (len(fake_slack.calls_to("conversations.replies")) > replies_before) is reads_again
