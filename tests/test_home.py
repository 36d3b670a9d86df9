"""The App Home tab: how to use Draftbot, your month, and the form button."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

from tests.conftest import RunningBot
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.slack import FakeSlack
from tests.test_budgets import spend
from tests.test_previews import button, view_submission


async def test_home_shows_kinds_usage_and_budget(bot: RunningBot, fake_slack: FakeSlack) -> None:
    spend(bot.services.store, "U0001", 1_250_000_000)
    bot.services.budgets.set_limit("U0001", Decimal(10), set_by="test")
    assert await bot.event({"type": "app_home_opened", "user": "U0001", "tab": "home"}) == 200
    assert await asyncio.to_thread(fake_slack.wait_for, lambda f: f.calls_to("views.publish"), 5.0)
    [publish] = fake_slack.calls_to("views.publish")
    assert publish.args["user_id"] == "U0001"
    view = json.dumps(publish.args["view"])
    assert "1 draft, $1.25" in view and "$8.75 left" in view
    assert "Recent admin changes" not in view  # U0001 is no admin
    for kind in bot.services.library.kinds:
        assert kind.example.replace('"', '\\"') in view
    assert "home_open_form" in view


async def test_the_home_button_opens_the_form_and_the_draft_arrives_in_messages(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    payload = button("post", "", "")
    payload["actions"] = [{"type": "button", "action_id": "home_open_form", "action_ts": "1"}]
    payload["container"] = {"type": "view", "view_id": "VHOME"}
    del payload["response_url"]
    await bot.interact(payload)
    assert await asyncio.to_thread(fake_slack.wait_for, lambda f: f.calls_to("views.open"), 5.0)
    view = fake_slack.calls_to("views.open")[0].args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert any(b["block_id"] == "channel" for b in view["blocks"])
    values = {
        "kind": {"value": {"selected_option": {"value": "message"}}},
        "details": {"value": {"value": "to the team about the fire drill on Friday"}},
        "channel": {"value": {"selected_conversation": "C0TEAM"}},
    }
    _, body = await bot.interact(view_submission("draft_form", view["private_metadata"], values))
    assert body == {}
    assert await asyncio.to_thread(
        fake_slack.wait_for, lambda f: f.calls_to("chat.postMessage"), 10.0
    )
    [preview] = fake_slack.calls_to("chat.postMessage")
    assert preview.args["channel"] == "U0001"  # the app's DM with them
    assert "draft_post" in json.dumps(preview.args["blocks"])
    draft_id = json.loads(json.dumps(preview.args["blocks"]))[-1]["elements"][0]["value"]
    assert bot.services.store.get_draft(draft_id)["channel_id"] == "C0TEAM"  # type: ignore[index]


async def test_admins_see_the_newest_admin_changes_on_home(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    bot.services.budgets.set_limit("U0ALEX", Decimal(25), set_by="UADMIN1")
    bot.services.store.remove_budget("U0ALEX", removed_by="UADMIN1")
    assert await bot.event({"type": "app_home_opened", "user": "UADMIN1", "tab": "home"}) == 200
    assert await asyncio.to_thread(fake_slack.wait_for, lambda f: f.calls_to("views.publish"), 5.0)
    view = json.dumps(fake_slack.calls_to("views.publish")[0].args["view"], ensure_ascii=False)
    assert "Recent admin changes" in view
    assert "<@UADMIN1> changed the budget of <@U0ALEX>: $25.00 → default" in view
    assert "<@UADMIN1> changed the budget of <@U0ALEX>: default → $25.00" in view
