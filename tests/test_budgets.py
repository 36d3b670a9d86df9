"""Budgets stop spending when they should, and not otherwise, even under a parallel burst."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot import wording
from bot.budgets import Budgets, OverBudget
from bot.drafting import DraftFailed, DraftRequest
from bot.pricing import load_price_table
from bot.storage import Store, UsageRecord
from tests.conftest import RunningBot
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.slack import FakeSlack

REQUEST = "email to Alex asking for a meeting about Q2 budget planning"


def spend(store: Store, user_id: str, nano_usd: int) -> None:
    store.record_usage(
        UsageRecord(
            user_id=user_id,
            source="slash",
            kind="email",
            model="claude-sonnet-4-6",
            status="ok",
            cost_nano_usd=nano_usd,
            cost_usd=nano_usd / 1e9,
        )
    )


async def draft(bot: RunningBot, user_id: str = "U0ALEX") -> None:
    kind = bot.services.library.find("email")
    assert kind is not None
    await bot.services.drafter.draft(
        DraftRequest(kind=kind, text=REQUEST, user_id=user_id, source="test")
    )


@pytest.mark.env(DRAFTBOT_USER_MONTHLY_BUDGET_USD="1")
async def test_over_budget_stops_before_the_model_is_called(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    spend(bot.services.store, "U0ALEX", 990_000_000)  # $0.99 of $1.00 used
    reply = await bot.slash(REQUEST, user_id="U0ALEX")
    [posted] = await asyncio.to_thread(fake_slack.wait_for_responses, reply.response_url, 1, 5.0)
    # Why: the most this draft could cost (its worst case) is more than what is left.
    why = re.search(
        r"didn't start this draft because it could cost up to \$([\d.]+), and you have "
        r"\$0\.01 left of your \$1\.00 Draftbot budget",
        posted["text"],
    )
    assert why is not None, posted["text"]
    assert float(why.group(1)) > 0.01
    assert "<@UADMIN1>" in posted["text"]  # who to ask
    assert fake_anthropic.message_requests() == []
    assert len(bot.usage_rows()) == 1  # only the seeded row: nothing was billed


@pytest.mark.env(DRAFTBOT_USER_MONTHLY_BUDGET_USD="1")
async def test_a_used_up_budget_says_so(bot: RunningBot, fake_slack: FakeSlack) -> None:
    spend(bot.services.store, "U0ALEX", 1_000_000_000)
    reply = await bot.slash(REQUEST, user_id="U0ALEX")
    [posted] = await asyncio.to_thread(fake_slack.wait_for_responses, reply.response_url, 1, 5.0)
    assert "You've used all of your $1.00 Draftbot budget for" in posted["text"]


@pytest.mark.env(DRAFTBOT_USER_MONTHLY_BUDGET_USD="1")
async def test_under_budget_drafts_normally_and_others_are_unaffected(
    bot: RunningBot, fake_anthropic: FakeAnthropic
) -> None:
    spend(bot.services.store, "U0ALEX", 990_000_000)
    await draft(bot, user_id="U0SAM")
    assert len(fake_anthropic.message_requests()) == 1


async def test_no_budget_means_no_limit(bot: RunningBot, fake_anthropic: FakeAnthropic) -> None:
    spend(bot.services.store, "U0ALEX", 10**12)  # $1,000
    await draft(bot)
    assert len(fake_anthropic.message_requests()) == 1


@pytest.mark.env(DRAFTBOT_USER_MONTHLY_BUDGET_USD="100")
async def test_a_personal_override_beats_the_default(
    bot: RunningBot, fake_anthropic: FakeAnthropic
) -> None:
    bot.services.budgets.set_limit("U0ALEX", Decimal(0), set_by="test")
    with pytest.raises(DraftFailed) as caught:
        await draft(bot)
    assert caught.value.over_budget is not None
    assert fake_anthropic.message_requests() == []
    bot.services.store.remove_budget("U0ALEX")
    await draft(bot)
    assert len(fake_anthropic.message_requests()) == 1


async def test_parallel_burst_overspends_by_at_most_one_worst_case(
    bot: RunningBot, fake_anthropic: FakeAnthropic
) -> None:
    services = bot.services
    email = services.library.find("email")
    assert email is not None
    model_request = services.drafter.model_request(
        DraftRequest(kind=email, text=REQUEST, user_id="U0ALEX", source="test")
    )
    prompt_chars = sum(len(b["text"]) for b in model_request.system) + len(REQUEST)
    worst = services.prices.worst_case_cost(
        model_request.model, prompt_chars // 3 + 1, email.max_tokens
    )
    assert worst is not None
    # Room for three worst cases; every real draft costs far less than its worst case.
    services.budgets.set_limit("U0ALEX", worst.usd * 3, set_by="test")
    fake_anthropic.default = Reply(delay=0.3)

    results = await asyncio.gather(*(draft(bot) for _ in range(20)), return_exceptions=True)

    refused = [r for r in results if isinstance(r, DraftFailed)]
    assert len(fake_anthropic.message_requests()) == 3  # the rest waited on reservations
    assert len(refused) == 17 and all(r.over_budget for r in refused)
    status = services.budgets.status("U0ALEX")
    assert status.spent_nano_usd <= worst.nano_usd * 3 + worst.nano_usd
    # Reservations are released: once settled, the unused headroom is usable again.
    await draft(bot)
    assert len(fake_anthropic.message_requests()) == 4


def test_stale_reservations_from_a_crashed_process_are_ignored(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    clock = [datetime(2026, 11, 25, 12, tzinfo=UTC)]
    budgets = Budgets(store, load_price_table(), None, clock=lambda: clock[0])
    budgets.set_limit("U0ALEX", Decimal(1), set_by="test")
    assert budgets.reserve("U0ALEX", "claude-sonnet-4-6", 10_000, 50_000) is not None
    with pytest.raises(OverBudget):
        budgets.reserve("U0ALEX", "claude-sonnet-4-6", 10_000, 50_000)
    clock[0] += timedelta(minutes=16)  # the first reservation was never released
    assert budgets.reserve("U0ALEX", "claude-sonnet-4-6", 10_000, 50_000) is not None


@pytest.mark.env(DRAFTBOT_USER_MONTHLY_BUDGET_USD="1", DRAFTBOT_ALERT_CHANNEL="C0ALERTS")
async def test_eighty_percent_tells_the_user_and_admins_once_a_month(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    fake_slack.add_user("U0ALEX", "alex", display_name="Alex Chen")
    spend(bot.services.store, "U0ALEX", 850_000_000)
    first = await bot.slash(REQUEST, user_id="U0ALEX")
    [posted] = await asyncio.to_thread(fake_slack.wait_for_responses, first.response_url, 1, 5.0)
    assert "you've used 8" in str(posted["blocks"]) and "of your monthly Draftbot budget" in str(
        posted["blocks"]
    )
    [alert] = fake_slack.calls_to("chat.postMessage")
    assert alert.args["channel"] == "C0ALERTS"
    assert "Alex Chen (U0ALEX) has used 8" in alert.args["text"]
    assert "<@" not in alert.args["text"]  # named, not pinged

    second = await bot.slash(REQUEST, user_id="U0ALEX")
    [again] = await asyncio.to_thread(fake_slack.wait_for_responses, second.response_url, 1, 5.0)
    assert "monthly Draftbot budget" not in str(again["blocks"])
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


async def test_usage_shows_my_month_and_budget_left(bot: RunningBot) -> None:
    spend(bot.services.store, "U0ALEX", 1_500_000_000)
    reply = await bot.slash("usage", user_id="U0ALEX")
    assert "1 draft, $1.50" in reply.body["text"]
    assert wording.USAGE_NO_BUDGET in reply.body["text"]
    bot.services.budgets.set_limit("U0ALEX", Decimal(10), set_by="test")
    reply = await bot.slash("usage", user_id="U0ALEX")
    assert "Budget: $10.00 a month, $8.50 left" in reply.body["text"]
