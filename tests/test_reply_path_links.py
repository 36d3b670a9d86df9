"""Issue 9, items 6 and 7: summaries of Slack conversations, from the message shortcut and
from links in `/draft`. The person is told when a long thread was trimmed to fit, and a
link that leads nowhere gets a plain answer instead of a model call.

Wire-level: what the fake Slack received, what the fake Anthropic received, usage rows.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

import pytest

from tests.conftest import RunningBot
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.slack import FakeSlack

CHANNEL = "C0PROJ"
PARENT_TS = "1700000000.000100"
SUMMARY = "**TL;DR:** The vendor moved delivery to Tuesday; room 4B is booked."


async def settle(
    bot: RunningBot,
    fake_slack: FakeSlack,
    fake_anthropic: FakeAnthropic,
    quiet: float = 0.5,
    timeout: float = 15.0,  # noqa: ASYNC109
) -> None:
    """Until no draft is in flight and neither fake has heard anything for `quiet` s."""

    def activity() -> tuple[int, ...]:
        return (
            len(fake_slack.calls),
            len(fake_slack.response_attempts),
            len(fake_anthropic.requests),
            bot.services.in_flight.count,
        )

    deadline = time.monotonic() + timeout
    last, since = activity(), time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        now = activity()
        if now != last:
            last, since = now, time.monotonic()
        elif now[3] == 0 and time.monotonic() - since >= quiet:
            return
    raise AssertionError(f"Draftbot was still busy after {timeout} s")


def seed_thread(fake_slack: FakeSlack, replies: int, words: int = 40) -> None:
    """A thread in CHANNEL: the parent and `replies` replies of about 8 × `words` chars."""
    fake_slack.add_user("U0PRIYA", "priya", display_name="Priya")
    fake_slack.add_user("U0TOM", "tom", display_name="Tom")
    filler = " ".join(["update"] * words)
    fake_slack.add_messages(
        CHANNEL,
        [{"ts": PARENT_TS, "user": "U0PRIYA", "text": "The vendor moved delivery to Tuesday."}]
        + [
            {
                "ts": f"1700000000.{200 + i:06d}",
                "user": "U0TOM" if i % 2 == 0 else "U0PRIYA",
                "text": f"Reply {i}: {filler}",
            }
            for i in range(replies)
        ],
        thread_ts=PARENT_TS,
    )


def shortcut(response_url: str) -> dict[str, Any]:
    return {
        "type": "message_action",
        "callback_id": "summarize_thread",
        "trigger_id": "555.666.ghi",
        "response_url": response_url,
        "team": {"id": "T0001", "domain": "acme"},
        "channel": {"id": CHANNEL, "name": "project"},
        "user": {"id": "U0001", "name": "alex"},
        "message_ts": PARENT_TS,
        "message": {"type": "message", "ts": PARENT_TS, "thread_ts": PARENT_TS, "user": "U0PRIYA"},
    }


def notes_of(message: dict[str, Any]) -> str:
    """Everything a preview says besides the draft itself (SUMMARY)."""
    return json.dumps(message).replace(json.dumps(SUMMARY)[1:-1], "")


def told(reply_text: str, posts: list[dict[str, Any]]) -> str:
    return " ".join([reply_text, *(json.dumps(p) for p in posts)])


# ============================================================ item 6: trimmed threads


@pytest.mark.parametrize("how", ["shortcut", "link"])
async def test_a_long_thread_trimmed_to_fit_is_announced_on_the_preview(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack, how: str
) -> None:
    seed_thread(fake_slack, replies=1_339)  # 1,340 messages of ~330 characters: > 30,000 tokens
    fake_anthropic.script(Reply(text=SUMMARY))
    if how == "shortcut":
        url = fake_slack.new_response_url()
        status, _ = await bot.interact(shortcut(url))
        assert status == 200
    else:
        link = f"https://acme.slack.com/archives/{CHANNEL}/p{PARENT_TS.replace('.', '')}"
        url = (await bot.slash(f"summary <{link}>", channel_id="C0HERE")).response_url
    await settle(bot, fake_slack, fake_anthropic)

    [request] = fake_anthropic.message_requests()
    assert request.body is not None
    prompt = request.body["messages"][0]["content"]
    assert "left out" in prompt  # the transcript was trimmed (bot/threads.py `_fit`)
    assert "Reply 1338:" in prompt and "Reply 0:" not in prompt

    previews = [p for p in fake_slack.responses(url) if SUMMARY in json.dumps(p)]
    assert previews, f"no summary arrived: {fake_slack.responses(url)!r:.500}"
    preview = previews[-1]
    assert any(b.get("type") == "actions" for b in preview["blocks"])
    notes = notes_of(preview)
    assert "1,340" in notes, f"the preview does not say how long the thread is: {notes:.600}"
    assert re.search(r"left out|omitted|skipped|not included|trimmed|older", notes, re.I)
    assert len(bot.usage_rows()) == 1


async def test_a_thread_that_fits_gets_no_trimming_note(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    seed_thread(fake_slack, replies=20)
    fake_anthropic.script(Reply(text=SUMMARY))
    url = fake_slack.new_response_url()
    await bot.interact(shortcut(url))
    await settle(bot, fake_slack, fake_anthropic)
    [preview] = [p for p in fake_slack.responses(url) if SUMMARY in json.dumps(p)]
    assert not re.search(r"left out|omitted|skipped|not included|trimmed", notes_of(preview), re.I)


# ============================================================ item 7: links that lead nowhere


@pytest.mark.parametrize(
    "link",
    [
        "https://acme.slack.com/archives/C0123ABC/p17",
        "<https://acme.slack.com/archives/C0123ABC/p17>",  # as Slack escapes it (should_escape)
    ],
)
async def test_a_slack_link_that_is_not_a_message_link_gets_a_plain_answer_and_no_model_call(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack, link: str
) -> None:
    reply = await bot.slash(f"summary of {link}")
    assert reply.status == 200
    await settle(bot, fake_slack, fake_anthropic)
    assert fake_anthropic.message_requests() == [], "the broken link was sent to Claude"
    assert bot.usage_rows() == []
    said = told(str(reply.body.get("text", "")), fake_slack.responses(reply.response_url))
    assert re.search(r"\blink\b|\burl\b", said, re.I), f"nothing about the link: {said:.400}"


async def test_a_link_to_a_reply_that_does_not_exist_gets_a_plain_answer_and_no_model_call(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    seed_thread(fake_slack, replies=3)  # replies ...000200 to ...000202; ...009999 is not one
    link = (
        f"https://acme.slack.com/archives/{CHANNEL}/p1700000000009999"
        f"?thread_ts={PARENT_TS}&amp;cid={CHANNEL}"
    )
    reply = await bot.slash(f"summary <{link}>")
    await settle(bot, fake_slack, fake_anthropic)
    assert fake_anthropic.message_requests() == [], "a link to nothing was summarised"
    assert bot.usage_rows() == []
    said = told(str(reply.body.get("text", "")), fake_slack.responses(reply.response_url))
    assert re.search(r"\blink\b|\burl\b", said, re.I), f"nothing about the link: {said:.400}"


async def test_a_link_to_a_message_that_does_not_exist_gets_a_plain_answer_and_no_model_call(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    seed_thread(fake_slack, replies=3)
    link = f"https://acme.slack.com/archives/{CHANNEL}/p1700000099000100"
    reply = await bot.slash(f"summary <{link}>")
    await settle(bot, fake_slack, fake_anthropic)
    assert fake_anthropic.message_requests() == []
    assert bot.usage_rows() == []
    said = told(str(reply.body.get("text", "")), fake_slack.responses(reply.response_url))
    assert re.search(r"\blink\b|\burl\b", said, re.I), f"nothing about the link: {said:.400}"
