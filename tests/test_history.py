"""My drafts: `/draft history` and the Home tab list a person's recent drafts; Open shows a
ready draft's preview again with working buttons; Post again posts a posted draft again."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bot import wording
from bot.retention import purge
from tests.conftest import RunningBot
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.slack import FakeSlack
from tests.test_previews import button, draft_id_of, replies, start_draft


def history_click(action: str, draft_id: str, url: str, user: str = "U0001") -> dict[str, Any]:
    payload = button("post", draft_id, url, user=user)
    payload["actions"][0]["action_id"] = f"history_{action}"
    payload["actions"][0]["block_id"] = f"history_{draft_id}"
    return payload


def texts(message: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (e["action_id"], e["value"])
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]


async def history(bot: RunningBot, fake_slack: FakeSlack) -> dict[str, Any]:
    reply = await bot.slash("history")
    assert reply.status == 200
    [listed] = await replies(fake_slack, reply.response_url)
    return listed


async def test_history_lists_recent_drafts_with_status_first_words_and_buttons(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(
        Reply(text="Hi <!channel>, *the* budget meeting moves to Thursday at ten."),
        Reply(text="Second draft, thrown away."),
        Reply(text="Third draft, posted to the team."),
    )
    ready, _ = await start_draft(bot, fake_slack, channel_id="C0001")
    thrown, _ = await start_draft(bot, fake_slack)
    await bot.interact(button("discard", thrown, fake_slack.new_response_url()))
    posted, _ = await start_draft(bot, fake_slack, channel_id="C0001")
    url = fake_slack.new_response_url()
    await bot.interact(button("post", posted, url))
    await replies(fake_slack, url)

    listed = await history(bot, fake_slack)
    lines = texts(listed)
    assert lines[0] == wording.HISTORY_HEADING
    assert [line.split("\n")[0].split(" · ")[1] for line in lines[1:]] == [
        "posted",
        "discarded",
        "ready",
    ]  # newest first
    oldest = lines[3]
    assert "<!channel>" not in oldest and "*the*" not in oldest  # inert, no formatting
    assert "Hi @\u2060channel, the budget meeting moves to Thursday at ten." in oldest
    assert "<!date^" in oldest.split("\n")[0]  # in the reader's own time zone
    assert buttons(listed) == [("history_post_again", posted), ("history_open", ready)]


async def test_open_shows_the_preview_again_with_working_buttons(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(Reply(text="The first draft."), Reply(text="Short."))
    draft_id, _ = await start_draft(bot, fake_slack)
    url = fake_slack.new_response_url()
    await bot.interact(history_click("open", draft_id, url))
    [reopened] = await replies(fake_slack, url)
    assert "The first draft." in json.dumps(reopened["blocks"])
    assert draft_id_of(reopened) == draft_id
    again = fake_slack.new_response_url()
    await bot.interact(button("shorter", draft_id, again))
    [_, shorter] = await replies(fake_slack, again, 2)
    assert "Short." in json.dumps(shorter["blocks"])


async def test_open_refuses_someone_elses_and_finished_drafts(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    draft_id, _ = await start_draft(bot, fake_slack)
    url = fake_slack.new_response_url()
    await bot.interact(history_click("open", draft_id, url, user="U0MALLORY"))
    [told] = await replies(fake_slack, url)
    assert told["text"] == wording.NOT_YOUR_DRAFT.format(author="<@U0001>")
    await bot.interact(button("discard", draft_id, fake_slack.new_response_url()))
    await asyncio.sleep(0.2)
    url = fake_slack.new_response_url()
    await bot.interact(history_click("open", draft_id, url))
    [told] = await replies(fake_slack, url)
    assert told["text"] == wording.HISTORY_NOT_READY.format(status="discarded")


async def test_post_again_posts_the_last_posted_text_after_the_membership_check(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(Reply(text="Stand-up moves to 10:00 tomorrow."))
    draft_id, _ = await start_draft(bot, fake_slack, channel_id="C0TEAM")
    fake_slack.channel_members["C0TEAM"] = {"U0001"}
    url = fake_slack.new_response_url()
    await bot.interact(button("post", draft_id, url))
    await replies(fake_slack, url)

    url = fake_slack.new_response_url()
    await bot.interact(history_click("post_again", draft_id, url))
    [done] = await replies(fake_slack, url)
    assert done["text"] == wording.POSTED.format(channel="C0TEAM")
    posts = fake_slack.calls_to("chat.postMessage")
    assert [p.args["channel"] for p in posts] == ["C0TEAM", "C0TEAM"]
    assert "Stand-up moves to 10:00 tomorrow." in json.dumps(posts[1].args["blocks"])
    events = bot.services.store.draft_events(draft_id=draft_id, event="posted")
    assert [(e["detail"], e["channel_id"]) for e in events] == [
        (None, "C0TEAM"),
        ("again", "C0TEAM"),
    ]

    fake_slack.channel_members["C0TEAM"] = set()  # they left the channel since
    url = fake_slack.new_response_url()
    await bot.interact(history_click("post_again", draft_id, url))
    [refused] = await replies(fake_slack, url)
    assert refused["text"] == wording.POST_NO_LONGER_A_MEMBER.format(channel="C0TEAM")
    assert len(fake_slack.calls_to("chat.postMessage")) == 2


async def test_a_double_click_on_post_again_posts_once(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(Reply(text="Stand-up moves to 10:00 tomorrow."))
    draft_id, _ = await start_draft(bot, fake_slack, channel_id="C0TEAM")
    fake_slack.channel_members["C0TEAM"] = {"U0001"}
    url = fake_slack.new_response_url()
    await bot.interact(button("post", draft_id, url))
    await replies(fake_slack, url)
    u1, u2 = fake_slack.new_response_url(), fake_slack.new_response_url()
    await asyncio.gather(
        bot.interact(history_click("post_again", draft_id, u1)),
        bot.interact(history_click("post_again", draft_id, u2)),
    )
    said = [await replies(fake_slack, u1), await replies(fake_slack, u2)]
    posts = [p for p in fake_slack.calls_to("chat.postMessage") if p.args["channel"] == "C0TEAM"]
    assert len(posts) == 2, f"{len(posts)} messages in the channel"  # the post, and once again
    assert wording.DRAFT_BUSY in json.dumps(said, ensure_ascii=False)


async def test_an_expired_draft_is_listed_without_its_text_or_buttons(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(Reply(text="Words that will be purged."))
    await start_draft(bot, fake_slack)
    store = bot.services.store
    with store._transaction() as run:  # type: ignore[attr-defined]
        run("update drafts set updated_at = '2000-01-01T00:00:00+00:00'")
    assert purge(store, retention_days=7) == 1
    listed = await history(bot, fake_slack)
    [line] = texts(listed)[1:]
    assert " · expired · " in line and wording.HISTORY_NO_TEXT in line
    assert "purged" not in line and buttons(listed) == []


async def test_no_drafts_yet(bot: RunningBot, fake_slack: FakeSlack) -> None:
    listed = await history(bot, fake_slack)
    assert wording.HISTORY_EMPTY.format(command="/draft") in json.dumps(listed, ensure_ascii=False)


async def test_the_home_tab_lists_the_persons_drafts(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(Reply(text="A draft for the Home tab."))
    draft_id, _ = await start_draft(bot, fake_slack)
    assert await bot.event({"type": "app_home_opened", "user": "U0001", "tab": "home"}) == 200
    assert await asyncio.to_thread(fake_slack.wait_for, lambda f: f.calls_to("views.publish"), 5.0)
    [publish] = fake_slack.calls_to("views.publish")
    view = publish.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert wording.HISTORY_HEADING in json.dumps(view)
    assert "A draft for the Home tab." in json.dumps(view)
    assert ("history_open", draft_id) in buttons(view)
