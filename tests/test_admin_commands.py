"""`/draft report` and `/draft budget`: admins get figures and files, everyone else a polite no."""

from __future__ import annotations

import asyncio
import csv
import io
from decimal import Decimal

import pytest

from tests.conftest import RunningBot
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.slack import FakeSlack
from tests.test_budgets import spend

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def reply_to(fake_slack: FakeSlack, url: str) -> dict:
    [posted] = await asyncio.to_thread(fake_slack.wait_for_responses, url, 1, 15.0)
    return posted


async def test_non_admins_are_refused_politely_and_see_no_data(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    spend(bot.services.store, "U0ALEX", 2_000_000_000)
    fake_slack.add_user("U0SAM", "sam", display_name="Sam")
    for text in ("report", "report last-month", "budget <@U0ALEX|alex> 100"):
        reply = await bot.slash(text, user_id="U0SAM")
        posted = await reply_to(fake_slack, reply.response_url)
        assert "only for Draftbot admins" in posted["text"]
        assert "<@UADMIN1>" in posted["text"]
        assert "$2.00" not in str(posted)
    assert fake_slack.uploads == []
    assert bot.services.store.budget_override("U0ALEX") is None


async def test_admin_report_summary_and_files_in_their_dm(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    fake_slack.add_user("U0ALEX", "alex", display_name="Alex Chen")
    spend(bot.services.store, "U0ALEX", 2_000_000_000)
    spend(bot.services.store, "U0SAM", 500_000_000)
    reply = await bot.slash("report", user_id="UADMIN1")
    assert reply.body["text"] == "Preparing the usage report…"
    posted = await reply_to(fake_slack, reply.response_url)

    text = str(posted["blocks"])
    assert "*2 drafts* by *2 people*" in text and "$2.50" in text
    assert "1. Alex Chen: $2.00" in text  # display name from users.info
    assert "The chart and the CSV are in your direct messages" in text

    table, png = sorted(fake_slack.uploads, key=lambda f: f["filename"].endswith(".png"))
    assert {png["channel_id"], table["channel_id"]} == {"DUADMIN1"}
    assert png["content"].startswith(PNG_SIGNATURE) and len(png["content"]) > 20_000
    rows = list(csv.DictReader(io.StringIO(table["content"].decode())))
    assert {row["label"]: Decimal(row["cost_usd"]) for row in rows} == {
        "Alex Chen": Decimal("2.000000000"),
        "U0SAM": Decimal("0.500000000"),
    }
    # The name is cached: a second report does not ask Slack again.
    calls = len(fake_slack.calls_to("users.info"))
    await reply_to(fake_slack, (await bot.slash("report", user_id="UADMIN1")).response_url)
    assert len(fake_slack.calls_to("users.info")) == calls


async def test_workspace_admins_count_as_admins(bot: RunningBot, fake_slack: FakeSlack) -> None:
    fake_slack.add_user("U0BOSS", "boss", is_owner=True)
    reply = await bot.slash("report last-7-days", user_id="U0BOSS")
    posted = await reply_to(fake_slack, reply.response_url)
    assert "Draftbot usage report" in str(posted["blocks"])
    assert "last 7 days" in str(posted["blocks"])


async def test_report_files_failure_is_explained(bot: RunningBot, fake_slack: FakeSlack) -> None:
    fake_slack.fail("conversations.open", error="missing_scope")
    reply = await bot.slash("report", user_id="UADMIN1")
    posted = await reply_to(fake_slack, reply.response_url)
    assert "could not be sent to your direct messages (Slack said: missing_scope)" in str(
        posted["blocks"]
    )


async def test_admin_sets_and_removes_a_budget(bot: RunningBot, fake_slack: FakeSlack) -> None:
    reply = await bot.slash("budget <@U0ALEX|alex> 25", user_id="UADMIN1")
    posted = await reply_to(fake_slack, reply.response_url)
    assert posted["text"].startswith("<@U0ALEX>'s monthly Draftbot budget is now $25.00")
    assert bot.services.store.budget_override("U0ALEX") == 25_000_000_000
    reply = await bot.slash("budget <@U0ALEX|alex> none", user_id="UADMIN1")
    posted = await reply_to(fake_slack, reply.response_url)
    assert "no longer has their own budget" in posted["text"]
    assert bot.services.store.budget_override("U0ALEX") is None
    audit = [(row["actor"], row["subject"]) for row in bot.services.store.admin_changes()]
    assert audit == [("UADMIN1", "U0ALEX"), ("UADMIN1", "U0ALEX")], "each change is recorded"


@pytest.mark.parametrize("text", ["budget", "budget <@U0ALEX|alex> lots", "budget <@U0ALEX>"])
async def test_budget_command_explains_itself(
    bot: RunningBot, fake_slack: FakeSlack, text: str
) -> None:
    reply = await bot.slash(text, user_id="UADMIN1")
    posted = await reply_to(fake_slack, reply.response_url)
    assert "/draft budget @person 25" in posted["text"]


@pytest.mark.parametrize(
    ("text", "ack"),
    [
        ("report on the Q3 sales figures", "Drafting…"),  # the catch-all kind names no noun
        ("usage guidelines for the VPN", "Drafting…"),
        ("email about usage reports", "Drafting your email…"),
    ],
)
async def test_subcommand_words_inside_a_request_still_draft(
    bot: RunningBot, fake_anthropic: FakeAnthropic, text: str, ack: str
) -> None:
    reply = await bot.slash(text)
    assert reply.body["text"] == ack
