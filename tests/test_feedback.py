"""👍 / 👎 under each draft: Slack's feedback buttons, or plain ones where Slack refuses them;
each click a `feedback` event with the draft's id, kind and version, never its text."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from bot import wording
from tests.conftest import RunningBot
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.slack import FakeSlack
from tests.test_previews import CLICKS, button, replies, start_draft, view_submission

SECRET = "The Zanzibar account is closing on Friday."


def feedback_of(message: dict[str, Any]) -> dict[str, Any]:
    [block] = [b for b in message["blocks"] if b.get("block_id") == "draft_feedback"]
    return block


def native_click(value: str, response_url: str, user: str = "U0001") -> dict[str, Any]:
    """What Slack sends when someone clicks one of the feedback buttons."""
    payload = button("feedback", "", response_url, user=user)
    click = next(CLICKS)
    payload["actions"] = [
        {
            "type": "feedback_buttons",
            "action_id": "draft_feedback",
            "block_id": "draft_feedback",
            "value": value,
            "action_ts": f"1700000000.{click:06d}",
        }
    ]
    return payload


def plain_click(side: str, value: str, response_url: str) -> dict[str, Any]:
    payload = button(f"feedback_{side}", "", response_url)
    payload["actions"][0]["value"] = value
    payload["actions"][0]["block_id"] = "draft_feedback"
    return payload


async def feedback_events(bot: RunningBot, count: int) -> list[dict[str, Any]]:
    store = bot.services.store

    def enough() -> bool:
        return len(store.draft_events(event="feedback")) >= count

    for _ in range(100):
        if enough():
            break
        await asyncio.sleep(0.05)
    return store.draft_events(event="feedback")


async def test_slacks_feedback_buttons_record_a_thumbs_up_with_kind_and_version(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(Reply(text=SECRET), Reply(text="Shorter: " + SECRET))
    draft_id, preview = await start_draft(bot, fake_slack)
    block = feedback_of(preview)
    assert block["type"] == "context_actions"
    [element] = block["elements"]
    assert element["type"] == "feedback_buttons"
    assert element["positive_button"]["value"] == f"up:{draft_id}"
    assert element["negative_button"]["value"] == f"down:{draft_id}"
    assert preview["blocks"][-1]["block_id"] == "draft_actions"  # the draft's buttons last

    url = fake_slack.new_response_url()
    await bot.interact(button("shorter", draft_id, url))
    [_, refined] = await replies(fake_slack, url, 2)
    assert feedback_of(refined)["elements"][0]["positive_button"]["value"] == f"up:{draft_id}"

    thanks_url = fake_slack.new_response_url()
    status, _ = await bot.interact(native_click(f"up:{draft_id}", thanks_url))
    assert status == 200
    [thanks] = await replies(fake_slack, thanks_url)
    assert thanks["text"] == wording.FEEDBACK_THANKS
    assert thanks.get("replace_original") is not True  # the draft stays on screen
    [event] = await feedback_events(bot, 1)
    assert (event["draft_id"], event["detail"], event["version"]) == (draft_id, "up", 2)
    assert event["kind"] and event["user_id"] == "U0001" and event["reason"] is None
    assert "Zanzibar" not in json.dumps(bot.services.store.draft_events())


async def test_thumbs_down_asks_for_an_optional_reason_kept_but_never_logged(
    bot: RunningBot, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    draft_id, _ = await start_draft(bot, fake_slack)
    with caplog.at_level(logging.DEBUG):
        await bot.interact(native_click(f"down:{draft_id}", fake_slack.new_response_url()))
        await asyncio.to_thread(fake_slack.wait_for, lambda f: f.calls_to("views.open"), 5.0)
        view = fake_slack.calls_to("views.open")[0].args["view"]
        view = json.loads(view) if isinstance(view, str) else view
        assert view["callback_id"] == "draft_feedback_reason"
        assert view["title"]["text"] == wording.FEEDBACK_REASON_TITLE
        [field] = view["blocks"]
        assert field["optional"] is True and field["element"]["multiline"] is False
        reason = "Too formal for\n the team channel"
        values = {"reason": {"value": {"type": "plain_text_input", "value": reason}}}
        status, body = await bot.interact(
            view_submission("draft_feedback_reason", view["private_metadata"], values)
        )
        assert status == 200 and body == {}
        events = await feedback_events(bot, 1)
    # The reason joins the 👎 it explains: one event, one rating.
    assert [(e["detail"], e["reason"]) for e in events] == [
        ("down", "Too formal for the team channel"),
    ]
    assert all(e["draft_id"] == draft_id and e["version"] == 1 for e in events)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Too formal" not in logged and f"feedback down on draft={draft_id}" in logged


async def test_a_thumbs_up_while_the_reason_form_is_open_stays_the_rating(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    draft_id, _ = await start_draft(bot, fake_slack)
    await bot.interact(native_click(f"down:{draft_id}", fake_slack.new_response_url()))
    await asyncio.to_thread(fake_slack.wait_for, lambda f: f.calls_to("views.open"), 5.0)
    await bot.interact(native_click(f"up:{draft_id}", fake_slack.new_response_url()))
    await feedback_events(bot, 2)
    metadata = json.dumps({"draft_id": draft_id})
    values = {"reason": {"value": {"type": "plain_text_input", "value": "too long"}}}
    await bot.interact(view_submission("draft_feedback_reason", metadata, values))
    await asyncio.sleep(0.3)
    events = await feedback_events(bot, 2)
    assert [(e["detail"], e["reason"]) for e in events] == [("down", "too long"), ("up", None)]
    outcome = bot.services.store._run(  # type: ignore[attr-defined]
        "select feedback from draft_outcomes where draft_id = ?", [draft_id]
    ).rows
    assert outcome == [("up",)]


async def test_an_empty_reason_adds_nothing_to_the_thumbs_down(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    draft_id, _ = await start_draft(bot, fake_slack)
    await bot.interact(native_click(f"down:{draft_id}", fake_slack.new_response_url()))
    await asyncio.to_thread(fake_slack.wait_for, lambda f: f.calls_to("views.open"), 5.0)
    metadata = json.dumps({"draft_id": draft_id})
    empty = {"reason": {"value": {"type": "plain_text_input", "value": None}}}
    await bot.interact(view_submission("draft_feedback_reason", metadata, empty))
    await asyncio.sleep(0.2)
    assert [e["detail"] for e in await feedback_events(bot, 1)] == ["down"]


async def test_someone_else_cannot_rate_a_draft(bot: RunningBot, fake_slack: FakeSlack) -> None:
    draft_id, _ = await start_draft(bot, fake_slack)
    url = fake_slack.new_response_url()
    await bot.interact(native_click(f"up:{draft_id}", url, user="U0MALLORY"))
    [told] = await replies(fake_slack, url)
    assert told["text"] == wording.NOT_YOUR_DRAFT.format(author="<@U0001>")
    assert bot.services.store.draft_events(event="feedback") == []


async def test_the_posted_confirmation_carries_the_feedback_buttons(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    draft_id, _ = await start_draft(bot, fake_slack)
    url = fake_slack.new_response_url()
    await bot.interact(button("post", draft_id, url))
    [done] = await replies(fake_slack, url)
    assert done["text"].startswith(":white_check_mark: Posted")
    assert feedback_of(done)["elements"][0]["negative_button"]["value"] == f"down:{draft_id}"
    [post] = fake_slack.calls_to("chat.postMessage")  # the channel sees no feedback buttons
    assert "draft_feedback" not in json.dumps(post.args)


async def test_a_slack_that_refuses_the_feedback_buttons_gets_plain_ones(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    """Such a Slack answers invalid_blocks: the draft is sent again with plain buttons."""
    fake_slack.unsupported_blocks.add("context_actions")
    draft_id, preview = await start_draft(bot, fake_slack)
    assert feedback_of(preview)["type"] == "actions"
    assert feedback_of(preview)["elements"][0]["value"] == f"up:{draft_id}"
    # The response_url gone: the draft goes to the DM, which refuses them too.
    fake_slack.fail_response_url(None, times=5)
    reply = await bot.slash("email to Alex about the budget")
    await asyncio.to_thread(
        fake_slack.wait_for,
        lambda f: any(c.response.get("ok") for c in f.calls_to("chat.postMessage")),
        10.0,
    )
    [dm] = [c for c in fake_slack.calls_to("chat.postMessage") if c.response.get("ok")]
    blocks = dm.args["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    assert feedback_of({"blocks": blocks})["type"] == "actions"
    assert reply.status == 200


@pytest.mark.env(DRAFTBOT_FEEDBACK_BUTTONS="plain")
async def test_plain_buttons_where_slack_refuses_the_feedback_block(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    fake_slack.unsupported_blocks.add("context_actions")
    draft_id, preview = await start_draft(bot, fake_slack)
    block = feedback_of(preview)
    assert block["type"] == "actions"
    assert [(e["text"]["text"], e["value"]) for e in block["elements"]] == [
        (wording.LABEL_FEEDBACK_UP, f"up:{draft_id}"),
        (wording.LABEL_FEEDBACK_DOWN, f"down:{draft_id}"),
    ]
    url = fake_slack.new_response_url()
    await bot.interact(plain_click("up", f"up:{draft_id}", url))
    [thanks] = await replies(fake_slack, url)
    assert thanks["text"] == wording.FEEDBACK_THANKS
    await bot.interact(plain_click("down", f"down:{draft_id}", fake_slack.new_response_url()))
    events = await feedback_events(bot, 2)
    assert [e["detail"] for e in events] == ["up", "down"]


@pytest.mark.env(DRAFTBOT_FEEDBACK_BUTTONS="off")
async def test_feedback_can_be_switched_off(bot: RunningBot, fake_slack: FakeSlack) -> None:
    _, preview = await start_draft(bot, fake_slack)
    assert "draft_feedback" not in json.dumps(preview)


def test_the_fake_slack_checks_feedback_buttons_as_slack_does(fake_slack: FakeSlack) -> None:
    from slack_sdk.models.blocks import ContextActionsBlock, FeedbackButtonsElement

    from handlers.blocks.feedback import feedback_block

    native = feedback_block("abc", "slack")
    assert native is not None
    # slack-sdk's own models accept it, and so does the fake.
    element = {k: v for k, v in native["elements"][0].items() if k != "type"}
    parsed = ContextActionsBlock(elements=[FeedbackButtonsElement(**element)])
    assert parsed.to_dict()["elements"][0]["positive_button"]["value"] == "up:abc"
    assert fake_slack._errors_in([native]) == []
    misplaced = {"type": "actions", "elements": native["elements"]}
    assert fake_slack._errors_in([misplaced]) != []  # valid only in context_actions
    one_sided = {**native, "elements": [{**native["elements"][0], "negative_button": None}]}
    assert fake_slack._errors_in([one_sided]) != []


async def test_the_messages_tab_stream_ends_with_plain_buttons_where_slack_refuses_them(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    from tests.test_messages_tab import dm, finished_stream

    fake_slack.unsupported_blocks.add("context_actions")
    # Its end is held back while it streams (a link may still be growing): sent with the stop.
    text = "Hi Alex, could we meet on Tuesday? The plan: https://example.com/q2-plan"
    fake_anthropic.default = Reply(text=text)
    assert await bot.event(dm("draft an email to Alex about the Q2 budget")) == 200
    stream = await finished_stream(fake_slack)
    assert stream["text"] == text  # once, though the first stop was refused
    [block] = [b for b in stream["blocks"] if b.get("block_id") == "draft_feedback"]
    assert block["type"] == "actions" and block["elements"][0]["value"].startswith("up:")


async def test_a_refused_stop_keeps_its_text_in_the_stream_so_the_retry_sends_it_once() -> None:
    """What StreamReply's retry without the feedback buttons relies on: slack_sdk's stream
    adds `markdown_text` to its buffer before chat.stopStream and keeps it when Slack refuses
    the call, so the second stop must not pass the text again (it would show twice)."""
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_chat_stream import AsyncChatStream

    class Slack:
        def __init__(self) -> None:
            self.stops: list[dict[str, Any]] = []

        async def chat_stopStream(self, **args: Any) -> dict[str, Any]:
            self.stops.append(args)
            if len(self.stops) == 1:
                raise SlackApiError("refused", {"ok": False, "error": "invalid_blocks"})
            return {"ok": True}

    slack = Slack()
    stream = AsyncChatStream(
        slack, logger=logging.getLogger(__name__), channel="D1", thread_ts="1.1", buffer_size=256
    )
    stream._stream_ts = "1.2"  # started: the draft's first words were shown
    with pytest.raises(SlackApiError):
        await stream.stop(markdown_text="THE TAIL.", blocks=[{"type": "context_actions"}])
    await stream.stop(blocks=[{"type": "actions"}])
    [chunk] = slack.stops[1]["chunks"]
    assert chunk.text == "THE TAIL."
