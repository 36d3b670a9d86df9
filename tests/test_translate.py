"""Translations: the `translate` kind from /draft, "in <language>" phrasing, and the
Translate message shortcut, into the person's Slack language when they name none."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from bot import wording
from bot.config import DEFAULT_PROMPTS_DIR
from bot.prompts import load_prompts
from tests.conftest import RunningBot
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.slack import FakeSlack
from tests.test_previews import button, draft_id_of

LIBRARY = load_prompts(DEFAULT_PROMPTS_DIR)
MESSAGE_TS = "1700000000.000300"
MANIFEST = json.loads((Path(DEFAULT_PROMPTS_DIR).parent / "manifest.json").read_text())


def translate_shortcut(
    response_url: str, text: str, channel: str = "C0PROJ", user: str = "U0001"
) -> dict[str, Any]:
    return {
        "type": "message_action",
        "callback_id": "translate_message",
        "trigger_id": "555.666.tr",
        "response_url": response_url,
        "team": {"id": "T0001", "domain": "acme"},
        "channel": {"id": channel, "name": "project"},
        "user": {"id": user, "name": "alex"},
        "message_ts": MESSAGE_TS,
        "message": {"type": "message", "ts": MESSAGE_TS, "user": "U0PRIYA", "text": text},
    }


async def wait(fake_slack: FakeSlack, url: str, n: int) -> list[dict[str, Any]]:
    return await asyncio.to_thread(fake_slack.wait_for_responses, url, n, 10.0)


def prompt_of(fake_anthropic: FakeAnthropic, index: int = 0) -> tuple[str, str]:
    """(the user turn, the kind's system block) of a model request."""
    body = fake_anthropic.message_requests()[index].body
    assert body is not None
    return body["messages"][0]["content"], body["system"][1]["text"]


def locale_lookups(fake_slack: FakeSlack) -> list[dict[str, Any]]:
    return [
        c.args
        for c in fake_slack.calls_to("users.info")
        if str(c.args.get("include_locale")).lower() in ("1", "true")
    ]


TRANSLATE = LIBRARY.find("translate")
EMAIL = LIBRARY.find("email")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("translate this to Spanish: we are closed on Friday", "translate"),
        ("please translate into German: see you at noon", "translate"),
        ("translation of: bonjour à tous", "translate"),
        ("in Portuguese: the delivery moved to Tuesday", "translate"),
        ("In Japanese, thanks for the help yesterday", "translate"),
        ("email to Marta in Portuguese about the delivery moving to Tuesday", "email"),
        ("in the meantime, write a bio for Sam", "general"),  # "in" not before a language
    ],
)
def test_translation_requests_route_to_the_translate_kind(text: str, kind: str) -> None:
    route = LIBRARY.route(text)
    assert route.kind is not None and route.kind.name == kind
    assert route.text == text


def test_in_a_language_alone_asks_for_the_text() -> None:
    assert LIBRARY.route("in Spanish").needs_details


def test_the_shortcut_is_in_the_manifest() -> None:
    shortcut = next(
        s for s in MANIFEST["features"]["shortcuts"] if s["callback_id"] == "translate_message"
    )
    assert shortcut == {**shortcut, "name": "Translate message", "type": "message"}


