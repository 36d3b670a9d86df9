"""Check before you post, through Slack: the preview's warnings, the confirm on Post, the
Edit form's second chance, and findings recomputed for every new text."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.request
from datetime import timedelta
from typing import Any

import pytest

from bot import draft_facts, wording
from bot.draft_facts import KeptFacts
from bot.fact_check import known_facts
from bot.sessions import DraftSessions
from handlers.blocks import checks
from tests.conftest import SIGNING_SECRET, RunningBot
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.signing import sign_request, slash_command_body
from tests.fakes.slack import FakeSlack
from tests.test_previews import button, draft_id_of, replies, view_submission
from tests.test_summaries import seed_thread, shortcut, wait

REQUEST = "email to Alex asking for a meeting about Q2 budget planning"
PLACEHOLDERS = "Hi Alex,\n\nCould we meet on [date] about Q2 budget planning?\n\nBest,\n[Your name]"


def notes(preview: dict[str, Any]) -> list[str]:
    """The mrkdwn of the preview's section blocks (its notes, warnings and flags)."""
    return [block["text"]["text"] for block in preview["blocks"] if block["type"] == "section"]


def post_button(preview: dict[str, Any]) -> dict[str, Any]:
    [post] = [e for e in preview["blocks"][-1]["elements"] if e["action_id"] == "draft_post"]
    return post


async def preview_for(bot: RunningBot, fake_slack: FakeSlack, text: str = REQUEST) -> dict:
    reply = await bot.slash(text)
    [preview] = await replies(fake_slack, reply.response_url)
    return preview


