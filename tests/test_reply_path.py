"""Issue 9: the way back to the person. Every finished draft reaches them whole, with its
buttons, whatever Slack or the network does on the way; every refusal says what to do.

Wire-level: what the fake Slack received, what the fake Anthropic received, usage rows.
Items 6 and 7 (summaries of linked and long threads) are in tests/test_reply_path_links.py.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from handlers.blocks.text import split_markdown
from tests.conftest import RunningBot
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.slack import FakeSlack

USER = "U0001"
DM_CHANNEL = "D0ALEX"  # the person's Messages tab with Draftbot, as events name it
MARKDOWN_LIMIT = 12_000  # a markdown block: at most 12,000 characters per message
UNEXPECTED_START = "Something went wrong"
REQUEST = "email to Alex asking for a meeting about Q2 budget planning"


@pytest.fixture
def env(env: dict[str, str], request: pytest.FixtureRequest) -> dict[str, str]:
    """With `long_drafts`, the code kind may write long drafts too (for item 5)."""
    if request.node.get_closest_marker("long_drafts"):
        code = Path(env["DRAFTBOT_PROMPTS_DIR"]) / "code.md"
        code.write_text(code.read_text().replace("max_tokens: 3000", "max_tokens: 20000"))
    return env


# ------------------------------------------------------------------ waiting


def _activity(bot: RunningBot, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic) -> tuple:
    return (
        len(fake_slack.calls),
        len(fake_slack.response_attempts),
        len(fake_anthropic.requests),
        bot.services.in_flight.count,
    )


async def settle(
    bot: RunningBot,
    fake_slack: FakeSlack,
    fake_anthropic: FakeAnthropic,
    quiet: float = 0.5,
    timeout: float = 15.0,  # noqa: ASYNC109
) -> None:
    """Until no draft is in flight and neither fake has heard anything for `quiet` s."""
    deadline = time.monotonic() + timeout
    last, since = _activity(bot, fake_slack, fake_anthropic), time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        now = _activity(bot, fake_slack, fake_anthropic)
        if now != last:
            last, since = now, time.monotonic()
        elif now[3] == 0 and time.monotonic() - since >= quiet:
            return
    raise AssertionError(f"Draftbot was still busy after {timeout} s")


async def eventually(
    check: Callable[[], bool],
    bot: RunningBot,
    fake_slack: FakeSlack,
    fake_anthropic: FakeAnthropic,
    *,
    timeout: float = 15.0,  # noqa: ASYNC109
    idle: float = 3.0,
) -> bool:
    """True as soon as `check()` holds; False once Draftbot has done nothing at all for
    `idle` seconds (no draft in flight, no request to either fake), or after `timeout`."""
    deadline = time.monotonic() + timeout
    last, since = _activity(bot, fake_slack, fake_anthropic), time.monotonic()
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.05)
        now = _activity(bot, fake_slack, fake_anthropic)
        if now != last:
            last, since = now, time.monotonic()
        elif now[3] == 0 and time.monotonic() - since >= idle:
            return check()
    return check()


async def responses(fake_slack: FakeSlack, url: str, n: int = 1) -> list[dict[str, Any]]:
    return await fake_slack.wait_for_responses_async(url, n, 10.0)


async def usage_row(bot: RunningBot, source: str) -> dict[str, Any]:
    for _ in range(300):
        rows = bot.usage_rows(source=source)
        if rows:
            return rows[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no usage row with source={source!r}")


# ------------------------------------------------------------------ messages


def actions_blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in message.get("blocks") or [] if b.get("type") == "actions"]


def button_values(message: dict[str, Any]) -> set[str]:
    """The values of the draft buttons (draft_post, draft_edit, …) of a message."""
    return {
        str(e.get("value"))
        for block in actions_blocks(message)
        for e in block.get("elements", [])
        if e.get("type") == "button" and str(e.get("action_id", "")).startswith("draft_")
    }


def action_ids(message: dict[str, Any]) -> set[str]:
    return {str(e.get("action_id")) for b in actions_blocks(message) for e in b["elements"]}


def has_preview_buttons(message: dict[str, Any], draft_id: str) -> bool:
    """The preview's actions block: Post to channel and the other draft buttons, each
    carrying this draft's id."""
    buttons = [
        e
        for block in actions_blocks(message)
        for e in block.get("elements", [])
        if e.get("type") == "button" and str(e.get("action_id", "")).startswith("draft_")
    ]
    return "draft_post" in {b["action_id"] for b in buttons} and all(
        str(b.get("value")).rpartition(":")[2] == draft_id  # Changes, Back to: "2:id"
        for b in buttons
    )


