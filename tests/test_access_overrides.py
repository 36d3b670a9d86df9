"""Access rules changed while Draftbot runs: the admin form, the CLI, and a second instance
on the same PostgreSQL applying a change. The settings stay the defaults."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot import wording
from bot.access_overrides import save_overrides
from bot.cli import cli
from tests.conftest import RunningBot
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.slack import FakeSlack
from tests.test_channel_presets import opened_view, replies, second_bot
from tests.test_doctor import doctor
from tests.test_previews import view_submission

pytest_plugins = ["tests.postgres"]
__all__ = ["second_bot"]  # the fixture, used here too


@pytest.fixture
def env(env: dict[str, str], request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    if "postgres_url" in request.fixturenames:
        env = {**env, "DATABASE_URL": request.getfixturevalue("postgres_url")}
    return env


def access_values(
    users: list[str], groups: str, dms: str, guests: str = "on", channels: list[str] | None = None
) -> dict[str, Any]:
    return {
        "allowed_users": {"value": {"type": "multi_users_select", "selected_users": users}},
        "allowed_groups": {"value": {"type": "plain_text_input", "value": groups}},
        "allowed_channels": {
            "value": {
                "type": "multi_conversations_select",
                "selected_conversations": channels or [],
            }
        },
        "blocked_channels": {
            "value": {"type": "multi_conversations_select", "selected_conversations": []}
        },
        "dms": {"value": {"type": "radio_buttons", "selected_option": {"value": dms}}},
        "guests": {"value": {"type": "radio_buttons", "selected_option": {"value": guests}}},
    }


async def open_access_form(bot: RunningBot, fake_slack: FakeSlack) -> dict[str, Any]:
    reply = await bot.slash("admin access", user_id="UADMIN1")
    assert reply.status == 200 and reply.body == {}
    assert await asyncio.to_thread(fake_slack.wait_for, lambda f: f.calls_to("views.open"), 5.0)
    view = opened_view(fake_slack)
    view["response_url"] = reply.response_url
    return view


async def test_an_admin_changes_the_rules_in_the_form_and_they_apply_at_once(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_slack.add_user("U0ALEX", "alex")
    fake_slack.add_user("U0SAM", "sam")
    fake_slack.add_user("U0PRIYA", "priya")
    fake_slack.add_usergroup("S0PILOT", ["U0PRIYA"], handle="pilot")
    view = await open_access_form(bot, fake_slack)
    blocks = {block.get("block_id"): block for block in view["blocks"]}
    assert blocks["dms"]["element"]["initial_option"]["value"] == "on"
    assert blocks["dms"]["hint"]["text"] == "In force: the setting DRAFTBOT_DMS."
    assert blocks["guests"]["element"]["initial_option"]["value"] == "on"  # the test's setting
    assert "initial_users" not in blocks["allowed_users"]["element"]  # anyone

    values = access_values(["U0ALEX"], "@pilot", dms="off")
    payload = view_submission(view["callback_id"], view["private_metadata"], values, "UADMIN1")
    status, body = await bot.interact(payload)
    assert status == 200 and body == {}
    [said] = await replies(fake_slack, view["response_url"])
    assert said["text"].startswith("Saved who may use Draftbot: access allowed_users:")
    overrides = bot.services.store.access_overrides()
    assert overrides["allowed_users"]["value"] == "U0ALEX,S0PILOT"
    assert overrides["dms"]["value"] == "off" and "guests" not in overrides  # unchanged
    audit = {
        (row["actor"], row["setting"], row["new_value"])
        for row in bot.services.store.admin_changes()
    }
    assert ("UADMIN1", "access dms", "off") in audit
    assert ("UADMIN1", "access allowed_users", "U0ALEX,S0PILOT") in audit

    # In force at once on this instance: Sam is refused, Priya (in @pilot) and admins pass.
    reply = await bot.slash("email to Alex about Friday", user_id="U0SAM")
    refused = (await replies(fake_slack, reply.response_url))[-1]
    assert refused["text"] == wording.REFUSED_NOT_ALLOWED.format(admins="<@UADMIN1>")
    reply = await bot.slash("email to Alex about Friday", user_id="U0ALEX", channel_id="D0ALEX")
    refused = (await replies(fake_slack, reply.response_url))[-1]
    assert "switched off in direct messages" in refused["text"]
    assert fake_anthropic.message_requests() == []
    for user in ("U0PRIYA", "UADMIN1"):
        reply = await bot.slash("email to Alex about Friday", user_id=user)
        await replies(fake_slack, reply.response_url)
    assert len(fake_anthropic.message_requests()) == 2
    reasons = [(r["user_id"], r["error"]) for r in bot.usage_rows(status="refused")]
    assert reasons == [("U0SAM", "not allowed"), ("U0ALEX", "dms")]

    # The form shows where each rule now comes from.
    view = await open_access_form(bot, fake_slack)
    blocks = {block.get("block_id"): block for block in view["blocks"]}
    assert blocks["dms"]["element"]["initial_option"]["value"] == "off"
    assert "changed at run time by UADMIN1" in blocks["dms"]["hint"]["text"]
    assert "DRAFTBOT_DMS says: on" in blocks["dms"]["hint"]["text"]
    assert blocks["allowed_users"]["element"]["initial_users"] == ["U0ALEX"]
    assert blocks["allowed_groups"]["element"]["initial_value"] == "S0PILOT"

    # Choosing the setting's own value again is a reset.
    values = access_values(["U0ALEX"], "S0PILOT", dms="on")
    await bot.interact(
        view_submission(view["callback_id"], view["private_metadata"], values, "UADMIN1")
    )
    assert "dms" not in bot.services.store.access_overrides()


async def test_the_form_names_an_unknown_group_and_refuses_non_admins(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    view = await open_access_form(bot, fake_slack)
    values = access_values([], "@nobody", dms="on")
    _, body = await bot.interact(
        view_submission(view["callback_id"], view["private_metadata"], values, "UADMIN1")
    )
    assert body["response_action"] == "errors"
    assert "no user group @nobody" in body["errors"]["allowed_groups"]
    assert bot.services.store.access_overrides() == {}

    fake_slack.add_user("U0SAM", "sam")
    reply = await bot.slash("admin access", user_id="U0SAM")
    [said] = await replies(fake_slack, reply.response_url)
    assert "only for Draftbot admins" in said["text"]
    assert len(fake_slack.calls_to("views.open")) == 1  # the admin's only


def run_cli(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_cli_shows_sets_and_resets_overrides(env: dict[str, str]) -> None:
    env = {**env, "DRAFTBOT_BLOCKED_CHANNELS": "C0RANDOM"}
    shown = run_cli(env, "access", "show")
    assert "setting DRAFTBOT_BLOCKED_CHANNELS" in shown and "C0RANDOM" in shown
    said = run_cli(env, "access", "set", "--allowed-users", "U0ALEX, S0PILOT", "--dms", "off")
    assert "allowed_users: setting: - → U0ALEX,S0PILOT" in said
    assert "dms: setting: on → off" in said
    shown = run_cli(env, "access", "show")
    assert "U0ALEX,S0PILOT" in shown and "override by cli" in shown
    assert "access dms" in run_cli(env, "audit")
    said = run_cli(env, "access", "reset", "dms")
    assert "dms: off → setting: on" in said
    shown = run_cli(env, "access", "show")
    assert "setting DRAFTBOT_DMS" in shown and "override by cli" in shown  # users still
    run_cli(env, "access", "reset")
    assert "override" not in run_cli(env, "access", "show")
    result = CliRunner().invoke(cli, ["access", "set", "--allowed-channels", "#general"], env=env)
    assert result.exit_code == 2 and "channel IDs" in result.output
    assert "Traceback" not in result.output


async def test_a_change_on_one_instance_applies_on_another_sharing_postgresql(
    postgres_url: str,
    bot: RunningBot,
    second_bot: RunningBot,
    fake_anthropic: FakeAnthropic,
    fake_slack: FakeSlack,
) -> None:
    assert second_bot.services.settings.database_url == postgres_url
    now = [1000.0]
    second_bot.services.access_rules.clock = lambda: now[0]
    reply = await second_bot.slash("email to Alex about Friday", channel_id="C0GENERAL")
    await replies(fake_slack, reply.response_url)
    assert len(fake_anthropic.message_requests()) == 1

    view = await open_access_form(bot, fake_slack)
    values = access_values([], "", dms="on")
    values["blocked_channels"]["value"]["selected_conversations"] = ["C0GENERAL"]
    await bot.interact(
        view_submission(view["callback_id"], view["private_metadata"], values, "UADMIN1")
    )
    assert bot.services.store.access_overrides()["blocked_channels"]["value"] == "C0GENERAL"

    now[0] += second_bot.services.access_rules.ttl + 0.1
    reply = await second_bot.slash("email to Alex about Friday", channel_id="C0GENERAL")
    said = (await replies(fake_slack, reply.response_url))[-1]
    assert said["text"] == wording.REFUSED_CHANNEL.format(admins="<@UADMIN1>", command="/draft")
    assert len(fake_anthropic.message_requests()) == 1

    save_overrides(
        bot.services.store, bot.services.settings.access, {"blocked_channels": None}, "cli"
    )
    now[0] += second_bot.services.access_rules.ttl + 0.1
    reply = await second_bot.slash("email to Alex about Friday", channel_id="C0GENERAL")
    await replies(fake_slack, reply.response_url)
    assert len(fake_anthropic.message_requests()) == 2


async def test_doctor_names_the_presets_and_overrides_in_force(env: dict[str, str]) -> None:
    checks, _ = await doctor(env)
    assert checks["Channel presets"].detail == "No channel has a preset."
    assert checks["Access overrides"].detail == "None: the access settings apply as set."
    run_cli(env, "channel", "set", "C0SUPPORT", "--model", "claude-haiku-4-5")
    run_cli(env, "channel", "set", "C0RANDOM", "--disabled")
    run_cli(env, "access", "set", "--dms", "off")
    checks, report = await doctor(env)
    presets = checks["Channel presets"].detail
    assert presets.startswith("2 channels with a preset: ")
    assert "C0SUPPORT: model claude-haiku-4-5" in presets and "C0RANDOM: switched off" in presets
    overrides = checks["Access overrides"].detail
    assert "DRAFTBOT_DMS=off (by cli, " in overrides
    assert "but not in direct messages" in overrides
    assert "Access overrides" in report
