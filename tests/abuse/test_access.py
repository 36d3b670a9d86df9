"""Nobody has Draftbot read or post where they could not themselves (issue 11, items 4 and 5).

Guests (multi- and single-channel), people from other organisations and Slack Connect
channels, through the real server and the fakes: a refusal in plain words, no model call and
nothing read when the person may not see the conversation; nothing posted where the person
is not (or no longer) a member.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bot import wording
from tests.conftest import RunningBot
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.slack import FakeSlack
from tests.test_previews import button, draft_id_of, view_submission
from tests.test_summaries import seed_thread

PUBLIC = "C0PUBLIC"
SHARED = "C0SHARED"
PARTNER_TEAM = "T0PARTNER"


def link_to(channel: str) -> str:
    return f"<https://acme.slack.com/archives/{channel}/p1700000000000100>"


async def responses(fake_slack: FakeSlack, url: str, n: int) -> list[dict[str, Any]]:
    return await asyncio.to_thread(fake_slack.wait_for_responses, url, n, 10.0)


async def summarize(bot: RunningBot, channel: str, user_id: str) -> list[dict[str, Any]]:
    """`/draft summary <link>`; the private replies once the answer has arrived."""
    reply = await bot.slash(f"summary {link_to(channel)}", user_id=user_id, channel_id="C0HERE")
    assert reply.body["text"] == wording.READING_CONVERSATION
    first = await responses(bot.fake_slack, reply.response_url, 1)
    if "Drafting" in first[0]["text"]:  # reading went ahead: wait for the draft itself
        return await responses(bot.fake_slack, reply.response_url, 2)
    return first


# ------------------------------------------------------------------ the fake, as Slack says


async def test_the_fake_describes_guests_outsiders_and_slack_connect_as_slack_does(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    client = bot.services.slack_client
    assert client is not None
    fake_slack.add_user("U0MULTI", "multi", guest="multi")
    fake_slack.add_user("U0SINGLE", "single", guest="single")
    fake_slack.add_user("U0EXT", "ext", team_id=PARTNER_TEAM, stranger=True)
    fake_slack.add_channel(SHARED, "with-partner", shared_with=[PARTNER_TEAM])
    multi = (await client.users_info(user="U0MULTI"))["user"]
    single = (await client.users_info(user="U0SINGLE"))["user"]
    ext = (await client.users_info(user="U0EXT"))["user"]
    assert (multi["is_restricted"], multi["is_ultra_restricted"]) == (True, False)
    assert (single["is_restricted"], single["is_ultra_restricted"]) == (True, True)
    assert ext["team_id"] == PARTNER_TEAM and ext["is_stranger"] is True
    shared = (await client.conversations_info(channel=SHARED))["channel"]
    assert shared["is_shared"] and shared["is_ext_shared"] and not shared["is_org_shared"]
    assert shared["shared_team_ids"] == ["T0001", PARTNER_TEAM]
    plain = (await client.conversations_info(channel=PUBLIC))["channel"]
    assert not plain["is_shared"] and not plain["is_ext_shared"]
    assert plain["shared_team_ids"] == ["T0001"]


# ------------------------------------------------------------------ guests (item 4)


@pytest.mark.parametrize("guest", ["multi", "single"])
async def test_a_guest_cannot_have_a_public_channel_they_are_not_in_summarized(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack, guest: str
) -> None:
    seed_thread(fake_slack, channel=PUBLIC)
    fake_slack.add_user("U0GUEST", "guest", display_name="Gus", guest=guest)
    fake_slack.channel_members[PUBLIC] = {"U0PRIYA", "U0TOM"}
    said = await summarize(bot, PUBLIC, "U0GUEST")
    assert [s["text"] for s in said] == [wording.CANNOT_SEE_AS_GUEST.format(channel=PUBLIC)]
    assert fake_slack.calls_to("conversations.replies") == []  # nothing was read
    assert fake_anthropic.message_requests() == []
    assert bot.usage_rows() == []


@pytest.mark.parametrize("guest", ["multi", "single"])
async def test_a_guest_in_the_channel_gets_the_summary(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack, guest: str
) -> None:
    seed_thread(fake_slack, channel=PUBLIC)
    fake_slack.add_user("U0GUEST", "guest", display_name="Gus", guest=guest)
    fake_slack.channel_members[PUBLIC] = {"U0PRIYA", "U0GUEST"}
    working, preview = await summarize(bot, PUBLIC, "U0GUEST")
    assert working["text"] == "Drafting your summary…"
    assert preview["blocks"][-1]["type"] == "actions"
    [request] = fake_anthropic.message_requests()
    assert "The vendor moved delivery to Tuesday." in json.dumps(request.body)


async def test_a_guest_asking_in_the_messages_tab_is_refused_the_same_way(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    seed_thread(fake_slack, channel=PUBLIC)
    fake_slack.add_user("U0GUEST", "guest", guest="single")
    fake_slack.channel_members[PUBLIC] = {"U0PRIYA", "U0TOM"}
    event = {
        "type": "message",
        "channel": "D0GUEST",
        "channel_type": "im",
        "user": "U0GUEST",
        "text": f"summary {link_to(PUBLIC)}",
        "ts": "1700000001.000100",
        "team": "T0001",
    }
    assert await bot.event(event) == 200
    refusal = wording.CANNOT_SEE_AS_GUEST.format(channel=PUBLIC)

    def told(fake: FakeSlack) -> bool:
        return any(refusal in json.dumps(call.args) for call in fake.calls)

    assert await fake_slack.wait_for_async(told, 10.0)
    assert fake_slack.calls_to("conversations.replies") == []
    assert fake_anthropic.message_requests() == []


async def test_a_full_member_of_the_workspace_still_reads_public_channels_they_are_not_in(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    seed_thread(fake_slack, channel=PUBLIC)
    fake_slack.add_user("U0ALEX", "alex", display_name="Alex")
    fake_slack.channel_members[PUBLIC] = {"U0PRIYA", "U0TOM"}
    _, preview = await summarize(bot, PUBLIC, "U0ALEX")
    assert preview["blocks"][-1]["type"] == "actions"
    assert len(fake_anthropic.message_requests()) == 1


@pytest.mark.parametrize("stranger", [False, True], ids=["other-team", "stranger"])
async def test_people_from_another_organisation_are_held_to_the_guest_rule(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack, stranger: bool
) -> None:
    seed_thread(fake_slack, channel=PUBLIC)
    fake_slack.add_user("U0EXT", "ext", team_id=PARTNER_TEAM, stranger=stranger)
    fake_slack.channel_members[PUBLIC] = {"U0PRIYA", "U0TOM"}
    said = await summarize(bot, PUBLIC, "U0EXT")
    assert [s["text"] for s in said] == [wording.CANNOT_SEE_AS_GUEST.format(channel=PUBLIC)]
    assert fake_anthropic.message_requests() == []


async def test_a_guest_removed_from_the_channel_cannot_regenerate_its_summary(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    seed_thread(fake_slack, channel=PUBLIC)
    fake_slack.add_user("U0GUEST", "guest", guest="multi")
    fake_slack.channel_members[PUBLIC] = {"U0PRIYA", "U0GUEST"}
    _, preview = await summarize(bot, PUBLIC, "U0GUEST")
    fake_slack.channel_members[PUBLIC].discard("U0GUEST")
    url = fake_slack.new_response_url()
    await bot.interact(button("regenerate", draft_id_of(preview), url, user="U0GUEST"))
    _, shown = await responses(fake_slack, url, 2)
    assert wording.CANNOT_SEE_AS_GUEST.format(channel=PUBLIC) in json.dumps(shown)
    assert len(fake_anthropic.message_requests()) == 1  # only the first summary


# ------------------------------------------------------------------ Slack Connect (item 4)


async def test_a_slack_connect_channel_is_summarized_only_for_its_members(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    seed_thread(fake_slack, channel=SHARED)
    fake_slack.add_channel(SHARED, "with-partner", shared_with=[PARTNER_TEAM])
    fake_slack.add_user("U0ALEX", "alex", display_name="Alex")
    fake_slack.add_user("U0EXT", "ext", team_id=PARTNER_TEAM)
    fake_slack.channel_members[SHARED] = {"U0PRIYA", "U0EXT"}

    said = await summarize(bot, SHARED, "U0ALEX")
    assert [s["text"] for s in said] == [wording.CANNOT_SEE_SHARED.format(channel=SHARED)]
    assert fake_slack.calls_to("conversations.replies") == []
    assert fake_anthropic.message_requests() == []

    # A member may, from either organisation.
    for member in ("U0ALEX", "U0EXT"):
        fake_slack.channel_members[SHARED].add(member)
        _, preview = await summarize(bot, SHARED, member)
        assert preview["blocks"][-1]["type"] == "actions", member
    assert len(fake_anthropic.message_requests()) == 2


async def test_a_channel_being_shared_with_another_organisation_counts_as_shared(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    seed_thread(fake_slack, channel=SHARED)
    fake_slack.add_channel(SHARED, "soon-shared", pending_shared_with=[PARTNER_TEAM])
    fake_slack.add_user("U0ALEX", "alex", display_name="Alex")
    fake_slack.channel_members[SHARED] = {"U0PRIYA"}
    said = await summarize(bot, SHARED, "U0ALEX")
    assert [s["text"] for s in said] == [wording.CANNOT_SEE_SHARED.format(channel=SHARED)]
    assert fake_anthropic.message_requests() == []


async def test_nothing_is_posted_in_a_slack_connect_channel_by_someone_not_in_it(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_slack.add_channel(SHARED, "with-partner", shared_with=[PARTNER_TEAM])
    fake_slack.channel_members[SHARED] = {"U0PRIYA"}
    reply = await bot.slash("announcement: the office is closed on Friday", channel_id=SHARED)
    [preview] = await responses(fake_slack, reply.response_url, 1)
    url = fake_slack.new_response_url()
    await bot.interact(button("post", draft_id_of(preview), url))
    [note] = await responses(fake_slack, url, 1)
    assert note["text"] == wording.POST_NO_LONGER_A_MEMBER.format(channel=SHARED)
    assert fake_slack.calls_to("chat.postMessage") == []

    fake_slack.channel_members[SHARED].add("U0001")
    await bot.interact(button("post", draft_id_of(preview), url))
    _, done = await responses(fake_slack, url, 2)
    assert done["text"] == wording.POSTED.format(channel=SHARED)
    [post] = fake_slack.calls_to("chat.postMessage")
    assert post.args["channel"] == SHARED


# ------------------------------------------------------------------ removed members (item 5)


async def test_a_person_removed_from_the_channel_cannot_post_their_draft_there(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_slack.channel_members["C0TEAM"] = {"U0001", "U0PRIYA"}
    reply = await bot.slash("message to the team about the new rota", channel_id="C0TEAM")
    [preview] = await responses(fake_slack, reply.response_url, 1)
    draft_id = draft_id_of(preview)
    fake_slack.channel_members["C0TEAM"].discard("U0001")  # removed while the draft waited

    url = fake_slack.new_response_url()
    status, _ = await bot.interact(button("post", draft_id, url))
    assert status == 200
    [note] = await responses(fake_slack, url, 1)
    assert note["text"] == wording.POST_NO_LONGER_A_MEMBER.format(channel="C0TEAM")
    assert note["replace_original"] is False  # the draft stays on screen to copy
    assert fake_slack.calls_to("chat.postMessage") == []
    stored = bot.services.store.get_draft(draft_id)
    assert stored is not None and stored["status"] != "posted"

    # Nor through the Edit form, which posts to the same channel.
    metadata = json.dumps({"draft_id": draft_id, "response_url": url})
    values = {"text": {"value": {"type": "plain_text_input", "value": "Edited rota note."}}}
    _, body = await bot.interact(view_submission("draft_edit_modal", metadata, values))
    assert body["response_action"] == "errors"
    assert "not a member of #C0TEAM now" in json.dumps(body["errors"])  # plain text in forms
    assert fake_slack.calls_to("chat.postMessage") == []

    # Back in the channel, the same draft posts.
    fake_slack.channel_members["C0TEAM"].add("U0001")
    await bot.interact(button("post", draft_id, url))
    *_, done = await responses(fake_slack, url, 2)
    assert done["text"] == wording.POSTED.format(channel="C0TEAM")
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


async def test_a_private_channel_the_bot_is_not_in_asks_for_an_invitation_not_membership(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    fake_slack.add_channel("G0HIDDEN", "hidden", is_private=True, is_member=False)
    reply = await bot.slash("message to the team about the new rota", channel_id="G0HIDDEN")
    [preview] = await responses(fake_slack, reply.response_url, 1)
    url = fake_slack.new_response_url()
    await bot.interact(button("post", draft_id_of(preview), url))
    [note] = await responses(fake_slack, url, 1)
    # Slack will not list the members of a private channel Draftbot is not in: the person
    # is told to invite Draftbot, and nothing is posted.
    assert note["text"] == wording.CANNOT_POST_NOT_IN_CHANNEL.format(channel="G0HIDDEN")
    assert fake_slack.calls_to("chat.postMessage") == []


async def test_slack_unreachable_during_the_access_check_is_said_not_silence(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    seed_thread(fake_slack, channel=PUBLIC)
    fake_slack.channel_members[PUBLIC] = {"U0PRIYA"}
    fake_slack.drop_connection("conversations.info", times=5)  # the connection keeps dropping
    fake_slack.drop_connection("conversations.members", times=5)
    [said] = await summarize(bot, PUBLIC, "U0TOM")
    assert said["text"] == wording.SLACK_UNREACHABLE
    assert fake_anthropic.message_requests() == []