def draft_id_of(message: dict[str, Any]) -> str:
    values = button_values(message)
    assert len(values) == 1, f"expected the preview buttons, got {message!r:.300}"
    return values.pop()


def markdown_of(message: dict[str, Any]) -> str:
    return "".join(
        str(b.get("text", "")) for b in message.get("blocks") or [] if b.get("type") == "markdown"
    )


def readable_parts(message: dict[str, Any]) -> list[str]:
    """The words of a message: its text, and its section, context and markdown blocks."""
    parts = [str(message.get("text") or "")]
    for block in message.get("blocks") or []:
        kind = block.get("type")
        if kind == "section":
            parts.append(str((block.get("text") or {}).get("text", "")))
        elif kind == "context":
            parts += [str(e.get("text", "")) for e in block.get("elements", [])]
        elif kind == "markdown":
            parts.append(str(block.get("text", "")))
    return parts


def queue_notes(said: str) -> list[str]:
    """The JSON strings in `said` that tell a queue position ("…number 1 in the queue…")."""
    return re.findall(r'"([^"]*in the queue[^"]*)"', said)


def squash(text: str) -> str:
    """Text without whitespace: splitting into messages may drop blank lines at the cuts."""
    return "".join(text.split())


def visible(posts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the person finally sees from a response_url's posts: each replace_original post
    replaces the message the click came from, the others are added below it."""
    replaced = [p for p in posts if p.get("replace_original") is True]
    added = [p for p in posts if p.get("replace_original") is not True]
    return ([replaced[-1]] if replaced else []) + added


def dm_posts(fake_slack: FakeSlack, user: str = USER, since: int = 0) -> list[dict[str, Any]]:
    """chat.postMessage calls to the person's DM with Draftbot (their user id, or the
    D… channel conversations.open gave), after the first `since` Web API calls."""
    dms = {user, "D" + user}
    return [
        c.args
        for c in fake_slack.calls[since:]
        if c.method == "chat.postMessage" and str(c.args.get("channel")) in dms
    ]


DM_CHANNELS = (DM_CHANNEL, USER, "D" + USER)  # the Messages tab, however it is addressed


def dm_traffic(fake_slack: FakeSlack) -> str:
    """Everything Draftbot sent into the person's DM (messages, streams, updates)."""
    return json.dumps(
        [
            c.args
            for c in fake_slack.calls
            if c.method.startswith("chat.") and str(c.args.get("channel")) in DM_CHANNELS
        ]
    )


def finished_dm_messages(fake_slack: FakeSlack) -> list[dict[str, Any]]:
    """Draftbot's messages in the person's DM as they are now (streams included)."""
    return [
        m
        for channel in (DM_CHANNEL, "D" + USER)
        for m in fake_slack.messages(channel)
        if m.get("bot_id")
    ]


def whole_text_readable(
    fake_slack: FakeSlack, url: str, text: str, *, calls_before: int, uploads_before: int
) -> bool:
    """The whole draft can be read: in the private messages left by the response_url, in
    messages to the person's DM, in one file uploaded to their DM, or in a canvas they can
    open."""
    target = squash(text)
    shown = squash("".join(markdown_of(m) for m in visible(fake_slack.responses(url))))
    in_dm = squash(
        "".join(
            markdown_of(m) + str(m.get("markdown_text") or "")
            for m in dm_posts(fake_slack, since=calls_before)
        )
    )
    dms = {USER, "D" + USER}
    files = [
        squash(f["content"].decode())
        for f in fake_slack.uploads[uploads_before:]
        if f["completed"] and ({f["channel_id"], *(f["channels"] or [])} & dms)
    ]
    files += [
        squash(c["markdown"]) for c in fake_slack.canvases() if c["access"].get(USER) == "write"
    ]
    return target in shown or target in in_dm or any(target in f for f in files)