async def test_an_invented_date_is_flagged_on_the_preview(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(
        text="Hi Alex,\n\nCould we meet on Thursday 14 March to go over Q2 budget planning?"
        "\n\nThanks!"
    )
    preview = await preview_for(bot, fake_slack)
    assert notes(preview) == [
        ":warning: check: *Thursday 14 March* in “Could we meet on Thursday 14 March to go "
        "over Q2 budget planning?”"
    ]
    assert "confirm" not in post_button(preview)  # nothing to fill in: Post needs no confirm


async def test_a_draft_that_only_repeats_the_request_has_no_warning(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    request = "email to alex: the Q2 review moves to 14 March at 3pm, budget $1,200, see acme.io/q2"
    fake_anthropic.default = Reply(
        text="Hi Alex,\n\nThe Q2 review moves to March 14th at 15:00. The budget stays at 1200 "
        "dollars; the details are at https://acme.io/q2.\n\nThanks!"
    )
    preview = await preview_for(bot, fake_slack, request)
    assert notes(preview) == []
    [sent] = fake_anthropic.message_requests()
    assert sent.body is not None and request in json.dumps(sent.body["messages"])


async def test_findings_are_escaped_and_never_mention_anyone(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(
        text="Hi Alex,\n\nWe asked Orion <!channel> and @here, and <b>yes</b> it works."
    )
    preview = await preview_for(bot, fake_slack)
    [warning] = notes(preview)
    assert "<!channel>" not in warning and "@here" not in warning and "<b>" not in warning
    # As the draft itself shows them: broadcasts inert, markup escaped.
    assert warning == (
        ":warning: check: *Orion* in “We asked Orion @\u2060channel and @\u2060here, and "
        "&lt;b&gt;yes&lt;/b&gt; it works.”"
    )


async def test_more_findings_than_shown_are_counted(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(
        text="Hi Alex,\n\nWe have 11 seats, 12 desks, 13 rooms, 14 phones, 15 chairs and 16 mugs."
    )
    [warning] = notes(await preview_for(bot, fake_slack))
    lines = warning.splitlines()
    assert [line.split("*")[1] for line in lines[:5]] == ["11", "12", "13", "14", "15"]
    assert lines[5] == wording.CHECK_MORE.format(count=1)


async def test_placeholders_are_listed_and_post_asks_for_a_confirm(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(text=PLACEHOLDERS)
    preview = await preview_for(bot, fake_slack)
    assert notes(preview) == [":pencil: fill in before posting: [date], [Your name]"]
    assert post_button(preview)["confirm"] == {
        "title": {"type": "plain_text", "text": "Post with placeholders?"},
        "text": {
            "type": "plain_text",
            "text": "This draft still has 2 placeholders to fill in: [date], [Your name]. "
            "Post anyway?",
        },
        "confirm": {"type": "plain_text", "text": "Post anyway"},
        "deny": {"type": "plain_text", "text": "Keep editing"},
    }


async def test_a_refinement_is_checked_again(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(
        Reply(text=PLACEHOLDERS),
        Reply(text="Hi Alex, could we meet on Monday 9 March about Q2 budget planning?"),
    )
    preview = await preview_for(bot, fake_slack)
    url = fake_slack.new_response_url()
    await bot.interact(button("shorter", draft_id_of(preview), url))
    _, shorter = await replies(fake_slack, url, 2)
    assert notes(shorter) == [
        ":warning: check: *Monday 9 March* in “Hi Alex, could we meet on Monday 9 March about "
        "Q2 budget planning?”"
    ]
    assert "confirm" not in post_button(shorter)


async def test_a_summary_is_checked_against_its_thread_after_a_refinement(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    # Shorter does not read the thread again: what the first draft read is kept.
    seed_thread(fake_slack)
    fake_anthropic.script(
        Reply(text="**TL;DR:** Priya says the vendor moved delivery to Tuesday; room 4B."),
        Reply(text="Priya: delivery moved to Tuesday, Tom asks about room 4B on 3 June."),
    )
    url = fake_slack.new_response_url()
    await bot.interact(shortcut(url))
    *_, preview = await wait(fake_slack, url, 3)
    assert notes(preview) == []
    again = fake_slack.new_response_url()
    await bot.interact(button("shorter", draft_id_of(preview), again))
    _, shorter = await replies(fake_slack, again, 2)
    assert notes(shorter) == [
        ":warning: check: *3 June* in “Priya: delivery moved to Tuesday, Tom asks about "
        "room 4B on 3 June.”"
    ]


async def open_edit(bot: RunningBot, fake_slack: FakeSlack, draft_id: str, url: str) -> dict:
    await bot.interact(button("edit", draft_id, url))
    await asyncio.to_thread(fake_slack.wait_for, lambda f: f.calls_to("views.open"), 5.0)
    view = fake_slack.calls_to("views.open")[-1].args["view"]
    return json.loads(view) if isinstance(view, str) else view


def edited(metadata: str, text: str) -> dict[str, Any]:
    values = {"text": {"value": {"type": "plain_text_input", "value": text}}}
    return view_submission("draft_edit_modal", metadata, values)


async def test_an_edit_that_keeps_placeholders_asks_again_then_posts(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(text=PLACEHOLDERS)
    draft_id = draft_id_of(await preview_for(bot, fake_slack))
    url = fake_slack.new_response_url()
    view = await open_edit(bot, fake_slack, draft_id, url)
    still = "Hi Alex, could we meet on Friday about Q2? Best, [Your name]"

    _, body = await bot.interact(edited(view["private_metadata"], still))
    assert body["response_action"] == "update"
    form = body["view"]
    assert form["blocks"][0]["text"]["text"] == (
        ":pencil: This still has 1 placeholder to fill in: [Your name]. Fill them in, or post "
        "again to send it as it is."
    )
    assert form["blocks"][1]["element"]["initial_value"] == still
    assert form["submit"]["text"] == "Post anyway"
    assert fake_slack.calls_to("chat.postMessage") == []

    _, body = await bot.interact(edited(form["private_metadata"], still))
    assert body == {}
    [post] = fake_slack.calls_to("chat.postMessage")
    assert "[Your name]" in json.dumps(post.args["blocks"])


async def test_an_edit_that_fills_them_in_posts_without_a_warning(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(text=PLACEHOLDERS)
    draft_id = draft_id_of(await preview_for(bot, fake_slack))
    url = fake_slack.new_response_url()
    view = await open_edit(bot, fake_slack, draft_id, url)
    assert "posting_anyway" not in json.loads(view["private_metadata"])

    filled = "Hi Alex, could we meet on Friday about Q2 budget planning? Best, Sam"
    _, body = await bot.interact(edited(view["private_metadata"], filled))
    assert body == {}
    [post] = fake_slack.calls_to("chat.postMessage")
    assert filled in json.dumps(post.args["blocks"])
    [done] = await replies(fake_slack, url)
    assert done["text"].startswith(":white_check_mark: Posted")


async def test_a_new_placeholder_after_the_warning_is_warned_of_too(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(text=PLACEHOLDERS)
    draft_id = draft_id_of(await preview_for(bot, fake_slack))
    view = await open_edit(bot, fake_slack, draft_id, fake_slack.new_response_url())
    _, body = await bot.interact(edited(view["private_metadata"], "Hi, [Your name]"))
    _, body = await bot.interact(edited(body["view"]["private_metadata"], "Hi {team}, [Your name]"))
    assert body["response_action"] == "update"
    assert "{team}, [Your name]" in body["view"]["blocks"][0]["text"]["text"]
    assert fake_slack.calls_to("chat.postMessage") == []


async def test_many_long_placeholders_still_fit_slacks_confirm(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    names = [f"[the full legal name of signatory number {n}]" for n in range(1, 13)]
    fake_anthropic.default = Reply(text="Hi Alex,\n\nSigned by " + ", ".join(names) + ".")
    preview = await preview_for(bot, fake_slack)  # the fake refuses what Slack would
    text = post_button(preview)["confirm"]["text"]["text"]
    assert len(text) <= 300
    assert text.startswith("This draft still has 12 placeholders to fill in: [the full legal")
    assert " and " in text and text.endswith("more. Post anyway?")
    assert notes(preview)[0].endswith(", ".join(names[7:8]) + " and 4 more")


async def test_a_warned_edit_with_many_long_placeholders_fits_and_posts(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(text=PLACEHOLDERS)
    draft_id = draft_id_of(await preview_for(bot, fake_slack))
    view = await open_edit(bot, fake_slack, draft_id, fake_slack.new_response_url())
    names = [f"[insert the name of stakeholder number {n} here]" for n in range(1, 61)]
    names += [f"[имя участника номер {n} здесь]" for n in range(1, 21)]  # 6 characters each
    still = "Hi all,\n\nSigned by " + ", ".join(names) + "."  # escaped, before

    _, body = await bot.interact(edited(view["private_metadata"], still))
    assert body["response_action"] == "update"
    form = body["view"]
    assert len(form["private_metadata"]) <= 3000  # Slack refuses the update past this
    assert form["submit"]["text"] == "Post anyway"

    _, body = await bot.interact(edited(form["private_metadata"], still))
    assert body == {}
    [post] = fake_slack.calls_to("chat.postMessage")
    assert "stakeholder number 60 here]" in json.dumps(post.args["blocks"])


async def test_a_link_in_a_finding_shows_where_it_goes(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(
        text="Hi Alex,\n\nPay at [paypal.com](https://evil.example/pay)."
    )
    [warning] = notes(await preview_for(bot, fake_slack))
    assert warning == (
        ":warning: check: *https://evil.example/pay* in “Pay at "
        "[paypal.com (evil.example)](https://evil.example/pay).”"
    )


async def test_a_failing_check_never_costs_the_draft(
    bot: RunningBot,
    fake_anthropic: FakeAnthropic,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(text: str, *_: Any, **__: Any) -> Any:
        raise ValueError(f"cannot read {text!r}")

    monkeypatch.setattr(checks, "check_draft", broken)
    fake_anthropic.default = Reply(text="Hi Alex,\n\nThe secret plan is ready by [date].")
    preview = await preview_for(bot, fake_slack)
    assert preview["blocks"][0]["text"] == "Hi Alex,\n\nThe secret plan is ready by [date]."
    assert notes(preview) == [] and "confirm" not in post_button(preview)
    assert "check before you post failed (ValueError)" in caplog.text
    assert "secret plan" not in caplog.text


async def test_an_address_the_request_gives_in_angle_brackets_is_no_placeholder(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    request = "tell the team questions go to Jane Doe <jane@acme.com>"
    repeated = "Hi team,\n\nQuestions go to Jane Doe <jane@acme.com>.\n\nThanks!"
    fake_anthropic.default = Reply(text=repeated)
    preview = await preview_for(bot, fake_slack, request)
    assert notes(preview) == []
    assert "confirm" not in post_button(preview)  # Post does not ask "Post anyway?"

    url = fake_slack.new_response_url()
    view = await open_edit(bot, fake_slack, draft_id_of(preview), url)
    _, body = await bot.interact(edited(view["private_metadata"], repeated))
    assert body == {}  # posted at once: the Edit form did not warn either
    [post] = fake_slack.calls_to("chat.postMessage")
    assert "jane@acme.com" in json.dumps(post.args["blocks"])


async def test_reading_a_large_material_does_not_hold_up_anyone_elses_command(
    bot: RunningBot,
    fake_anthropic: FakeAnthropic,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Reading 20 files' facts takes a while (0.66 s for 790 KB); 1.5 s stands in for it.
    reading = threading.Event()
    read = draft_facts.known_facts

    def slow_known_facts(texts: Any, **options: Any) -> Any:
        if not reading.is_set():
            reading.set()
            time.sleep(1.5)
        return read(texts, **options)

    def someone_else_acked_in() -> float:
        """Another person's /draft, sent from another thread (this test shares the bot's
        event loop) the moment the facts are being read: seconds to its ack."""
        assert reading.wait(5.0)
        body = slash_command_body(
            "a note to the team", user_id="U0OTHER", response_url=fake_slack.new_response_url()
        )
        started = time.monotonic()
        sent = urllib.request.Request(
            f"{bot.url}/slack/events", data=body, headers=sign_request(body, SIGNING_SECRET)
        )
        with urllib.request.urlopen(sent, timeout=10) as answer:
            assert answer.status == 200
        return time.monotonic() - started

    monkeypatch.setattr(draft_facts, "known_facts", slow_known_facts)
    fake_anthropic.default = Reply(text="Hi Alex,\n\nCould we meet about Q2 budget planning?")
    other = asyncio.create_task(asyncio.to_thread(someone_else_acked_in))
    first = await bot.slash(REQUEST)
    assert await other < 1.0  # acked while the first draft's facts were still being read
    [preview] = await replies(fake_slack, first.response_url)
    assert notes(preview) == []


@pytest.mark.parametrize("finish", ["post", "discard", "edit and post"])
async def test_a_finished_drafts_facts_are_forgotten(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack, finish: str
) -> None:
    fake_anthropic.default = Reply(text="Hi Alex,\n\nCould we meet about Q2 budget planning?")
    draft_id = draft_id_of(await preview_for(bot, fake_slack))
    kept = bot.services.sessions.kept_facts
    assert kept.get(draft_id) is not None  # its material's facts, for the next refinement
    url = fake_slack.new_response_url()
    if finish == "edit and post":
        view = await open_edit(bot, fake_slack, draft_id, url)
        await bot.interact(edited(view["private_metadata"], "Hi Alex, could we meet?"))
    else:
        await bot.interact(button(finish, draft_id, url))
    await replies(fake_slack, url)
    assert kept.get(draft_id) is None and len(kept) == 0


async def test_kept_facts_age_out_with_the_retention_period(bot: RunningBot) -> None:
    running = bot.services.sessions
    sessions = DraftSessions(running.drafter, running.store, running.library, retention_days=3)
    assert sessions.kept_facts.max_age == 3 * 86400  # DRAFTBOT_DRAFT_RETENTION_DAYS
    now = [0.0]
    kept = KeptFacts(max_age=timedelta(days=3), clock=lambda: now[0])
    kept.keep("a", known_facts(["meet Alex"]))
    now[0] = 2 * 86400.0
    kept.keep("b", known_facts(["meet Sam"]))
    kept.keep("a", known_facts(["meet Alex again"]))  # a refinement: still aged from day 0
    assert kept.get("a") is not None
    now[0] = 3 * 86400.0  # the day "a"'s row may be purged: its facts go first
    assert kept.get("a") is None and kept.get("b") is not None
    now[0] = 5 * 86400.0
    kept.keep("c", known_facts(["meet Kim"]))  # keeping another clears the aged ones
    assert len(kept) == 1
