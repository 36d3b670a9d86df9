"""From /draft to a posted, refined message using only the buttons and the form."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import pytest

from bot import wording
from bot.refinements import REFINEMENTS
from tests.conftest import RunningBot
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.slack import FakeSlack

REQUEST = "email to Alex asking for a meeting about Q2 budget planning"
CLICKS = itertools.count(1)  # Slack gives every click its own trigger_id and action_ts


async def replies(fake_slack: FakeSlack, url: str, n: int = 1) -> list[dict[str, Any]]:
    return await asyncio.to_thread(fake_slack.wait_for_responses, url, n, 10.0)


async def start_draft(bot: RunningBot, fake_slack: FakeSlack, **fields: Any) -> tuple[str, dict]:
    reply = await bot.slash(REQUEST, **fields)
    [preview] = await replies(fake_slack, reply.response_url)
    return draft_id_of(preview), preview


def draft_id_of(message: dict[str, Any]) -> str:
    actions = message["blocks"][-1]
    assert actions["type"] == "actions", message
    return str(actions["elements"][0]["value"])


def button(action: str, draft_id: str, response_url: str, user: str = "U0001") -> dict:
    click = next(CLICKS)
    return {
        "type": "block_actions",
        "user": {"id": user, "username": "someone", "team_id": "T0001"},
        "api_app_id": "A0001",
        "team": {"id": "T0001", "domain": "acme"},
        "container": {"type": "message", "is_ephemeral": True, "channel_id": "C0001"},
        "channel": {"id": "C0001", "name": "general"},
        "trigger_id": f"111.222.{click}",
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": f"draft_{action}",
                "block_id": "draft_actions",
                "value": draft_id,
                "action_ts": f"1700000000.{click:06d}",
            }
        ],
    }


def tone_menu(tone: str, draft_id: str, response_url: str) -> dict:
    payload = button("tone", draft_id, response_url)
    payload["actions"] = [
        {
            "type": "static_select",
            "action_id": "draft_tone",
            "block_id": "draft_actions",
            "selected_option": {"value": f"{tone}:{draft_id}"},
            "action_ts": "1700000000.000002",
        }
    ]
    return payload


def view_submission(callback_id: str, metadata: str, values: dict, user: str = "U0001") -> dict:
    return {
        "type": "view_submission",
        "team": {"id": "T0001", "domain": "acme"},
        "user": {"id": user, "team_id": "T0001"},
        "api_app_id": "A0001",
        "trigger_id": "333.444.def",
        "view": {
            "id": "V0001",
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": metadata,
            "state": {"values": values},
        },
    }


async def test_shorter_refines_with_the_conversation_and_logs_its_own_usage_row(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(Reply(text="A long first draft."), Reply(text="Short.", delay=0.3))
    draft_id, _ = await start_draft(bot, fake_slack)
    url = fake_slack.new_response_url()
    status, _ = await bot.interact(button("shorter", draft_id, url))
    assert status == 200

    working, refined = await replies(fake_slack, url, 2)
    assert working["text"] == REFINEMENTS["shorter"].working
    assert not any(block["type"] == "actions" for block in working["blocks"])
    assert refined["blocks"][0]["text"] == "Short."
    assert draft_id_of(refined) == draft_id

    first, second = fake_anthropic.message_requests()
    assert second.body is not None and first.body is not None
    assert second.body["system"] == first.body["system"]  # the cached prompt is reused
    assert second.body["messages"] == [
        {"role": "user", "content": REQUEST},
        {"role": "assistant", "content": "A long first draft."},
        {"role": "user", "content": REFINEMENTS["shorter"].instruction},
    ]
    assert [row["source"] for row in bot.usage_rows()] == ["slash", "shorter"]
    assert bot.usage_rows()[1]["cache_read_input_tokens"] > 0


@pytest.mark.parametrize("tone", ["formal", "friendlier", "simpler"])
async def test_tone_menu(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack, tone: str
) -> None:
    draft_id, _ = await start_draft(bot, fake_slack)
    url = fake_slack.new_response_url()
    await bot.interact(tone_menu(tone, draft_id, url))
    await replies(fake_slack, url, 2)
    last = fake_anthropic.message_requests()[-1].body
    assert last is not None
    assert last["messages"][-1]["content"] == REFINEMENTS[tone].instruction
    assert bot.usage_rows()[-1]["source"] == tone


async def test_regenerate_asks_again_from_the_original_request(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    draft_id, _ = await start_draft(bot, fake_slack)
    url = fake_slack.new_response_url()
    await bot.interact(button("regenerate", draft_id, url))
    await replies(fake_slack, url, 2)
    last = fake_anthropic.message_requests()[-1].body
    assert last is not None and last["messages"] == [{"role": "user", "content": REQUEST}]


async def test_continue_joins_a_truncated_draft_without_prefill(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(
        Reply(text="Hi Alex, the budget covers ", stop_reason="max_tokens"),
        Reply(text="travel and training."),
    )
    draft_id, preview = await start_draft(bot, fake_slack)
    assert "draft_continue" in json.dumps(preview["blocks"][-1])
    url = fake_slack.new_response_url()
    await bot.interact(button("continue", draft_id, url))
    _, joined = await replies(fake_slack, url, 2)
    assert joined["blocks"][0]["text"] == "Hi Alex, the budget covers travel and training."
    assert "draft_continue" not in json.dumps(joined["blocks"][-1])
    body = fake_anthropic.message_requests()[-1].body
    assert body is not None
    assert body["messages"][-1]["role"] == "user"  # Claude 4.6 rejects assistant prefill
    assert body["messages"][1] == {"role": "assistant", "content": "Hi Alex, the budget covers "}


async def test_post_to_channel_is_attributed_and_never_pings(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(text="<!channel> Lunch is at noon. @here")
    draft_id, _ = await start_draft(bot, fake_slack, channel_id="C0LUNCH")
    assert fake_slack.calls_to("chat.postMessage") == []  # nothing posted until the click
    url = fake_slack.new_response_url()
    await bot.interact(button("post", draft_id, url))
    [done] = await replies(fake_slack, url)
    assert done["text"] == wording.POSTED.format(channel="C0LUNCH")
    [post] = fake_slack.calls_to("chat.postMessage")
    assert post.args["channel"] == "C0LUNCH"
    posted = json.dumps(post.args["blocks"])
    assert "Drafted with Draftbot by <@U0001>" in posted
    assert "<!channel>" not in posted and "@here" not in posted and "Lunch is at noon" in posted


async def test_post_where_the_bot_is_not_a_member_explains_and_can_be_retried(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    fake_slack.channels_without_bot.add("C0PRIVATE")
    draft_id, _ = await start_draft(bot, fake_slack, channel_id="C0PRIVATE")
    url = fake_slack.new_response_url()
    await bot.interact(button("post", draft_id, url))
    [note] = await replies(fake_slack, url)
    assert note["replace_original"] is False
    assert "/invite @Draftbot" in note["text"]
    fake_slack.channels_without_bot.discard("C0PRIVATE")
    await bot.interact(button("post", draft_id, url))
    _, done = await replies(fake_slack, url, 2)
    assert done["text"] == wording.POSTED.format(channel="C0PRIVATE")


async def test_only_the_author_can_act(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    draft_id, _ = await start_draft(bot, fake_slack, user_id="U0001")
    url = fake_slack.new_response_url()
    for action in ("shorter", "post", "discard", "edit"):
        await bot.interact(button(action, draft_id, url, user="U0MALLORY"))
    notes = await replies(fake_slack, url, 4)
    assert all(n["text"] == "Only <@U0001> can change or post this draft." for n in notes)
    assert len(fake_anthropic.message_requests()) == 1
    assert fake_slack.calls_to("chat.postMessage") == [] and fake_slack.views == {}


async def test_double_click_starts_one_model_call(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    draft_id, _ = await start_draft(bot, fake_slack)
    fake_anthropic.default = Reply(text="Shorter.", delay=0.5)
    url = fake_slack.new_response_url()
    await asyncio.gather(*(bot.interact(button("shorter", draft_id, url)) for _ in range(2)))
    messages = await replies(fake_slack, url, 3)
    assert wording.DRAFT_BUSY in [m["text"] for m in messages]
    assert len(fake_anthropic.message_requests()) == 2  # the draft, and one refinement
    assert [row["source"] for row in bot.usage_rows()] == ["slash", "shorter"]


async def test_edit_opens_a_form_and_posts_the_edited_text(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    fake_slack_default = "Here is your draft."
    draft_id, _ = await start_draft(bot, fake_slack)
    url = fake_slack.new_response_url()
    await bot.interact(button("edit", draft_id, url))
    await asyncio.to_thread(fake_slack.wait_for, lambda f: f.calls_to("views.open"), 5.0)
    view = fake_slack.calls_to("views.open")[0].args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == "draft_edit_modal"
    assert view["blocks"][0]["element"]["initial_value"].startswith(fake_slack_default)

    empty = view_submission(
        "draft_edit_modal", view["private_metadata"], {"text": {"value": {"value": " "}}}
    )
    status, body = await bot.interact(empty)
    assert body == {"response_action": "errors", "errors": {"text": wording.EDIT_EMPTY}}

    edited = view_submission(
        "draft_edit_modal",
        view["private_metadata"],
        {"text": {"value": {"type": "plain_text_input", "value": "Hi Alex, my own words."}}},
    )
    status, body = await bot.interact(edited)
    assert status == 200 and body == {}
    [post] = fake_slack.calls_to("chat.postMessage")
    assert "Hi Alex, my own words." in json.dumps(post.args["blocks"])
    [done] = await replies(fake_slack, url)
    assert done["text"].startswith(":white_check_mark: Posted")


async def test_edit_submission_shows_a_posting_problem_in_the_form(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    fake_slack.channels_without_bot.add("C0SECRET")
    draft_id, _ = await start_draft(bot, fake_slack, channel_id="C0SECRET")
    metadata = json.dumps({"draft_id": draft_id, "response_url": None})
    submission = view_submission("draft_edit_modal", metadata, {"text": {"value": {"value": "Hi"}}})
    _, body = await bot.interact(submission)
    assert body["response_action"] == "errors"
    assert "/invite @Draftbot" in body["errors"]["text"]


async def test_discard_removes_the_preview(bot: RunningBot, fake_slack: FakeSlack) -> None:
    draft_id, _ = await start_draft(bot, fake_slack)
    url = fake_slack.new_response_url()
    await bot.interact(button("discard", draft_id, url))
    [gone] = await replies(fake_slack, url)
    assert gone == {"delete_original": True} or gone.get("delete_original") is True
    await bot.interact(button("shorter", draft_id, url))
    _, note = await replies(fake_slack, url, 2)
    assert note["text"] == wording.DRAFT_FINISHED.format(status="discarded")


async def test_unknown_or_expired_drafts_say_so(bot: RunningBot, fake_slack: FakeSlack) -> None:
    url = fake_slack.new_response_url()
    await bot.interact(button("shorter", "0123456789abcdef", url))
    [note] = await replies(fake_slack, url)
    assert "no longer available" in note["text"]


async def test_the_form_for_people_who_dont_type_commands(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    reply = await bot.slash("", channel_id="C0TEAM")
    assert reply.status == 200
    await asyncio.to_thread(fake_slack.wait_for, lambda f: f.calls_to("views.open"), 5.0)
    view = fake_slack.calls_to("views.open")[0].args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == "draft_form"
    menu = view["blocks"][0]["element"]
    kinds = [o["value"] for o in menu["options"]]
    assert {"email", "summary", "code", "message", "general"} <= set(kinds)
    assert menu["initial_option"]["value"] == "general", "the menu starts at the default kind"
    for option in menu["options"]:  # whole words, never cut mid-phrase
        description = option["description"]["text"]
        kind = bot.services.library.find(option["value"])
        assert kind is not None
        assert description == kind.description or (
            description.endswith("…") and kind.description.startswith(description[:-1].rstrip())
        )
        assert len(description) <= 75 and not description[:-1].endswith(" ")

    def values(details: str) -> dict:
        return {
            "kind": {"value": {"selected_option": {"value": "email"}}},
            "details": {"value": {"value": details}},
            "audience": {"value": {"value": "a new client"}},
            "tone": {"value": {"selected_option": {"value": "Friendly"}}},
            "length": {"value": {"selected_option": None}},
        }

    _, body = await bot.interact(
        view_submission("draft_form", view["private_metadata"], values(""))
    )
    assert body == {
        "response_action": "errors",
        "errors": {"details": wording.FORM_DETAILS_TOO_SHORT},
    }
    assert fake_anthropic.message_requests() == []

    _, body = await bot.interact(
        view_submission("draft_form", view["private_metadata"], values("to Dana about the invoice"))
    )
    assert body == {}
    working, preview = await replies(fake_slack, reply.response_url, 2)
    assert working["text"] == "Drafting your email…"
    assert preview["blocks"][-1]["type"] == "actions"
    [request] = fake_anthropic.message_requests()
    assert request.body is not None
    assert request.body["messages"][0]["content"] == (
        "email to Dana about the invoice\nAudience: a new client\nTone: Friendly"
    )
    assert bot.usage_rows()[0]["source"] == "form"
    assert bot.services.store.get_draft(draft_id_of(preview))["channel_id"] == "C0TEAM"  # type: ignore[index]


async def test_if_the_form_cannot_open_the_help_text_arrives_instead(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("views.open", error="expired_trigger_id")
    reply = await bot.slash("")
    [help_text] = await replies(fake_slack, reply.response_url)
    assert "/draft email to Alex" in help_text["text"]


async def test_a_draft_stuck_as_working_is_freed_after_a_while(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    draft_id, _ = await start_draft(bot, fake_slack)
    store = bot.services.store
    store.update_draft(draft_id, status="working")  # as if the process died mid-action
    url = fake_slack.new_response_url()
    await bot.interact(button("shorter", draft_id, url))
    [note] = await replies(fake_slack, url)
    assert note["text"] == wording.DRAFT_BUSY
    store.db.execute(  # type: ignore[attr-defined]
        "update drafts set updated_at = '2000-01-01T00:00:00.000000+00:00' where id = ?",
        [draft_id],
    )
    await bot.interact(button("shorter", draft_id, url))
    await replies(fake_slack, url, 3)
    assert len(fake_anthropic.message_requests()) == 2
