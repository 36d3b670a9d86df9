"""The company pack (prompts/_company.md): where it goes in the request and its cache
breakpoint, what doctor measures, and the style check with its Fix style button."""

from __future__ import annotations

import asyncio
import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest

from bot import wording
from bot.config import DEFAULT_PROMPTS_DIR
from bot.doctor import Check, run_checks
from bot.prompts import COMPANY_FILE, load_prompts
from bot.style_check import check_style, parse_avoid_list
from tests.conftest import RunningBot
from tests.fakes.anthropic import MAX_BREAKPOINTS, FakeAnthropic, Reply
from tests.fakes.slack import FakeSlack

SHIPPED = (DEFAULT_PROMPTS_DIR / COMPANY_FILE).read_text()
# The worked example inside the shipped file's comment, as an admin would paste it in.
EXAMPLE_PACK = SHIPPED.split("An example pack, for a made-up company:", 1)[1].rsplit("-->", 1)[0]
EMAIL = "email to a clinic about the new reminder settings"
SUMMARY = 'summary: "Priya: reminders go out at 9. Tom: great."'


def tokens(text: str) -> int:
    return math.ceil(len(text) / 4)  # the fake's rule for a text block


def prompts_with(tmp_path: Path, company: str | None, house: str | None = None) -> Path:
    folder = tmp_path / "prompts"
    shutil.copytree(DEFAULT_PROMPTS_DIR, folder)
    if company is None:
        (folder / COMPANY_FILE).unlink()
    else:
        (folder / COMPANY_FILE).write_text(company)
    if house is not None:
        (folder / "_house_style.md").write_text(house)
    return folder


@pytest.fixture
def company_pack() -> None:
    """Used by a test: the bot reads a copy of the prompts with the example pack filled in."""


