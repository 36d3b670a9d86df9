"""Per-channel presets: the admin form and the CLI, what a channel's requests send the model
(its block, cache breakpoints, model, default kind and tone), the preview's footer, a
channel switched off, the audit log, and a second instance on the same PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from click.testing import CliRunner

from bot import wording
from bot.channel_settings import CHANNEL_BLOCK_INTRO, INSTRUCTIONS_LIMIT, ChannelPreset, save_preset
from bot.cli import cli
from bot.config import Settings
from bot.services import build_services
from handlers.app import build_slack_app, build_web_app
from tests import sample_files
from tests.conftest import FAST_RETRIES, RunningBot
from tests.fakes.anthropic import MAX_BREAKPOINTS, FakeAnthropic, Reply
from tests.fakes.slack import FakeSlack
from tests.test_company_pack import EXAMPLE_PACK, breakpoints, prompts_with
from tests.test_files_slack import file_shortcut
from tests.test_previews import view_submission

pytest_plugins = ["tests.postgres"]

SUPPORT = "C0SUPPORT"
INSTRUCTIONS = "Write to customers of Brightwave Clinics. Sign off as 'The Brightwave team'."


@pytest.fixture
def company_pack() -> None:
    """Used by a test: the bot reads a copy of the prompts with the example pack filled in."""


@pytest.fixture
def env(env: dict[str, str], request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    if "company_pack" in request.fixturenames:
        env = {**env, "DRAFTBOT_PROMPTS_DIR": str(prompts_with(tmp_path, EXAMPLE_PACK))}
    if "postgres_url" in request.fixturenames:
        env = {**env, "DATABASE_URL": request.getfixturevalue("postgres_url")}
    return env


def preset(**fields: Any) -> ChannelPreset:
    values: dict[str, Any] = {"channel_id": SUPPORT, "channel_name": "support", "updated_by": "cli"}
    return ChannelPreset(**{**values, **fields})


async def replies(fake_slack: FakeSlack, url: str, n: int = 1) -> list[dict[str, Any]]:
    return await asyncio.to_thread(fake_slack.wait_for_responses, url, n, 10.0)


def last_request(fake_anthropic: FakeAnthropic) -> dict[str, Any]:
    body = fake_anthropic.message_requests()[-1].body
    assert body is not None
    return body


def opened_view(fake_slack: FakeSlack) -> dict[str, Any]:
    view = fake_slack.calls_to("views.open")[-1].args["view"]
    return json.loads(view) if isinstance(view, str) else view  # type: ignore[no-any-return]


def form_values(**answers: str) -> dict[str, Any]:
    """A submitted preset form: text for instructions, options for the rest."""
    values: dict[str, Any] = {}
    for block, answer in answers.items():
        if block == "instructions":
            values[block] = {"value": {"type": "plain_text_input", "value": answer}}
        else:
            values[block] = {"value": {"selected_option": {"value": answer}}}
    return values


# ---------------------------------------------------------------- the form


async def test_an_admin_opens_the_form_with_the_current_values_and_saves_a_change(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    save_preset(bot.services.store, preset(instructions=INSTRUCTIONS, default_kind="email"))
    reply = await bot.slash(f"admin channel <#{SUPPORT}|support>", user_id="UADMIN1")
    assert reply.status == 200 and reply.body == {}
    assert await asyncio.to_thread(fake_slack.wait_for, lambda f: f.calls_to("views.open"), 5.0)
    view = opened_view(fake_slack)
    blocks = {block.get("block_id"): block for block in view["blocks"]}
    assert "settings for #support" in json.dumps(view["blocks"][0])
    assert blocks["instructions"]["element"]["initial_value"] == INSTRUCTIONS
    assert blocks["instructions"]["element"]["max_length"] == INSTRUCTIONS_LIMIT
    assert blocks["default_kind"]["element"]["initial_option"]["value"] == "email"
    assert blocks["model"]["element"]["initial_option"]["value"] == "-"  # Draftbot's default
    assert blocks["enabled"]["element"]["initial_option"]["value"] == "yes"
    models = [o["value"] for o in blocks["model"]["element"]["options"]]
    assert "claude-haiku-4-5" in models

    values = form_values(
        instructions=INSTRUCTIONS,
        default_kind="email",
        model="claude-haiku-4-5",
        tone="Friendly",
        enabled="yes",
    )
    payload = view_submission(view["callback_id"], view["private_metadata"], values, "UADMIN1")
    status, body = await bot.interact(payload)
    assert status == 200 and body == {}
    [said] = await replies(fake_slack, reply.response_url)
    assert said["text"].startswith("Saved Draftbot's settings for #support")
    assert "channel model: - → claude-haiku-4-5" in said["text"]
    row = bot.services.store.channel_setting(SUPPORT)
    assert row is not None and (row["model"], row["tone"]) == ("claude-haiku-4-5", "Friendly")
    changes = [
        (c["actor"], c["setting"], c["new_value"]) for c in bot.services.store.admin_changes()
    ]
    assert ("UADMIN1", "channel model", "claude-haiku-4-5") in changes
    assert ("UADMIN1", "channel tone", "Friendly") in changes
    assert not any(
        setting == "channel instructions" and who == "UADMIN1" for who, setting, _ in changes
    )

    # The admins' Home tab lists it.
    assert await bot.event({"type": "app_home_opened", "user": "UADMIN1", "tab": "home"}) == 200
    assert await asyncio.to_thread(fake_slack.wait_for, lambda f: f.calls_to("views.publish"), 5.0)
    home = json.dumps(fake_slack.calls_to("views.publish")[0].args["view"], ensure_ascii=False)
    assert f"<@UADMIN1> changed the channel model of <#{SUPPORT}>: - → claude-haiku-4-5" in home


async def test_the_form_refuses_an_unknown_model_and_too_long_instructions(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    reply = await bot.slash(f"admin channel {SUPPORT}", user_id="UADMIN1")
    assert await asyncio.to_thread(fake_slack.wait_for, lambda f: f.calls_to("views.open"), 5.0)
    view = opened_view(fake_slack)
    values = form_values(instructions="x" * 2_001, model="gpt-4", enabled="yes")
    payload = view_submission(view["callback_id"], view["private_metadata"], values, "UADMIN1")
    _, body = await bot.interact(payload)
    assert body["response_action"] == "errors"
    assert "at most 2,000 characters; these are 2,001" in body["errors"]["instructions"]
    assert "no price for the model 'gpt-4'" in body["errors"]["model"]
    assert bot.services.store.channel_setting(SUPPORT) is None
    assert bot.services.store.admin_changes() == []
    assert reply.status == 200


async def test_non_admins_get_the_usual_refusal_and_no_form(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    fake_slack.add_user("U0SAM", "sam", display_name="Sam")
    reply = await bot.slash(f"admin channel <#{SUPPORT}|support>", user_id="U0SAM")
    [said] = await replies(fake_slack, reply.response_url)
    assert "only for Draftbot admins" in said["text"] and "<@UADMIN1>" in said["text"]
    assert fake_slack.calls_to("views.open") == []


# ---------------------------------------------------------------- what the model receives


@pytest.mark.usefixtures("company_pack")
async def test_a_channels_request_carries_its_block_after_the_kinds_on_its_own_breakpoint(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    save_preset(bot.services.store, preset(instructions=INSTRUCTIONS, tone="Friendly"))
    for _ in range(2):
        reply = await bot.slash("email to a clinic about reminders", channel_id=SUPPORT)
        [shown] = await replies(fake_slack, reply.response_url)
    first, second = (r.body for r in fake_anthropic.message_requests())
    assert first is not None and second is not None
    library = bot.services.library
    house, company, kind, channel = first["system"]
    assert (house["text"], company["text"]) == (library.house_style, library.company)
    assert kind["text"] == library.find("email").body  # type: ignore[union-attr]
    assert channel["text"].startswith(CHANNEL_BLOCK_INTRO)
    assert INSTRUCTIONS in channel["text"] and "friendly tone" in channel["text"]
    assert [("cache_control" in b) for b in first["system"]] == [False, True, True, True]
    assert breakpoints(first) == 3 <= MAX_BREAKPOINTS - 1  # room for a file
    # The second request from the channel reads all of it, its own block too, from the cache.
    first_row, second_row = bot.usage_rows()
    assert second_row["cache_read_input_tokens"] == first_row["cache_creation_input_tokens"] > 0
    assert second_row["channel_id"] == SUPPORT
    footer = json.dumps(shown["blocks"], ensure_ascii=False)
    assert "using #support settings" in footer

    # Another channel's request has no such block, and still reads the shared prefix.
    reply = await bot.slash("email to a clinic about reminders", channel_id="C0OTHER")
    [other] = await replies(fake_slack, reply.response_url)
    assert len(last_request(fake_anthropic)["system"]) == 3
    assert "settings" not in json.dumps(other["blocks"][-2:])


@pytest.mark.usefixtures("company_pack")
async def test_company_kind_channel_and_a_file_make_four_breakpoints(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    save_preset(bot.services.store, preset(channel_id="C0PROJ", instructions=INSTRUCTIONS))
    pdf = fake_slack.add_file("contract.pdf", sample_files.pdf(["Term: 12 months"]))
    url = fake_slack.new_response_url()
    await bot.interact(file_shortcut(url, [pdf]))
    assert await asyncio.to_thread(fake_slack.wait_for, lambda f: f.calls_to("views.open"), 5.0)
    view = opened_view(fake_slack)
    values = {
        "kind": {"value": {"selected_option": {"value": "email"}}},
        "details": {"value": {"value": "to Priya asking about the renewal term"}},
    }
    await bot.interact(view_submission("draft_form", view["private_metadata"], values))
    await replies(fake_slack, url, 2)
    body = last_request(fake_anthropic)
    assert len(body["system"]) == 4 and "cache_control" in body["system"][-1]
    [document, _text] = body["messages"][0]["content"]
    assert document["type"] == "document" and "cache_control" in document
    assert breakpoints(body) == MAX_BREAKPOINTS  # house+company, kind, channel, the file
    [row] = bot.usage_rows()
    assert row["status"] == "ok"  # the API took it: a fifth would be a 400


async def test_the_presets_model_kind_and_footer_apply_to_requests_naming_no_kind(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    save_preset(bot.services.store, preset(default_kind="email", model="claude-haiku-4-5"))
    email = bot.services.library.find("email")
    assert email is not None
    reply = await bot.slash("to Alex asking to move Friday's meeting", channel_id=SUPPORT)
    [shown] = await replies(fake_slack, reply.response_url)
    body = last_request(fake_anthropic)
    assert body["model"] == "claude-haiku-4-5"
    assert body["system"][-1]["text"] == email.body  # the channel's kind; no block of its own
    assert "email · " in json.dumps(shown["blocks"], ensure_ascii=False)
    assert "using #support settings" in json.dumps(shown["blocks"], ensure_ascii=False)
    [row] = bot.usage_rows()
    assert (row["model"], row["kind"], row["channel_id"]) == ("claude-haiku-4-5", "email", SUPPORT)

    # A request that names its kind keeps it; the channel's model still applies.
    reply = await bot.slash('summary: "Priya: reminders at 9. Tom: great."', channel_id=SUPPORT)
    await replies(fake_slack, reply.response_url)
    summary = bot.services.library.find("summary")
    assert summary is not None
    assert last_request(fake_anthropic)["system"][-1]["text"] == summary.body
    # The draft's buttons keep the channel's kind and model.
    draft_id = shown["blocks"][-1]["elements"][0]["value"]
    assert bot.services.store.get_draft(draft_id)["kind"] == "email"  # type: ignore[index]


async def test_the_draft_form_opened_in_the_channel_starts_on_its_default_kind(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    save_preset(bot.services.store, preset(default_kind="summary"))
    await bot.slash("", channel_id=SUPPORT)  # the empty /draft opens the form
    assert await asyncio.to_thread(fake_slack.wait_for, lambda f: f.calls_to("views.open"), 5.0)
    kind = opened_view(fake_slack)["blocks"][0]["element"]["initial_option"]["value"]
    assert kind == "summary"
    await bot.slash("", channel_id="C0ELSEWHERE")  # no preset there: the library's default
    assert await asyncio.to_thread(
        fake_slack.wait_for, lambda f: len(f.calls_to("views.open")) == 2, 5.0
    )
    view = fake_slack.calls_to("views.open")[1].args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    default = bot.services.library.default_kind.name
    assert view["blocks"][0]["element"]["initial_option"]["value"] == default != "summary"


async def test_a_channel_switched_off_refuses_with_one_sentence_and_no_model_call(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    save_preset(bot.services.store, preset(enabled=False))
    reply = await bot.slash("email to Alex about Friday", channel_id=SUPPORT)
    said = (await replies(fake_slack, reply.response_url))[-1]
    assert said["text"] == wording.REFUSED_CHANNEL.format(admins="<@UADMIN1>", command="/draft")
    assert fake_anthropic.message_requests() == []
    [row] = bot.usage_rows()
    assert (row["status"], row["error"], row["channel_id"]) == ("refused", "channel", SUPPORT)
    assert row["input_tokens"] is None or row["input_tokens"] == 0


# ---------------------------------------------------------------- the CLI


def run_cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(cli, list(args), env=env, input=stdin, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_cli_sets_shows_lists_and_unsets_a_preset(env: dict[str, str], tmp_path: Path) -> None:
    instructions = tmp_path / "support.md"
    instructions.write_text(INSTRUCTIONS + "\n")
    said = run_cli(
        env, "channel", "set", SUPPORT, "--instructions-file", str(instructions),
        "--default-kind", "email", "--model", "claude-haiku-4-5", "--tone", "formal",
    )  # fmt: skip
    assert f"{SUPPORT}: channel model - → claude-haiku-4-5" in said
    assert f"{SUPPORT}: channel instructions - → {len(INSTRUCTIONS)} characters, sha256 " in said
    assert "Default tone:  Formal" in said
    shown = run_cli(env, "channel", "show", SUPPORT)
    assert "Default kind:  email" in shown and INSTRUCTIONS in shown
    run_cli(env, "channel", "set", SUPPORT, "--disabled")
    listed = run_cli(env, "channel", "list")
    assert SUPPORT in listed and "claude-haiku-4-5" in listed and " no " in listed
    audit = run_cli(env, "audit")
    assert "channel enabled" in audit and "yes → no" in audit
    assert INSTRUCTIONS not in audit  # only its length and hash
    assert "preset removed" in run_cli(env, "channel", "unset", SUPPORT)
    assert "no preset" in run_cli(env, "channel", "show", SUPPORT)
    assert "no → yes" in run_cli(env, "audit")  # with no preset, Draftbot may be used there
    assert "channel model" in run_cli(env, "audit") and "claude-haiku-4-5 → -" in run_cli(
        env, "audit"
    )


def test_the_cli_refuses_a_model_without_a_price_plainly(env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["channel", "set", SUPPORT, "--model", "gpt-4"], env=env)
    assert result.exit_code == 2
    assert "no price for the model 'gpt-4'" in result.output
    assert "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["channel", "set", "#support", "--tone", "formal"], env=env)
    assert result.exit_code == 2 and "is not a channel" in result.output


# ---------------------------------------------------------------- several instances


@pytest.fixture
async def second_bot(settings: Settings, fake_slack: FakeSlack) -> AsyncIterator[RunningBot]:
    """Another instance on the same database, as a platform running two."""
    services = build_services(settings, FAST_RETRIES)
    runner = web.AppRunner(build_web_app(build_slack_app(services), services))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    async with aiohttp.ClientSession() as session:
        yield RunningBot(
            f"http://127.0.0.1:{runner.addresses[0][1]}", services, fake_slack, session
        )
    await runner.cleanup()
    await services.aclose()


async def test_a_change_on_one_instance_applies_on_another_sharing_postgresql(
    postgres_url: str,
    bot: RunningBot,
    second_bot: RunningBot,
    fake_anthropic: FakeAnthropic,
    fake_slack: FakeSlack,
) -> None:
    assert bot.services.settings.database_url == postgres_url
    now = [1000.0]
    second_bot.services.drafter.presets.clock = lambda: now[0]
    fake_anthropic.default = Reply(text="A draft.")
    reply = await second_bot.slash("email to Alex about Friday", channel_id=SUPPORT)
    await replies(fake_slack, reply.response_url)
    assert len(last_request(fake_anthropic)["system"]) == 2  # no preset yet

    # An admin saves a preset through the first instance's form.
    await bot.slash(f"admin channel <#{SUPPORT}|support>", user_id="UADMIN1")
    assert await asyncio.to_thread(fake_slack.wait_for, lambda f: f.calls_to("views.open"), 5.0)
    view = opened_view(fake_slack)
    values = form_values(instructions=INSTRUCTIONS, enabled="yes")
    await bot.interact(
        view_submission(view["callback_id"], view["private_metadata"], values, "UADMIN1")
    )
    assert bot.services.store.channel_setting(SUPPORT) is not None

    now[0] += second_bot.services.drafter.presets.ttl + 0.1  # the second's cache runs out
    reply = await second_bot.slash("email to Alex about Friday", channel_id=SUPPORT)
    [shown] = await replies(fake_slack, reply.response_url)
    assert INSTRUCTIONS in last_request(fake_anthropic)["system"][-1]["text"]
    assert "using #support settings" in json.dumps(shown["blocks"], ensure_ascii=False)

    # Switched off on the first: the second refuses once its cache runs out.
    save_preset(bot.services.store, preset(instructions=INSTRUCTIONS, enabled=False))
    now[0] += second_bot.services.drafter.presets.ttl + 0.1
    requests = len(fake_anthropic.message_requests())
    reply = await second_bot.slash("email to Alex about Friday", channel_id=SUPPORT)
    said = (await replies(fake_slack, reply.response_url))[-1]
    assert "isn't used in this channel" in said["text"]
    assert len(fake_anthropic.message_requests()) == requests
