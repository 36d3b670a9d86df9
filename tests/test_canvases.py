"""Long and document-like drafts as Slack canvases: the button, the automatic overflow, and
workspaces where canvases are not allowed. Through the real server and the fakes."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from bot import wording
from bot.config import DEFAULT_PROMPTS_DIR, Settings
from bot.doctor.slack import slack_token_checks
from bot.prompts import PromptError, load_prompts
from tests.conftest import MANIFEST_SCOPES, RunningBot
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.slack import FakeSlack
from tests.test_previews import button, draft_id_of, replies

# Over one Slack message (12,000 characters of markdown), under four.
SENTENCE = "We agreed the offsite runs Tuesday to Thursday, with travel on Monday."
PARAGRAPH = " ".join([SENTENCE] * 20)
LONG = "\n\n".join([f"### Part {n}\n\n{PARAGRAPH}" for n in range(1, 11)])
# Over four messages: the DM's limit.
VERY_LONG = "\n\n".join([f"### Chapter {n}\n\n{PARAGRAPH} {PARAGRAPH}" for n in range(1, 26)])


@pytest.fixture
def env(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """Email and the catch-all may write long drafts here (their usual caps are shorter)."""
    prompts = tmp_path / "long-prompts"
    shutil.copytree(env["DRAFTBOT_PROMPTS_DIR"], prompts)
    for name, cap in (("email", "1500"), ("general", "2500")):
        path = prompts / f"{name}.md"
        path.write_text(path.read_text().replace(f"max_tokens: {cap}", "max_tokens: 30000"))
    return {**env, "DRAFTBOT_PROMPTS_DIR": str(prompts)}


def labels(message: dict[str, Any]) -> list[str]:
    return [e["text"]["text"] for e in message["blocks"][-1].get("elements", []) if "text" in e]


async def long_preview(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack, text: str = LONG
) -> tuple[str, list[dict[str, Any]]]:
    fake_anthropic.default = Reply(text=text, chunk_size=4000)
    reply = await bot.slash("email to the team with every detail of the offsite plan")
    shown = await replies(fake_slack, reply.response_url, 2)
    return draft_id_of(shown[-1]), shown


async def click_canvas(bot: RunningBot, fake_slack: FakeSlack, draft_id: str, user: str = "U0001"):
    url = fake_slack.new_response_url()
    await bot.interact(button("canvas", draft_id, url, user=user))
    [note] = await replies(fake_slack, url)
    return note


async def test_a_long_draft_offers_a_canvas_that_holds_it_for_its_author(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    draft_id, shown = await long_preview(bot, fake_anthropic, fake_slack)
    assert wording.LABEL_OPEN_CANVAS in labels(shown[-1])
    billed = len(fake_anthropic.message_requests())
    note = await click_canvas(bot, fake_slack, draft_id)
    [canvas] = fake_slack.canvases()
    assert canvas["kind"] == "standalone" and canvas["title"] == "Email draft"
    assert canvas["markdown"] == LONG  # the whole draft, not the first message's part
    assert canvas["access"]["U0001"] == "write"
    url = fake_slack.canvas_url(canvas["id"])
    assert note["text"] == wording.CANVAS_READY.format(url=url)
    assert note["replace_original"] is False  # the preview stays, with its buttons
    # Its own step: no model call and no usage row for the canvas.
    assert len(fake_anthropic.message_requests()) == billed == 1
    assert len(bot.usage_rows()) == 1


async def test_a_short_email_has_no_canvas_button_but_a_document_like_kind_does(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(text="Hi Alex, could we meet on Tuesday about the budget?")
    email = await bot.slash("email to Alex asking for a meeting about the budget")
    [preview] = await replies(fake_slack, email.response_url)
    assert wording.LABEL_OPEN_CANVAS not in labels(preview)
    assert bot.services.library.find("summary").canvas_ok  # type: ignore[union-attr]
    fake_anthropic.default = Reply(text="**TL;DR:** the vendor moved delivery to Tuesday.")
    summary = await bot.slash('summary of "Priya: delivery moved to Tuesday. Tom: OK."')
    [preview] = await replies(fake_slack, summary.response_url)
    assert wording.LABEL_OPEN_CANVAS in labels(preview)


async def test_the_canvas_holds_the_same_safe_text_the_preview_showed(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    risky = "<!channel> Agenda for <@U0BOSS>: [the doc](javascript:alert(1))\n\n" + LONG
    draft_id, shown = await long_preview(bot, fake_anthropic, fake_slack, risky)
    await click_canvas(bot, fake_slack, draft_id)
    [canvas] = fake_slack.canvases()
    first_part = shown[0]["blocks"][0]["text"]
    assert canvas["markdown"].startswith(first_part)
    assert "<!channel>" not in canvas["markdown"] and "<@U0BOSS>" not in canvas["markdown"]
    assert "javascript:" not in canvas["markdown"]


async def test_only_the_author_can_open_the_canvas(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    draft_id, _ = await long_preview(bot, fake_anthropic, fake_slack)
    note = await click_canvas(bot, fake_slack, draft_id, user="U0MALLORY")
    assert note["text"] == "Only <@U0001> can change or post this draft."
    assert fake_slack.canvases() == []


async def test_free_plans_get_the_channel_canvas_with_a_plain_note(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_slack.canvas_plan = "free"
    draft_id, _ = await long_preview(bot, fake_anthropic, fake_slack)
    note = await click_canvas(bot, fake_slack, draft_id)
    [refused] = [c for c in fake_slack.calls_to("canvases.create")]
    assert refused.response["error"] == "free_teams_cannot_create_standalone_canvases"
    [canvas] = fake_slack.canvases()
    assert canvas["kind"] == "channel" and canvas["channel_id"] == "C0001"
    assert canvas["markdown"] == LONG
    url = fake_slack.canvas_url(canvas["id"])
    assert note["text"] == wording.CANVAS_IN_CHANNEL.format(url=url, channel="C0001")
    assert "Everyone in <#C0001> can see it" in note["text"]


async def test_without_canvases_the_draft_goes_to_a_file_with_a_note(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_slack.canvas_plan = "free"
    fake_slack.fail("conversations.canvases.create", "channel_canvas_already_exists")
    draft_id, _ = await long_preview(bot, fake_anthropic, fake_slack)
    note = await click_canvas(bot, fake_slack, draft_id)
    assert note["text"] == wording.CANVAS_AS_FILE
    assert fake_slack.canvases() == []
    [upload] = fake_slack.uploads
    assert upload["channel_id"] == "DU0001" and upload["content"].decode() == LONG
    assert len(bot.usage_rows()) == 1


async def test_a_draft_too_long_for_four_messages_goes_to_a_canvas(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(text=VERY_LONG, chunk_size=20_000)
    reply = await bot.slash("write the whole offsite handbook")
    [shown] = await replies(fake_slack, reply.response_url)
    [canvas] = fake_slack.canvases()
    assert canvas["markdown"] == VERY_LONG and canvas["access"]["U0001"] == "write"
    assert canvas["kind"] == "standalone"  # never a channel's canvas without a click
    assert shown["text"] == wording.SENT_AS_CANVAS.format(url=fake_slack.canvas_url(canvas["id"]))
    assert "Chapter 1" in json.dumps(shown["blocks"]) and fake_slack.uploads == []
    assert len(bot.usage_rows()) == 1


async def test_a_very_long_draft_goes_to_a_file_where_canvases_are_off(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_slack.canvas_plan = "free"  # standalone refused; no channel canvas without a click
    fake_anthropic.default = Reply(text=VERY_LONG, chunk_size=20_000)
    reply = await bot.slash("write the whole offsite handbook")
    [shown] = await replies(fake_slack, reply.response_url)
    assert shown["text"] == wording.SENT_AS_FILE
    assert fake_slack.canvases() == []
    [upload] = fake_slack.uploads
    assert upload["content"].decode() == VERY_LONG


async def test_a_token_without_canvases_write_falls_back_to_the_file(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_slack.scopes = [s for s in MANIFEST_SCOPES if s != "canvases:write"]
    draft_id, _ = await long_preview(bot, fake_anthropic, fake_slack)
    note = await click_canvas(bot, fake_slack, draft_id)
    assert note["text"] == wording.CANVAS_AS_FILE
    [call] = fake_slack.calls_to("canvases.create")
    assert call.response["error"] == "missing_scope"


async def test_doctor_names_a_missing_canvases_scope(
    settings: Settings, fake_slack: FakeSlack
) -> None:
    fake_slack.scopes = [s for s in MANIFEST_SCOPES if s != "canvases:write"]
    checks = {check.name: check for check in await slack_token_checks(settings)}
    scopes = checks["Slack scopes"]
    assert not scopes.ok
    assert "canvases:write (opening long drafts as canvases)" in scopes.detail


async def test_a_double_click_opens_one_canvas(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    draft_id, _ = await long_preview(bot, fake_anthropic, fake_slack)
    fake_slack.set_latency("canvases.create", 1.0)
    urls = [fake_slack.new_response_url() for _ in range(2)]
    await asyncio.gather(*(bot.interact(button("canvas", draft_id, url)) for url in urls))
    notes = [(await replies(fake_slack, url))[0]["text"] for url in urls]
    assert len(fake_slack.canvases()) == 1
    assert wording.DRAFT_BUSY in notes
    # Once made, the draft is free again: its other buttons (and another canvas) still work.
    assert (await click_canvas(bot, fake_slack, draft_id))["text"].startswith("Your draft is in")


def test_output_in_the_front_matter_marks_a_kind_document_like(tmp_path: Path) -> None:
    shutil.copytree(DEFAULT_PROMPTS_DIR, tmp_path, dirs_exist_ok=True)
    agenda = "---\nname: agenda\ndescription: d\nexample: e\nmax_tokens: 5\n{output}---\nb"
    (tmp_path / "agenda.md").write_text(agenda.format(output="output: canvas-ok\n"))
    library = load_prompts(tmp_path)
    assert library.find("agenda").canvas_ok  # type: ignore[union-attr]
    assert not library.find("email").canvas_ok  # type: ignore[union-attr]
    (tmp_path / "agenda.md").write_text(agenda.format(output="output: slides\n"))
    with pytest.raises(PromptError, match="`output` may only be canvas-ok"):
        load_prompts(tmp_path)
