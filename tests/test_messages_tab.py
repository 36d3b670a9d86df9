"""Writing to Draftbot in its Messages tab: the draft streams in, then gets the preview buttons."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.conftest import RunningBot
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.slack import FakeSlack


def dm(text: str, ts: str = "1700000001.000100") -> dict[str, Any]:
    return {
        "type": "message",
        "channel": "D0ALEX",
        "channel_type": "im",
        "user": "U0001",
        "text": text,
        "ts": ts,
        "team": "T0001",
    }


async def finished_stream(fake_slack: FakeSlack) -> dict[str, Any]:
    def done(fake: FakeSlack) -> bool:
        return any(s["state"] == "completed" for s in fake.streams)

    assert await asyncio.to_thread(fake_slack.wait_for, done, 10.0)
    [stream] = fake_slack.streams
    return stream


async def test_draft_streams_in_with_a_working_status_then_buttons(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    text = "Hi Alex, could we meet on Tuesday to plan the Q2 budget? Thanks, Sam"
    fake_anthropic.default = Reply(text=text, delay=0.2, chunk_size=8, chunk_delay=0.05)
    assert await bot.event(dm("draft an email to Alex about the Q2 budget")) == 200

    stream = await finished_stream(fake_slack)
    assert stream["text"] == text
    assert (stream["channel"], stream["thread_ts"]) == ("D0ALEX", "1700000001.000100")
    assert stream["recipient_user_id"] == "U0001"
    start = fake_slack.calls_to("chat.startStream")[0]
    assert "in_progress" in json.dumps(start.args)  # "Drafting your email…" at once
    stop = fake_slack.calls_to("chat.stopStream")[0]
    assert "complete" in json.dumps(stop.args)
    actions = [b for b in stream["blocks"] if b["type"] == "actions"]
    assert actions and actions[0]["elements"][0]["action_id"] == "draft_post"

    # Words appear as they are written: the first arrives long before the last.
    appends = fake_slack.calls_to("chat.appendStream")
    first_words = next(c for c in [start, *appends] if "Hi Alex" in json.dumps(c.args))
    assert stop.received_at - first_words.received_at > 0.3
    assert bot.usage_rows()[0]["source"] == "dm"


async def test_streamed_text_never_pings_even_when_a_mention_is_split(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(
        text="Team <!here> and <!channel>: lunch at noon @here", chunk_size=3
    )
    await bot.event(dm("message to the team about lunch"))
    stream = await finished_stream(fake_slack)
    sent = json.dumps([c.args for c in fake_slack.calls if "Stream" in c.method])
    assert "<!" not in sent and "@here" not in stream["text"]
    assert "lunch at noon" in stream["text"]


async def test_a_redelivered_event_is_answered_once(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    await bot.event(dm("email to Alex about the offsite"))
    await bot.event(dm("email to Alex about the offsite"), retry_num=1)
    await finished_stream(fake_slack)
    await asyncio.sleep(0.2)
    assert len(fake_anthropic.message_requests()) == 1


async def test_if_slack_refuses_the_stream_the_draft_still_arrives(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("chat.startStream", error="not_allowed")
    fake_anthropic.default = Reply(text="Hi Alex, see you Tuesday.")
    await bot.event(dm("email to Alex"))
    assert await asyncio.to_thread(
        fake_slack.wait_for, lambda f: f.calls_to("chat.postMessage"), 10.0
    )
    [post] = fake_slack.calls_to("chat.postMessage")
    assert post.args["thread_ts"] == "1700000001.000100"
    assert "Hi Alex, see you Tuesday." in json.dumps(post.args["blocks"])
    assert "draft_post" in json.dumps(post.args["blocks"])


async def test_a_retried_model_call_replaces_the_half_streamed_text(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(
        Reply(text="First attempt that breaks off " * 5, chunk_size=10, drop_after_chunks=3),
        Reply(text="The complete draft."),
    )
    await bot.event(dm("email to Alex"))
    assert await asyncio.to_thread(fake_slack.wait_for, lambda f: f.calls_to("chat.update"), 10.0)
    [update] = fake_slack.calls_to("chat.update")
    assert "The complete draft." in json.dumps(update.args["blocks"])
    assert "First attempt" not in json.dumps(update.args["blocks"])


async def test_posting_a_dm_draft_asks_where_to_post(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    from tests.test_previews import button, view_submission

    await bot.event(dm("message to the team about lunch"))
    stream = await finished_stream(fake_slack)
    actions = next(b for b in stream["blocks"] if b["type"] == "actions")
    draft_id = actions["elements"][0]["value"]
    url = fake_slack.new_response_url()
    await bot.interact(button("post", draft_id, url))
    assert await asyncio.to_thread(fake_slack.wait_for, lambda f: f.calls_to("views.open"), 5.0)
    view = fake_slack.calls_to("views.open")[0].args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == "draft_choose_channel"
    values = {"channel": {"value": {"selected_conversation": "C0TEAM"}}}
    _, body = await bot.interact(
        view_submission("draft_choose_channel", view["private_metadata"], values)
    )
    assert body == {}
    [post] = fake_slack.calls_to("chat.postMessage")
    assert post.args["channel"] == "C0TEAM"


async def test_help_in_the_messages_tab(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    await bot.event(dm("help"))
    assert await asyncio.to_thread(
        fake_slack.wait_for, lambda f: f.calls_to("chat.postMessage"), 5.0
    )
    [post] = fake_slack.calls_to("chat.postMessage")
    assert "/draft email to Alex" in post.args["text"]
    assert fake_anthropic.message_requests() == []


async def test_the_bots_own_messages_are_ignored(
    bot: RunningBot, fake_anthropic: FakeAnthropic
) -> None:
    await bot.event({**dm("Here is your draft."), "bot_id": "B0001", "subtype": "bot_message"})
    await asyncio.sleep(0.2)
    assert fake_anthropic.message_requests() == []


async def test_a_dm_draft_cannot_be_posted_where_the_person_is_not_a_member(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    from tests.test_previews import button, view_submission

    await bot.event(dm("message to the team about lunch"))
    stream = await finished_stream(fake_slack)
    draft_id = next(b for b in stream["blocks"] if b["type"] == "actions")["elements"][0]["value"]
    await bot.interact(button("post", draft_id, fake_slack.new_response_url()))
    assert await asyncio.to_thread(fake_slack.wait_for, lambda f: f.calls_to("views.open"), 5.0)
    view = fake_slack.calls_to("views.open")[0].args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    fake_slack.channel_members["C0ANNOUNCE"] = {"U0BOSS"}
    values = {"channel": {"value": {"selected_conversation": "C0ANNOUNCE"}}}
    _, body = await bot.interact(
        view_submission("draft_choose_channel", view["private_metadata"], values)
    )
    assert body["response_action"] == "errors"
    assert "member of" in body["errors"]["channel"]
    assert fake_slack.calls_to("chat.postMessage") == []