def long_text(label: str, paragraphs: int) -> str:
    sentence = f"This {label.lower()} paragraph explains one more part of the staff handbook. "
    return "\n\n".join(f"{label} paragraph {i}. " + sentence * 25 for i in range(paragraphs))


# ------------------------------------------------------------------ payloads


def click(
    action: str,
    draft_id: str,
    response_url: str,
    *,
    message: dict[str, Any] | None = None,
    trigger_id: str = "111.222.abc",
) -> dict[str, Any]:
    """A button click on a preview: the ephemeral slash preview in C0001, or (`message`)
    a message Draftbot posted in the person's DM."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": USER, "username": "alex", "team_id": "T0001"},
        "api_app_id": "A0001",
        "team": {"id": "T0001", "domain": "acme"},
        "container": {
            "type": "message",
            "message_ts": "1700000000.999999",
            "channel_id": "C0001",
            "is_ephemeral": True,
        },
        "channel": {"id": "C0001", "name": "general"},
        "trigger_id": trigger_id,
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": f"draft_{action}",
                "block_id": "draft_actions",
                "value": draft_id,
                "action_ts": "1700000002.000001",
            }
        ],
    }
    if message is not None:
        payload["container"] = {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": DM_CHANNEL,
            "is_ephemeral": False,
        }
        payload["channel"] = {"id": DM_CHANNEL, "name": "directmessage"}
        payload["message"] = message
    return payload


def dm(text: str, ts: str = "1700000001.000100") -> dict[str, Any]:
    return {
        "type": "message",
        "channel": DM_CHANNEL,
        "channel_type": "im",
        "user": USER,
        "text": text,
        "ts": ts,
        "team": "T0001",
    }


def input_elements(view: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(block_id, element) for every input of an opened modal, in order."""
    return [
        (str(b["block_id"]), b["element"])
        for b in view.get("blocks", [])
        if b.get("type") == "input" and isinstance(b.get("element"), dict)
    ]