@pytest.fixture
def env(env: dict[str, str], request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    if "company_pack" in request.fixturenames:
        env = {**env, "DRAFTBOT_PROMPTS_DIR": str(prompts_with(tmp_path, EXAMPLE_PACK))}
    return env


async def replies(fake_slack: FakeSlack, url: str, n: int = 1) -> list[dict[str, Any]]:
    return await asyncio.to_thread(fake_slack.wait_for_responses, url, n, 10.0)


def breakpoints(body: dict[str, Any]) -> int:
    return json.dumps(body).count('"cache_control"')


# ---------------------------------------------------------------- the request and its cache


@pytest.mark.usefixtures("company_pack")
async def test_the_pack_sits_between_house_style_and_kind_on_one_shared_breakpoint(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    for text in (EMAIL, SUMMARY):
        reply = await bot.slash(text)
        await replies(fake_slack, reply.response_url)

    library = bot.services.library
    assert library.company is not None and "Brightwave" in library.company
    assert "<!--" not in library.company  # admins' notes never reach the model
    first, second = (r.body for r in fake_anthropic.message_requests())
    assert first is not None and second is not None
    house, company, kind = first["system"]
    assert house == {"type": "text", "text": library.house_style}  # no breakpoint of its own
    assert company == {
        "type": "text",
        "text": library.company,
        "cache_control": {"type": "ephemeral"},
    }
    assert kind["text"] == library.find("email").body  # type: ignore[union-attr]
    assert kind["cache_control"] == {"type": "ephemeral"}
    # Two of the four breakpoints: a channel's block and an attached file still fit.
    assert breakpoints(first) == 2 <= MAX_BREAKPOINTS - 2
    assert second["system"][:2] == first["system"][:2]

    shared = tokens(library.house_style) + tokens(library.company)
    email_row, summary_row = bot.usage_rows()
    assert email_row["cache_creation_input_tokens"] == shared + tokens(kind["text"])
    # Another kind reads the house style and the company pack from the cache.
    assert summary_row["cache_read_input_tokens"] == shared
    assert summary_row["cache_creation_input_tokens"] == tokens(second["system"][2]["text"])


def test_the_shipped_pack_is_an_example_that_changes_nothing(tmp_path: Path) -> None:
    shipped = load_prompts(DEFAULT_PROMPTS_DIR)
    without = load_prompts(prompts_with(tmp_path, None))
    assert shipped.company is None and "## Words to avoid" in SHIPPED
    assert shipped.avoid == without.avoid
    for kind in shipped.kinds:
        assert shipped.system_blocks(kind) == without.system_blocks(kind)
    # Filled in, the same example is a pack: its own words join the house style's.
    filled = load_prompts(prompts_with(tmp_path / "filled", EXAMPLE_PACK))
    assert filled.company is not None
    assert {"world-class", "customer base"} <= {r.phrase for r in filled.avoid}


async def test_the_shipped_prompts_send_two_system_blocks(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    reply = await bot.slash(EMAIL)
    await replies(fake_slack, reply.response_url)
    [request] = fake_anthropic.message_requests()
    assert request.body is not None
    house, _kind = request.body["system"]
    assert house["text"] == bot.services.library.house_style
    assert house["cache_control"] == {"type": "ephemeral"}


# ---------------------------------------------------------------- doctor


async def doctor_caching(env: dict[str, str], prompts: Path) -> tuple[Check, Check]:
    checks = {c.name: c for c in await run_checks({**env, "DRAFTBOT_PROMPTS_DIR": str(prompts)})}
    return checks["Prompt files"], checks["Prompt caching"]


async def test_doctor_measures_the_pack_and_the_shared_prefix(
    env: dict[str, str], tmp_path: Path
) -> None:
    files, caching = await doctor_caching(env, prompts_with(tmp_path, EXAMPLE_PACK))
    library = load_prompts(tmp_path / "prompts")
    assert library.company is not None
    house, pack = tokens(library.house_style), tokens(library.company)
    assert caching.ok and not caching.warning, caching
    # count_tokens needs a message: doctor sends one character, which the house figure holds.
    measured = f"house style alone {house + 1:,}, company pack {pack:,}, shared prefix "
    assert f"{measured}{house + pack + 1:,}," in caching.detail
    assert "Company pack loaded from _company.md" in files.detail
    assert "6 the company pack avoids" in files.detail

    files, caching = await doctor_caching(env, prompts_with(tmp_path / "shipped", SHIPPED))
    assert (
        "No company pack (_company.md is absent or only comments); drafts are checked for "
        "18 words the house style avoids." in files.detail
    )
    assert "company pack" not in caching.detail


async def test_doctor_warns_when_the_pack_is_past_useful_size(
    env: dict[str, str], tmp_path: Path
) -> None:
    padding = "\n\n## More background\n\n" + "Brightwave serves clinics across the UK. " * 500
    _, caching = await doctor_caching(env, prompts_with(tmp_path, EXAMPLE_PACK + padding))
    assert caching.ok and caching.warning
    assert "The company pack is " in caching.detail
    assert "past the 4,000 that drafts make good use of" in caching.detail
    assert f"Trim {tmp_path / 'prompts' / COMPANY_FILE}" in caching.fix


async def test_doctor_says_how_much_more_pack_the_shared_prefix_needs(
    env: dict[str, str], tmp_path: Path
) -> None:
    """A short house style and a short pack: each kind's whole prompt still caches, but the
    prefix every kind shares falls under Sonnet's 2,048 and is not shared."""
    house = (DEFAULT_PROMPTS_DIR / "_house_style.md").read_text()[:4800]
    pack = "# Company pack\n\nBrightwave makes FlowDesk, spelled exactly so.\n"
    prompts = prompts_with(tmp_path, pack, house=house)
    library = load_prompts(prompts)
    shared = tokens(library.house_style) + tokens(pack.strip()) + 1  # and doctor's message
    assert shared < 2048 < shared + min(tokens(k.body) for k in library.kinds)

    _, caching = await doctor_caching(env, prompts)
    assert caching.ok and caching.warning, caching
    assert (
        f"the shared house style and company pack together are {shared:,} tokens, below the "
        "2,048-token minimum for claude-sonnet-4-6" in caching.detail
    )
    assert f"Add about {2048 - shared:,} tokens" in caching.fix
    assert str(prompts / COMPANY_FILE) in caching.fix


# ---------------------------------------------------------------- the style check


def test_the_check_is_case_insensitive_on_word_boundaries_and_skips_code() -> None:
    rules = parse_avoid_list(
        "# Pack\n\n## Words to avoid\n\n- utilize → use\n- `touch base`\n- synergy\n\n"
        "## Approved examples\n\n- not a rule\n",
        "company",
    )
    assert [(r.phrase, r.preferred) for r in rules] == [
        ("utilize", "use"),
        ("touch base", None),
        ("synergy", None),
    ]
    text = (
        "Let's Touch\nbase soon. We UTILIZED it.\n\n```python\nsynergy = utilize()\n```\n"
        "Run `synergy` later; synergyless and reutilize are other words."
    )
    assert [(h.found, h.rule.phrase) for h in check_style(text, rules)] == [
        ("UTILIZED", "utilize"),
        ("Touch base", "touch base"),
    ]


async def test_a_banned_word_is_flagged_on_the_preview_and_fix_style_fixes_it(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(
        Reply(
            text="We will utilize the new rota and touch base on Friday.\n\n"
            "```python\nleverage = 2\n```"
        ),
        Reply(text="We will use the new rota and talk on Friday."),
    )
    reply = await bot.slash(EMAIL)
    [preview] = await replies(fake_slack, reply.response_url)
    flag = wording.STYLE_FLAG.format(words="'utilize' and 'touch base'", style=wording.STYLE_HOUSE)
    assert {"type": "section", "text": {"type": "mrkdwn", "text": flag}} in preview["blocks"]
    assert "leverage" not in json.dumps(preview["blocks"][1:])  # only in a code block
    actions = preview["blocks"][-1]["elements"]
    [fix] = [e for e in actions if e.get("action_id") == "draft_fix_style"]
    assert fix["text"]["text"] == wording.LABEL_FIX_STYLE

    url = fake_slack.new_response_url()
    await bot.interact(click("fix_style", fix["value"], url))
    working, fixed = await replies(fake_slack, url, 2)
    assert working["text"] == wording.STYLE_FIXING
    assert fixed["blocks"][0]["text"] == "We will use the new rota and talk on Friday."
    assert flag not in json.dumps(fixed)
    assert "draft_fix_style" not in json.dumps(fixed["blocks"][-1])

    requests = fake_anthropic.message_requests()
    assert len(requests) == 2  # the check itself never calls the model
    body = requests[1].body
    assert body is not None
    instruction = body["messages"][-1]["content"]
    assert '- "utilize": write "use" instead' in instruction
    assert '- "touch base": say it plainly instead' in instruction
    assert "leverage" not in instruction
    assert [row["source"] for row in bot.usage_rows()] == ["slash", "fix_style"]


@pytest.mark.usefixtures("company_pack")
async def test_the_company_list_is_flagged_as_the_company_style(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(text="Our world-class team will Utilise FlowDesk.")
    reply = await bot.slash(EMAIL)
    [preview] = await replies(fake_slack, reply.response_url)
    text = json.dumps(preview["blocks"])
    assert wording.STYLE_FLAG.format(words="'world-class'", style=wording.STYLE_COMPANY) in text
    assert wording.STYLE_FLAG.format(words="'Utilise'", style=wording.STYLE_HOUSE) in text


async def test_a_clean_draft_has_no_flag_and_no_fix_style(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(text="We will use the new rota from Friday. Utilities are on.")
    reply = await bot.slash(EMAIL)
    [preview] = await replies(fake_slack, reply.response_url)
    assert ":pencil2:" not in json.dumps(preview)
    assert "draft_fix_style" not in json.dumps(preview["blocks"][-1])


async def test_fix_style_on_a_draft_with_nothing_to_fix_makes_no_model_call(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    """A Fix style button from an earlier preview, after the draft was edited clean."""
    fake_anthropic.default = Reply(text="A clean draft.")
    reply = await bot.slash(EMAIL)
    [preview] = await replies(fake_slack, reply.response_url)
    draft_id = preview["blocks"][-1]["elements"][0]["value"]
    url = fake_slack.new_response_url()
    await bot.interact(click("fix_style", draft_id, url))
    *_, answer = await replies(fake_slack, url, 2)
    assert wording.STYLE_NOTHING_TO_FIX in json.dumps(answer)
    assert len(fake_anthropic.message_requests()) == 1
    assert [row["source"] for row in bot.usage_rows()] == ["slash"]


async def test_the_messages_tab_flags_the_streamed_draft_when_it_ends(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(text="Let's touch base about the rota.", chunk_size=5)
    dm = {"type": "message", "channel": "D0ALEX", "channel_type": "im", "user": "U0001"}
    assert await bot.event({**dm, "text": EMAIL, "ts": "1700000001.000100", "team": "T0001"})
    done = await asyncio.to_thread(
        fake_slack.wait_for, lambda f: any(s["state"] == "completed" for s in f.streams), 10.0
    )
    assert done
    [stream] = fake_slack.streams
    blocks = json.dumps(stream["blocks"])
    assert wording.STYLE_FLAG.format(words="'touch base'", style=wording.STYLE_HOUSE) in blocks
    assert "draft_fix_style" in blocks


def click(action: str, draft_id: str, response_url: str) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": "U0001", "username": "someone", "team_id": "T0001"},
        "api_app_id": "A0001",
        "team": {"id": "T0001", "domain": "acme"},
        "container": {"type": "message", "is_ephemeral": True, "channel_id": "C0001"},
        "channel": {"id": "C0001", "name": "general"},
        "trigger_id": f"111.222.{action}",
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": f"draft_{action}",
                "block_id": "draft_actions",
                "value": draft_id,
                "action_ts": "1700000000.000100",
            }
        ],
    }