async def test_shortcut_translates_into_the_persons_slack_language_privately(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_slack.add_user("U0001", "alex", locale="pt-BR")
    fake_anthropic.default = Reply(text="A entrega mudou para terça-feira.")
    url = fake_slack.new_response_url()
    text = "The delivery moved to Tuesday. <@U0TOM> <!here> please tell facilities."
    status, _ = await bot.interact(translate_shortcut(url, text))
    assert status == 200
    working, preview = await wait(fake_slack, url, 2)
    assert working["text"] == "Drafting your translation…"
    assert preview["blocks"][0]["text"] == "A entrega mudou para terça-feira."
    assert preview["blocks"][-1]["type"] == "actions"  # the usual buttons
    assert all(p["response_type"] == "ephemeral" for p in fake_slack.responses(url))
    assert fake_slack.calls_to("chat.postMessage") == []  # private: nothing posted

    prompt, system = prompt_of(fake_anthropic)
    assert TRANSLATE is not None and system == TRANSLATE.body
    assert "<message>\nThe delivery moved to Tuesday." in prompt
    assert "&lt;@U0TOM&gt;" in prompt and "<!here>" not in prompt  # data, never live
    assert "Translate into: Brazilian Portuguese" in prompt
    assert [a["user"] for a in locale_lookups(fake_slack)] == ["U0001"]
    assert bot.usage_rows()[0]["source"] == "shortcut"


async def test_new_versions_of_a_translation_keep_its_language(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_slack.add_user("U0001", "alex", locale="de-DE")
    url = fake_slack.new_response_url()
    await bot.interact(translate_shortcut(url, "We are closed on Friday."))
    _, preview = await wait(fake_slack, url, 2)
    again = fake_slack.new_response_url()
    await bot.interact(button("regenerate", draft_id_of(preview), again))
    await wait(fake_slack, again, 2)
    prompt, _ = prompt_of(fake_anthropic, 1)
    assert "We are closed on Friday." in prompt and "Translate into: German" in prompt


async def test_shortcut_respects_who_can_read_the_conversation(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_slack.add_channel("C0SECRET", "secret", is_private=True)
    fake_slack.channel_members["C0SECRET"] = {"U0PRIYA"}
    url = fake_slack.new_response_url()
    await bot.interact(translate_shortcut(url, "Salaries for next year", channel="C0SECRET"))
    [problem] = await wait(fake_slack, url, 1)
    assert problem["text"] == wording.TRANSLATE_CANNOT_CONFIRM.format(
        channel="C0SECRET", command="/draft"
    )
    await asyncio.sleep(0.2)
    assert fake_anthropic.message_requests() == [] and bot.usage_rows() == []


async def test_shortcut_on_a_message_without_words_says_so(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    url = fake_slack.new_response_url()
    await bot.interact(translate_shortcut(url, "  "))
    [note] = await wait(fake_slack, url, 1)
    assert note["text"] == wording.TRANSLATE_NOTHING
    assert fake_anthropic.message_requests() == []


async def test_a_named_language_wins_over_the_slack_locale(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_slack.add_user("U0001", "alex", locale="fr-FR")
    reply = await bot.slash("translate this to Spanish: we are closed on Friday")
    assert reply.body["text"] == "Drafting your translation…"
    [preview] = await wait(fake_slack, reply.response_url, 1)
    assert preview["blocks"][-1]["type"] == "actions"
    prompt, system = prompt_of(fake_anthropic)
    assert TRANSLATE is not None and system == TRANSLATE.body
    assert prompt == "translate this to Spanish: we are closed on Friday"
    assert locale_lookups(fake_slack) == []


async def test_a_translation_naming_no_language_uses_the_slack_locale(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_slack.add_user("U0001", "alex", locale="ja-JP")
    reply = await bot.slash("translation: the offsite is moved to March")
    await wait(fake_slack, reply.response_url, 1)
    prompt, _ = prompt_of(fake_anthropic)
    assert prompt.startswith("translation: the offsite is moved to March")
    assert prompt.endswith(wording.TRANSLATE_INTO.format(language="Japanese"))


async def test_an_email_in_portuguese_stays_an_email(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_slack.add_user("U0001", "alex", locale="en-GB")
    text = "email to Marta in Portuguese saying the delivery moved to Tuesday"
    reply = await bot.slash(text)
    assert reply.body["text"] == "Drafting your email…"
    await wait(fake_slack, reply.response_url, 1)
    prompt, system = prompt_of(fake_anthropic)
    assert EMAIL is not None and system == EMAIL.body
    assert prompt == text  # the house style writes it in the language the request names
    assert "in Portuguese" in prompt and locale_lookups(fake_slack) == []


@pytest.mark.parametrize("trouble", ["error", "network"])
async def test_without_the_locale_the_translation_still_arrives(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack, trouble: str
) -> None:
    fake_slack.add_user("U0001", "alex", locale="it-IT")
    if trouble == "error":
        fake_slack.fail("users.info", "fatal_error", times=5)
    else:
        fake_slack.drop_connection("users.info", times=5)
    reply = await bot.slash("translation: the offsite is moved to March")
    [preview] = await wait(fake_slack, reply.response_url, 1)
    assert preview["blocks"][-1]["type"] == "actions"
    prompt, _ = prompt_of(fake_anthropic)
    assert prompt == "translation: the offsite is moved to March"  # no language added