def submission(view: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """A view_submission for an opened modal, as Slack sends it. `answers` maps an element
    type to its state (e.g. {"conversations_select": {"selected_conversation": "C1"}});
    other inputs are left empty."""
    empty: dict[str, dict[str, Any]] = {
        "plain_text_input": {"value": None},
        "conversations_select": {"selected_conversation": None},
        "channels_select": {"selected_channel": None},
        "static_select": {"selected_option": None},
        "checkboxes": {"selected_options": []},
        "radio_buttons": {"selected_option": None},
    }
    values: dict[str, dict[str, Any]] = {}
    for block_id, element in input_elements(view):
        kind = element["type"]
        state = answers.get(kind, empty.get(kind, {}))
        values[block_id] = {element["action_id"]: {"type": kind, **state}}
    return {
        "type": "view_submission",
        "team": {"id": "T0001", "domain": "acme"},
        "user": {"id": USER, "username": "alex", "team_id": "T0001"},
        "api_app_id": "A0001",
        "trigger_id": "333.444.def",
        "view": {
            **view,
            "state": {"values": values},
        },
    }


async def opened_view(fake_slack: FakeSlack, n: int = 1) -> dict[str, Any]:
    """The n-th modal Slack opened, as Slack answered (with its block and action ids)."""
    assert await fake_slack.wait_for_async(
        lambda f: len([c for c in f.calls_to("views.open") if c.response.get("ok")]) >= n, 5.0
    ), f"no modal opened; views.open calls: {fake_slack.calls_to('views.open')!r:.500}"
    call = [c for c in fake_slack.calls_to("views.open") if c.response.get("ok")][n - 1]
    return dict(call.response["view"])


async def finished_stream(fake_slack: FakeSlack) -> dict[str, Any]:
    def done(fake: FakeSlack) -> bool:
        return any(s["state"] == "completed" for s in fake.streams)

    assert await fake_slack.wait_for_async(done, 10.0), "the DM draft never finished"
    return next(s for s in fake_slack.streams if s["state"] == "completed")


async def slash_preview(
    bot: RunningBot, fake_slack: FakeSlack, text: str = REQUEST, **fields: Any
) -> tuple[str, dict[str, Any]]:
    reply = await bot.slash(text, **fields)
    preview = (await responses(fake_slack, reply.response_url))[-1]
    return draft_id_of(preview), preview


# ============================================================ item 1: long drafts


@pytest.mark.long_drafts
async def test_continue_beyond_what_a_response_url_allows_keeps_the_tail_and_the_buttons(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    start = long_text("Opening", 3)
    rest = " " + long_text("Continued", 30) + "\n\nThe final sentence of the handbook."
    assert len(start + rest) > 4 * MARKDOWN_LIMIT
    fake_anthropic.script(
        Reply(text=start, stop_reason="max_tokens", chunk_size=100_000),
        Reply(text=rest, chunk_size=100_000),
    )
    draft_id, preview = await slash_preview(bot, fake_slack, "write the staff handbook")
    assert "draft_continue" in action_ids(preview)

    calls_before, uploads_before = len(fake_slack.calls), len(fake_slack.uploads)
    url = fake_slack.new_response_url()
    status, _ = await bot.interact(click("continue", draft_id, url))
    assert status == 200
    await usage_row(bot, "continue")
    await settle(bot, fake_slack, fake_anthropic)

    whole = bot.services.store.get_draft(draft_id)["text"]  # type: ignore[index]
    assert squash(whole) == squash(start + rest)
    assert whole_text_readable(
        fake_slack, url, whole, calls_before=calls_before, uploads_before=uploads_before
    ), "the end of the continued draft is nowhere the person can read it"
    posts = fake_slack.responses(url)
    assert has_preview_buttons(posts[-1], draft_id), (
        f"the last private message has no preview buttons: {posts[-1]!r:.400}"
    )


@pytest.mark.long_drafts
async def test_a_first_draft_beyond_what_a_response_url_allows_is_whole_and_has_buttons(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    text = long_text("Handbook", 32) + "\n\nThe final sentence of the handbook."
    assert len(text) > 4 * MARKDOWN_LIMIT
    fake_anthropic.script(Reply(text=text, chunk_size=100_000))
    reply = await bot.slash("write the staff handbook")
    await usage_row(bot, "slash")
    await settle(bot, fake_slack, fake_anthropic)

    posts = fake_slack.responses(reply.response_url)
    assert posts, "nothing arrived"
    url = reply.response_url
    assert whole_text_readable(fake_slack, url, text, calls_before=0, uploads_before=0)
    draft_ids = button_values(posts[-1])
    assert len(draft_ids) == 1 and has_preview_buttons(posts[-1], next(iter(draft_ids))), (
        f"the last private message has no preview buttons: {posts[-1]!r:.400}"
    )
    stored = bot.services.store.get_draft(next(iter(draft_ids)))
    assert stored is not None and squash(stored["text"]) == squash(text)
    assert len(bot.usage_rows()) == 1


# ============================================================ item 2: same answers everywhere


@pytest.mark.env(DRAFTBOT_USER_MONTHLY_BUDGET_USD="1")
async def test_over_budget_in_the_messages_tab_names_the_admins_to_ask(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    # One expensive draft ($1.20 of 80,000 output tokens) uses up the $1 budget.
    fake_anthropic.script(Reply(text="Hi Alex, a pricey draft.", output_tokens=80_000))
    await slash_preview(bot, fake_slack)
    assert bot.usage_rows()[0]["cost_nano_usd"] >= 1_000_000_000

    await bot.event(dm("email to Alex about the offsite"))
    assert await eventually(
        lambda: "budget" in dm_traffic(fake_slack), bot, fake_slack, fake_anthropic
    ), "the person got no answer in the Messages tab"
    await settle(bot, fake_slack, fake_anthropic)
    said = dm_traffic(fake_slack)
    assert "$1.00" in said  # the budget it is about
    assert "<@UADMIN1>" in said, "the reply does not say whom to ask"
    assert "ask your Draftbot admin" not in said
    assert len(fake_anthropic.message_requests()) == 1  # only the first draft
    assert len(bot.usage_rows()) == 1


@pytest.mark.env(DRAFTBOT_MAX_CONCURRENCY="1")
async def test_a_queued_request_in_the_messages_tab_is_told_its_place(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(Reply(text="The slow one.", delay=1.5), Reply(text="Hi Alex, yes."))
    await bot.slash("email to Sam about the slow thing")
    assert await fake_anthropic.wait_for_requests_async(1)  # the only place is taken
    await bot.event(dm("email to Alex about the offsite"))
    assert await eventually(
        lambda: "Hi Alex, yes." in json.dumps(finished_dm_messages(fake_slack)),
        bot,
        fake_slack,
        fake_anthropic,
    ), "the queued DM draft never arrived"
    await settle(bot, fake_slack, fake_anthropic)
    said = dm_traffic(fake_slack)
    assert "in the queue" in said, f"no queue position in the DM: {said:.600}"
    assert any("1" in note for note in queue_notes(said)), queue_notes(said)


@pytest.mark.env(DRAFTBOT_MAX_CONCURRENCY="1")
async def test_a_queued_refinement_is_told_its_place(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.script(
        Reply(text="A long first draft."),
        Reply(text="The slow one.", delay=1.5),
        Reply(text="Short."),
    )
    draft_id, _ = await slash_preview(bot, fake_slack)
    await bot.slash("email to Sam about the slow thing")
    assert await fake_anthropic.wait_for_requests_async(2)  # the only place is taken
    url = fake_slack.new_response_url()
    await bot.interact(click("shorter", draft_id, url))
    assert await eventually(
        lambda: any(has_preview_buttons(p, draft_id) for p in fake_slack.responses(url)),
        bot,
        fake_slack,
        fake_anthropic,
    ), "the refined draft never arrived"
    said = json.dumps(fake_slack.responses(url))
    assert "in the queue" in said, f"no queue position: {said:.600}"
    assert any("1" in note for note in queue_notes(said)), queue_notes(said)
    assert bot.usage_rows(source="shorter")


# ============================================================ item 3: the admin alert


@pytest.mark.env(DRAFTBOT_USER_MONTHLY_BUDGET_USD="1", DRAFTBOT_ALERT_CHANNEL="C0ALERTS")
async def test_a_network_error_on_the_admin_alert_still_delivers_the_billed_draft(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_slack.drop_connection("chat.postMessage", times=10, match={"channel": "C0ALERTS"})
    # 60,000 output tokens: $0.90 of the $1 budget, past the 80 % alert.
    fake_anthropic.script(Reply(text="Hi Alex, shall we meet on Tuesday?", output_tokens=60_000))
    reply = await bot.slash(REQUEST)
    row = await usage_row(bot, "slash")
    await settle(bot, fake_slack, fake_anthropic)

    assert fake_slack.calls_to("chat.postMessage"), "the admin alert was never attempted"
    assert all(c.status == 0 for c in fake_slack.calls_to("chat.postMessage"))
    posts = fake_slack.responses(reply.response_url)
    assert posts, "nothing arrived"
    said = json.dumps(posts)
    assert UNEXPECTED_START not in said
    last = visible(posts)[-1]
    assert "Hi Alex, shall we meet on Tuesday?" in markdown_of(last)
    assert has_preview_buttons(last, draft_id_of(last))
    assert row["status"] == "ok" and row["cost_nano_usd"] >= 800_000_000
    assert len(bot.usage_rows()) == 1


@pytest.mark.env(DRAFTBOT_USER_MONTHLY_BUDGET_USD="1", DRAFTBOT_ALERT_CHANNEL="C0ALERTS")
async def test_a_network_error_on_the_admin_alert_still_delivers_the_dm_draft(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_slack.drop_connection("chat.postMessage", times=10, match={"channel": "C0ALERTS"})
    fake_anthropic.script(Reply(text="Hi Alex, shall we meet on Tuesday?", output_tokens=60_000))
    await bot.event(dm("email to Alex about meeting on Tuesday"))
    await usage_row(bot, "dm")
    await settle(bot, fake_slack, fake_anthropic)

    assert [c for c in fake_slack.calls_to("chat.postMessage") if c.status == 0]
    assert UNEXPECTED_START not in dm_traffic(fake_slack)
    shown = finished_dm_messages(fake_slack)
    with_buttons = [m for m in shown if "draft_post" in action_ids(m)]
    assert with_buttons, f"no preview with buttons in the DM: {shown!r:.600}"
    assert "Hi Alex, shall we meet on Tuesday?" in json.dumps(shown)
    [row] = bot.usage_rows()
    assert row["status"] == "ok"


# ============================================================ item 4: response_url trouble


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, "internal_error"), (404, "not_found"), (429, "rate_limited")],
)
async def test_a_preview_refused_once_by_the_response_url_is_sent_again(
    bot: RunningBot,
    fake_anthropic: FakeAnthropic,
    fake_slack: FakeSlack,
    status: int,
    body: str,
) -> None:
    fake_slack.fail_response_url(None, status=status, body=body, times=1)
    fake_anthropic.script(Reply(text="Hi Alex, shall we meet on Tuesday?"))
    reply = await bot.slash(REQUEST)
    url = reply.response_url

    def preview_arrived() -> bool:
        return any("draft_post" in action_ids(p) for p in fake_slack.responses(url))

    arrived = await eventually(preview_arrived, bot, fake_slack, fake_anthropic, timeout=10)
    attempts = [a for a in fake_slack.response_attempts if a[0] == url]
    assert attempts and attempts[0][1] == status  # the refusal happened
    assert arrived, f"the preview never arrived after one {status}: attempts {attempts!r:.300}"
    preview = next(p for p in fake_slack.responses(url) if "draft_post" in action_ids(p))
    assert "Hi Alex, shall we meet on Tuesday?" in markdown_of(preview)
    assert has_preview_buttons(preview, draft_id_of(preview))
    await settle(bot, fake_slack, fake_anthropic)
    assert len(bot.usage_rows()) == 1


async def test_a_preview_the_response_url_keeps_refusing_arrives_in_the_dm_with_buttons(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_response_url(None, status=500, body="internal_error", times=10)
    draft = "Hi Alex, shall we meet on Tuesday?"
    fake_anthropic.script(Reply(text=draft))
    reply = await bot.slash(REQUEST)

    def in_dm() -> bool:
        return any("draft_post" in action_ids(m) for m in dm_posts(fake_slack))

    arrived = await eventually(in_dm, bot, fake_slack, fake_anthropic, timeout=20)
    assert [a for a in fake_slack.response_attempts if a[0] == reply.response_url]
    assert arrived, "the preview was lost: neither the response_url nor the DM has it"
    await settle(bot, fake_slack, fake_anthropic)
    posts = dm_posts(fake_slack)
    preview = next(m for m in posts if "draft_post" in action_ids(m))
    assert draft in markdown_of(preview)
    draft_id = draft_id_of(preview)
    assert has_preview_buttons(preview, draft_id)
    stored = bot.services.store.get_draft(draft_id)
    assert stored is not None and stored["text"] == draft
    # A sentence says why the preview came to the DM: words beyond the draft and its footer.
    why = [
        words
        for message in posts
        for words in readable_parts(message)
        if words.strip() and draft not in words and not words.startswith("Only you can see")
    ]
    assert len(" ".join(why).split()) >= 5, f"no reason given: {posts!r:.600}"
    assert len(bot.usage_rows()) == 1


# ============================================================ item 5: code blocks stay whole


FENCE = "```python"


def code_segments(part: str) -> list[list[str]]:
    """The fenced code blocks of one part: their lines, after checking each opens with the
    same fence line (language tag included) and is closed with ```."""
    segments: list[list[str]] = []
    current: list[str] | None = None
    for line in part.split("\n"):
        if current is None and line.startswith("```"):
            assert line == FENCE, f"a code part must open with {FENCE!r}, not {line!r}"
            current = []
        elif current is not None and line.strip() == "```":
            segments.append(current)
            current = None
        elif current is not None:
            current.append(line)
    assert current is None, f"a part ends inside an unclosed code block: …{part[-120:]!r}"
    return segments


def code_lines(count: int, width: int = 0) -> list[str]:
    return [f"    total_{i} = compute({i})" + "#" * width for i in range(count)]


@pytest.mark.parametrize("prose_paragraphs", [10, 11, 12, 13, 14])
def test_a_code_block_that_fits_in_the_next_part_is_never_split(prose_paragraphs: int) -> None:
    limit = 3_000
    prose = "\n\n".join(
        f"Paragraph {i}: " + "words that explain the script. " * 6 for i in range(prose_paragraphs)
    )
    code = code_lines(40)
    text = f"{prose}\n\nHere is the script:\n\n{FENCE}\n" + "\n".join(code) + "\n```\n\nRun it."
    assert len(text) > limit and len(prose) < limit
    assert len(FENCE) + len("\n".join(code)) + 8 < limit  # the block fits in one part

    parts = split_markdown(text, limit)

    assert all(len(part) <= limit for part in parts)
    blocks = [(i, s) for i, part in enumerate(parts) for s in code_segments(part)]
    assert len(blocks) == 1, f"the code block was split over parts {[i for i, _ in blocks]}"
    assert blocks[0][1] == code
    assert squash("".join(parts)) == squash(text)


def test_a_code_block_longer_than_a_message_splits_on_lines_into_valid_blocks() -> None:
    limit = 2_000
    for count in range(75, 140):
        for width in range(8):
            code = code_lines(count, width)
            assert len("\n".join(code)) > limit
            text = f"Intro.\n\n{FENCE}\n" + "\n".join(code) + "\n```\n\nRun it."
            parts = split_markdown(text, limit)
            where = f"({count} lines of width +{width})"
            assert all(len(part) <= limit for part in parts), where
            pieces = [s for part in parts for s in code_segments(part)]
            assert all(pieces), f"a part holds an empty piece of the code block {where}"
            # Split between lines only: every line arrives whole, once, in order.
            assert [line for piece in pieces for line in piece] == code, where
            assert parts[-1].endswith("Run it.") and parts[0].startswith("Intro.")


@pytest.mark.long_drafts
async def test_a_long_code_draft_arrives_with_its_code_block_whole_in_one_message(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    prose = "\n\n".join(
        f"Step {i}: " + "this explains what the script does and where to paste it. " * 12
        for i in range(12)
    )
    code = code_lines(120, 10)
    text = f"{prose}\n\n{FENCE}\n" + "\n".join(code) + "\n```\n\nAssumes the data is in data.csv."
    assert MARKDOWN_LIMIT < len(text) < 2 * MARKDOWN_LIMIT - 500
    fake_anthropic.script(Reply(text=text, chunk_size=100_000))
    reply = await bot.slash("code a python script that totals the sales figures")
    posts = await responses(fake_slack, reply.response_url, 2)
    await settle(bot, fake_slack, fake_anthropic)
    posts = fake_slack.responses(reply.response_url)

    assert len(posts) == 2, "the draft should need two messages"
    assert has_preview_buttons(posts[-1], draft_id_of(posts[-1]))
    blocks = [(i, s) for i, p in enumerate(posts) for s in code_segments(markdown_of(p))]
    assert len(blocks) == 1, f"the code block was split over messages {[i for i, _ in blocks]}"
    assert blocks[0][1] == code
    assert squash("".join(markdown_of(p) for p in posts)) == squash(text)


# ============================================================ item 8: Edit in the Messages tab


async def test_a_messages_tab_draft_can_be_edited_and_posted_where_the_person_chooses(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    draft = "Lunch is at noon on Friday in room 4B."
    fake_anthropic.script(Reply(text=draft))
    await bot.event(dm("message to the team about lunch on Friday"))
    stream = await finished_stream(fake_slack)
    await settle(bot, fake_slack, fake_anthropic)
    [preview] = [m for m in finished_dm_messages(fake_slack) if actions_blocks(m)]
    assert draft in stream["text"]
    assert "draft_edit" in action_ids(preview), f"no Edit button: {action_ids(preview)}"
    draft_id = draft_id_of(preview)

    url = fake_slack.new_response_url()
    status, _ = await bot.interact(click("edit", draft_id, url, message=preview))
    assert status == 200
    view = await opened_view(fake_slack)
    kinds = [element["type"] for _, element in input_elements(view)]
    assert "conversations_select" in kinds, f"the form does not ask where to post: {kinds}"
    texts = [e for _, e in input_elements(view) if e["type"] == "plain_text_input"]
    assert any(e.get("initial_value") == draft for e in texts), "the form lacks the draft"

    edited = "Lunch is at 12:30 on Friday in room 4B. Bring a mug!"
    answers = {
        "plain_text_input": {"value": edited},
        "conversations_select": {"selected_conversation": "C0TEAM"},
    }
    calls_before = len(fake_slack.calls)
    status, body = await bot.interact(submission(view, answers))
    assert status == 200 and body.get("response_action") != "errors", body

    def posted() -> bool:
        posts = fake_slack.calls_to("chat.postMessage")
        return any(c.args.get("channel") == "C0TEAM" for c in posts)

    assert await eventually(posted, bot, fake_slack, fake_anthropic)
    [post] = [c for c in fake_slack.calls_to("chat.postMessage") if c.args["channel"] == "C0TEAM"]
    assert edited in json.dumps(post.args) and draft not in json.dumps(post.args)

    def confirmed() -> bool:
        said = json.dumps(fake_slack.responses(url)) + json.dumps(
            [
                c.args
                for c in fake_slack.calls[calls_before:]
                if c.method in ("chat.postMessage", "chat.postEphemeral", "chat.update")
                and c.args.get("channel") in DM_CHANNELS
            ]
        )
        return "C0TEAM" in said

    assert await eventually(confirmed, bot, fake_slack, fake_anthropic), "no confirmation"


# ============================================================ item 9: forms that cannot open


def told_privately(fake_slack: FakeSlack, url: str, since: int) -> list[str]:
    """What the person was told after a click: posts to its response_url, DM messages."""
    said = [json.dumps(p) for p in fake_slack.responses(url)]
    said += [
        json.dumps(c.args)
        for c in fake_slack.calls[since:]
        if c.method in ("chat.postMessage", "chat.postEphemeral")
        and c.args.get("channel") in (*DM_CHANNELS, "C0001")
    ]
    return said


VIEWS_OPEN_FAILURES = [
    pytest.param({"error": "expired_trigger_id"}, id="expired_trigger_id"),
    # A single 503 is retried away (bot.services), so Slack stays down for every try here.
    pytest.param({"error": "internal_error", "status": 503, "times": 3}, id="http-503"),
]


@pytest.mark.parametrize("failure", VIEWS_OPEN_FAILURES)
async def test_if_the_edit_form_cannot_open_the_person_is_told(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack, failure: dict
) -> None:
    draft_id, preview = await slash_preview(bot, fake_slack)
    assert "draft_edit" in action_ids(preview)
    fake_slack.fail("views.open", **failure)
    since = len(fake_slack.calls)
    url = fake_slack.new_response_url()
    await bot.interact(click("edit", draft_id, url))
    told = await eventually(
        lambda: bool(told_privately(fake_slack, url, since)),
        bot,
        fake_slack,
        fake_anthropic,
        idle=2.0,
    )
    assert fake_slack.calls_to("views.open"), "the form was never tried"
    assert told, "the person was left with nothing"
    said = " ".join(told_privately(fake_slack, url, since))
    assert UNEXPECTED_START not in said


@pytest.mark.parametrize("failure", VIEWS_OPEN_FAILURES)
async def test_if_the_choose_channel_form_cannot_open_the_person_is_told(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack, failure: dict
) -> None:
    await bot.event(dm("message to the team about lunch on Friday"))
    await finished_stream(fake_slack)
    await settle(bot, fake_slack, fake_anthropic)
    [preview] = [m for m in finished_dm_messages(fake_slack) if actions_blocks(m)]
    draft_id = draft_id_of(preview)
    fake_slack.fail("views.open", **failure)
    since = len(fake_slack.calls)
    url = fake_slack.new_response_url()
    await bot.interact(click("post", draft_id, url, message=preview))
    told = await eventually(
        lambda: bool(told_privately(fake_slack, url, since)),
        bot,
        fake_slack,
        fake_anthropic,
        idle=2.0,
    )
    assert fake_slack.calls_to("views.open"), "the form was never tried"
    assert told, "the person was left with nothing"
    assert UNEXPECTED_START not in " ".join(told_privately(fake_slack, url, since))
