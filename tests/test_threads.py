"""Message links, whole threads as transcripts, and plain-words errors.

Runs the real AsyncWebClient and People (with a real SQLite store) against the fake Slack.
"""

from __future__ import annotations

import base64
import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack_ids import MessageRef, find_permalink, parse_permalink
from bot.storage import Store
from handlers.conversations import CannotReadConversation, Transcript, fetch_transcript
from handlers.people import People
from tests.conftest import BOT_TOKEN
from tests.fakes.slack import FakeSlack

CHANNEL = "C0123ABCD"
NOV_24_0914 = 1795511640  # 2026-11-24 09:14:00 UTC
NOV_25_0830 = 1795595400  # 2026-11-25 08:30:00 UTC


def ts(seconds: int, micro: int = 0) -> str:
    return f"{seconds}.{micro:06d}"


# ------------------------------------------------------------------ links


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://acme.slack.com/archives/C0123ABCD/p1700000000123456",
            MessageRef("C0123ABCD", "1700000000.123456", None),
        ),
        (
            "https://acme.slack.com/archives/C0123ABCD/p1700000000123456"
            "?thread_ts=1700000000.000100&cid=C0123ABCD",
            MessageRef("C0123ABCD", "1700000000.123456", "1700000000.000100"),
        ),
        (  # Slack's escaped form in slash command text, "&" escaped as "&amp;"
            "<https://acme.slack.com/archives/G0123ABCD/p1700000000123456"
            "?thread_ts=1700000000.000100&amp;cid=G0123ABCD|the budget thread>",
            MessageRef("G0123ABCD", "1700000000.123456", "1700000000.000100"),
        ),
        (
            "<https://acme.slack.com/archives/D0123ABCD/p1700000000123456>",
            MessageRef("D0123ABCD", "1700000000.123456", None),
        ),
        (  # Slack auto-links "acme.slack.com/…" typed without a scheme as http://
            "<http://acme.slack.com/archives/C0123ABCD/p1700000000123456|acme.slack.com/arc…>",
            MessageRef("C0123ABCD", "1700000000.123456", None),
        ),
        (
            "https://bigcorp.enterprise.slack.com/archives/C0123ABCD/p1700000000123456",
            MessageRef("C0123ABCD", "1700000000.123456", None),
        ),
        (
            "https://app.slack.com/client/T0001/C0123ABCD/thread/C0123ABCD-1700000000.000100",
            MessageRef("C0123ABCD", "1700000000.000100", "1700000000.000100"),
        ),
        (  # spaces, an upper-case host and a trailing slash are fine
            "  https://Acme.Slack.com/archives/C0123ABCD/p1700000000123456/  ",
            MessageRef("C0123ABCD", "1700000000.123456", None),
        ),
    ],
)
def test_parse_permalink_accepts_slack_message_links(url: str, expected: MessageRef) -> None:
    assert parse_permalink(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/archives/C0123ABCD/p1700000000123456",  # not Slack
        "https://acme.slack.com.evil.example/archives/C0123ABCD/p1700000000123456",
        "https://notslack.com/archives/C0123ABCD/p1700000000123456",
        "https://slack.com/archives/C0123ABCD/p1700000000123456",  # no workspace
        "ftp://acme.slack.com/archives/C0123ABCD/p1700000000123456",
        "https://acme.slack.com/archives/c0123abcd/p1700000000123456",  # bad id
        "https://acme.slack.com/archives/X0123ABCD/p1700000000123456",
        "https://acme.slack.com/archives/C0123ABCD/p17000000001234",  # 14 digits
        "https://acme.slack.com/archives/C0123ABCD/p170000000012345x",  # not numeric
        "https://acme.slack.com/archives/C0123ABCD/1700000000123456",  # no "p"
        "https://acme.slack.com/archives/C0123ABCD/p1700000000123456?thread_ts=abc",
        "https://acme.slack.com/archives/C0123ABCD",  # a channel, not a message
        "https://acme.slack.com/team/U01ALEX",
        "https://app.slack.com/client/T0001/C0123ABCD/thread/C0999-1700000000.000100",
        "not a link at all",
        "",
    ],
)
def test_parse_permalink_rejects_everything_else(url: str) -> None:
    assert parse_permalink(url) is None


def test_find_permalink_takes_the_first_slack_message_link_in_text() -> None:
    text = (
        "for my manager, see <https://example.com/doc|the doc> and "
        "<https://acme.slack.com/archives/C0123ABCD|#budget> and "
        "<https://acme.slack.com/archives/C0123ABCD/p1700000000123456?thread_ts="
        "1700000000.000100&amp;cid=C0123ABCD|this thread>, "
        "then https://acme.slack.com/archives/C0999/p1700000001000000"
    )
    assert find_permalink(text) == MessageRef("C0123ABCD", "1700000000.123456", "1700000000.000100")
    # Plain links with sentence punctuation after them.
    plain = "summarize https://acme.slack.com/archives/C0123ABCD/p1700000000123456."
    assert find_permalink(plain) == MessageRef("C0123ABCD", "1700000000.123456", None)
    in_brackets = (
        "(https://acme.slack.com/archives/C0123ABCD/p1700000000123456?thread_ts=1700000000.000100)"
    )
    assert find_permalink(in_brackets) == MessageRef(
        "C0123ABCD", "1700000000.123456", "1700000000.000100"
    )
    assert find_permalink("summary of the Q3 numbers: revenue up 4%") is None
    assert find_permalink("https://example.com/archives/C0123ABCD/p1700000000123456") is None


async def test_links_from_slack_chat_get_permalink_parse(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    parent = ts(NOV_24_0914)
    fake_slack.add_messages(CHANNEL, [{"ts": parent, "user": "U01ALEX", "text": "q"}], parent)
    reply = ts(NOV_24_0914 + 60, 123)
    fake_slack.add_messages(CHANNEL, [{"ts": reply, "user": "U01ALEX", "text": "a"}], parent)
    for message_ts, thread_ts in ((parent, None), (reply, parent)):
        link = (await client.chat_getPermalink(channel=CHANNEL, message_ts=message_ts))["permalink"]
        assert parse_permalink(link) == MessageRef(CHANNEL, message_ts, thread_ts)


# ------------------------------------------------------------------ transcripts


@pytest.fixture
def client(fake_slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.api_url)


@pytest.fixture
async def people(tmp_path: Path, client: AsyncWebClient) -> AsyncIterator[People]:
    store = Store(tmp_path / "db.sqlite")
    yield People(store, client, frozenset())
    store.close()


@pytest.fixture
def staff(fake_slack: FakeSlack) -> None:
    fake_slack.add_user("U01ALEX", "alex", display_name="Alex Chen", real_name="Alexander Chen")
    fake_slack.add_user("U02PRIYA", "priya", display_name="", real_name="Priya Natarajan")
    fake_slack.add_user("U03TOM", "tom", display_name="Tom B", real_name="Tom Becker")


def seed_thread(fake: FakeSlack, parent_text: str, replies: list[dict[str, Any]]) -> str:
    parent = ts(NOV_24_0914)
    fake.add_messages(CHANNEL, [{"ts": parent, "user": "U01ALEX", "text": parent_text}], parent)
    fake.add_messages(
        CHANNEL,
        [{"ts": ts(NOV_24_0914 + 60 * (i + 1)), **reply} for i, reply in enumerate(replies)],
        parent,
    )
    return parent


@pytest.mark.usefixtures("staff")
async def test_whole_thread_with_names_readable_markup_files_and_skips(
    fake_slack: FakeSlack, client: AsyncWebClient, people: People
) -> None:
    parent = seed_thread(
        fake_slack,
        "Vendor moved the delivery to Tuesday. <!here> thoughts?",
        [
            {"user": "U02PRIYA", "text": "<@U01ALEX> that clashes with <#C0GENERAL|general> prep"},
            {"user": "U09GONE", "subtype": "channel_join", "text": "<@U09GONE> has joined"},
            {
                "user": "U03TOM",
                "text": "See <https://example.com/plan|the plan> &amp; <@U09GONE|sam>",
            },
            {"user": "U03TOM", "text": "   "},
            {
                "user": "U0BOT",
                "bot_id": "B0001",
                "bot_profile": {"id": "B0001", "name": "Draftbot"},
                "text": "Here is a draft:\nline two &lt;ok&gt;",
            },
            {
                "subtype": "bot_message",
                "username": "Jira",
                "text": "",
                "attachments": [{"fallback": "OPS-12 moved to Done"}],
            },
            {
                "user": "U02PRIYA",
                "subtype": "file_share",
                "text": "",
                "files": [{"id": "F1", "name": "report.pdf"}, {"id": "F2", "title": "notes"}],
            },
            {"user": "U01ALEX", "text": "<!channel> <https://example.com> <mailto:a@b.co|a@b.co>"},
        ],
    )
    reply_ts = ts(NOV_24_0914 + 60 * 3)
    transcript = await fetch_transcript(
        client, people, MessageRef(CHANNEL, reply_ts, thread_ts=parent)
    )

    assert transcript == Transcript(
        text="\n".join(
            [
                "Alex Chen (09:14): Vendor moved the delivery to Tuesday. @here thoughts?",
                "Priya Natarajan (09:15): @Alex Chen that clashes with #general prep",
                "Tom B (09:17): See the plan (https://example.com/plan) & @sam",
                "Draftbot (09:19): Here is a draft:\n  line two <ok>",
                "Jira (09:20): OPS-12 moved to Done",
                "Priya Natarajan (09:21): [file: report.pdf] [file: notes]",
                "Alex Chen (09:22): @channel https://example.com a@b.co",
            ]
        ),
        message_count=7,
        trimmed_count=0,
        channel_id=CHANNEL,
        files=({"id": "F1", "name": "report.pdf"}, {"id": "F2", "title": "notes"}),
    )
    assert "<!" not in transcript.text and "<@" not in transcript.text
    replies_calls = fake_slack.calls_to("conversations.replies")
    assert [c.args["ts"] for c in replies_calls] == [parent]
    # Names are looked up once each (U09GONE too: Slack does not know it) and then cached.
    looked_up = sorted(c.args["user"] for c in fake_slack.calls_to("users.info"))
    assert looked_up == ["U01ALEX", "U02PRIYA", "U03TOM", "U09GONE"]
    again = await fetch_transcript(client, people, MessageRef(CHANNEL, parent, None))
    assert again == transcript
    assert len(fake_slack.calls_to("users.info")) == 4


@pytest.mark.usefixtures("staff")
async def test_pagination_fetches_every_reply_following_cursors(
    fake_slack: FakeSlack, client: AsyncWebClient, people: People
) -> None:
    parent = ts(NOV_24_0914)
    fake_slack.add_messages(
        CHANNEL, [{"ts": parent, "user": "U01ALEX", "text": "Topic: Q2 budget"}], parent
    )
    fake_slack.add_messages(
        CHANNEL,
        [
            {"ts": ts(NOV_24_0914 + 1, i), "user": ("U02PRIYA", "U03TOM")[i % 2], "text": f"r{i}"}
            for i in range(450)
        ],
        parent,
    )

    transcript = await fetch_transcript(client, people, MessageRef(CHANNEL, parent, None))

    lines = transcript.text.splitlines()
    assert (transcript.message_count, transcript.trimmed_count, len(lines)) == (451, 0, 451)
    assert lines[0] == "Alex Chen (09:14): Topic: Q2 budget"
    assert [line.rsplit(" ", 1)[1] for line in lines[1:]] == [f"r{i}" for i in range(450)]
    calls = fake_slack.calls_to("conversations.replies")
    assert len(calls) == 3  # 200 + 200 + 51
    assert "cursor" not in calls[0].args
    assert all(c.args["cursor"] for c in calls[1:])
    assert calls[1].args["cursor"] != calls[2].args["cursor"]
    assert {c.args["limit"] for c in calls} == {"200"}


@pytest.mark.usefixtures("staff")
async def test_parent_repeated_on_every_page_is_listed_once(
    fake_slack: FakeSlack, client: AsyncWebClient, people: People
) -> None:
    """Real Slack repeats the thread's parent at the top of each page of replies."""
    parent = {"ts": ts(NOV_24_0914), "thread_ts": ts(NOV_24_0914), "user": "U01ALEX", "text": "p"}
    replies = [
        {
            "ts": ts(NOV_24_0914 + 60 + i),
            "thread_ts": parent["ts"],
            "user": "U03TOM",
            "text": str(i),
        }
        for i in range(5)
    ]

    def handler(args: dict[str, Any]) -> dict[str, Any]:
        offset = int(base64.b64decode(args["cursor"]).decode()) if args.get("cursor") else 0
        size = 2
        more = offset + size < len(replies)
        cursor = base64.b64encode(str(offset + size).encode()).decode() if more else ""
        page = [parent, *replies[offset : offset + size]]
        return {"messages": page, "has_more": more, "response_metadata": {"next_cursor": cursor}}

    fake_slack.set_method_handler("conversations.replies", handler)
    transcript = await fetch_transcript(client, people, MessageRef(CHANNEL, parent["ts"], None))

    assert transcript.text.splitlines() == [
        "Alex Chen (09:14): p",
        *(f"Tom B (09:15): {i}" for i in range(5)),
    ]
    assert len(fake_slack.calls_to("conversations.replies")) == 3


@pytest.mark.usefixtures("staff")
async def test_a_message_outside_any_thread_is_summarised_alone(
    fake_slack: FakeSlack, client: AsyncWebClient, people: People
) -> None:
    alone = ts(NOV_24_0914 + 300)
    fake_slack.add_messages(
        CHANNEL,
        [
            {"ts": ts(NOV_24_0914), "user": "U02PRIYA", "text": "earlier, unrelated"},
            {"ts": alone, "user": "U03TOM", "text": "Timesheets are due Friday noon."},
            {"ts": ts(NOV_24_0914 + 600), "user": "U01ALEX", "text": "later, unrelated"},
        ],
    )
    transcript = await fetch_transcript(client, people, MessageRef(CHANNEL, alone, None))
    assert transcript == Transcript("Tom B (09:19): Timesheets are due Friday noon.", 1, 0, CHANNEL)


@pytest.mark.usefixtures("staff")
async def test_a_link_to_a_reply_without_thread_ts_still_gets_the_whole_thread(
    fake_slack: FakeSlack, client: AsyncWebClient, people: People
) -> None:
    parent = seed_thread(
        fake_slack,
        "Topic",
        [{"user": "U02PRIYA", "text": "one"}, {"user": "U03TOM", "text": "two"}],
    )
    reply = ts(NOV_24_0914 + 120)
    transcript = await fetch_transcript(client, people, MessageRef(CHANNEL, reply, None))
    assert transcript.message_count == 3
    assert transcript.text.splitlines()[0] == "Alex Chen (09:14): Topic"
    assert [c.args["ts"] for c in fake_slack.calls_to("conversations.replies")] == [reply, parent]


@pytest.mark.usefixtures("staff")
async def test_dates_are_shown_when_the_conversation_spans_days(
    fake_slack: FakeSlack, client: AsyncWebClient, people: People
) -> None:
    parent = ts(NOV_24_0914)
    fake_slack.add_messages(CHANNEL, [{"ts": parent, "user": "U01ALEX", "text": "Mon"}], parent)
    fake_slack.add_messages(
        CHANNEL, [{"ts": ts(NOV_25_0830), "user": "U03TOM", "text": "Tue"}], parent
    )
    transcript = await fetch_transcript(client, people, MessageRef(CHANNEL, parent, None))
    assert transcript.text == "Alex Chen (Nov 24 09:14): Mon\nTom B (Nov 25 08:30): Tue"


def tokens(text: str) -> int:
    return sum(math.ceil(len(line) / 4) for line in text.splitlines())


@pytest.mark.usefixtures("staff")
async def test_long_threads_lose_their_oldest_replies_but_keep_the_topic(
    fake_slack: FakeSlack, client: AsyncWebClient, people: People
) -> None:
    parent = seed_thread(
        fake_slack,
        "Topic: where should the offsite be?",
        [{"user": "U03TOM", "text": f"reply {i:02d} " + "x" * 80} for i in range(40)],
    )
    full = await fetch_transcript(client, people, MessageRef(CHANNEL, parent, None))
    assert (full.message_count, full.trimmed_count) == (41, 0)

    budget = 600  # about 23 of the 40 replies (each ~25 tokens) after the topic and note
    transcript = await fetch_transcript(
        client, people, MessageRef(CHANNEL, parent, None), max_tokens=budget
    )

    lines = transcript.text.splitlines()
    kept = transcript.message_count - 1
    assert transcript.trimmed_count == 40 - kept
    assert 15 < kept < 40
    assert lines[0] == (
        f"[The {40 - kept} oldest replies were left out to fit; the summary covers the first "
        f"message and the most recent {kept}.]"
    )
    assert lines[1] == "Alex Chen (09:14): Topic: where should the offsite be?"
    assert lines[2] == f"[… {40 - kept} messages left out here …]"
    assert [line.split("reply ")[1][:2] for line in lines[3:]] == [
        f"{i:02d}" for i in range(40 - kept, 40)
    ]
    assert budget - 80 < tokens(transcript.text) <= budget  # used well, never exceeded


@pytest.mark.usefixtures("staff")
async def test_one_reply_too_many_is_named_in_the_singular(
    fake_slack: FakeSlack, client: AsyncWebClient, people: People
) -> None:
    parent = seed_thread(
        fake_slack, "Topic", [{"user": "U03TOM", "text": "y" * 396} for _ in range(3)]
    )
    # Each reply is 100 tokens; the topic 7; the note and marker at most about 45.
    transcript = await fetch_transcript(
        client, people, MessageRef(CHANNEL, parent, None), max_tokens=260
    )
    assert (transcript.message_count, transcript.trimmed_count) == (3, 1)
    lines = transcript.text.splitlines()
    assert lines[0] == (
        "[1 earlier message was left out to fit; the summary covers the first message and "
        "the most recent 2.]"
    )
    assert lines[2] == "[… 1 message left out here …]"


@pytest.mark.usefixtures("staff")
async def test_a_single_huge_message_is_shortened_to_fit(
    fake_slack: FakeSlack, client: AsyncWebClient, people: People
) -> None:
    alone = ts(NOV_24_0914)
    fake_slack.add_messages(CHANNEL, [{"ts": alone, "user": "U01ALEX", "text": "z" * 39_000}])
    transcript = await fetch_transcript(
        client, people, MessageRef(CHANNEL, alone, None), max_tokens=1_000
    )
    assert (transcript.message_count, transcript.trimmed_count) == (1, 0)
    assert transcript.text.startswith("Alex Chen (09:14): zzz")
    assert transcript.text.endswith("… [message shortened]")
    assert tokens(transcript.text) <= 1_000


async def test_budget_must_be_sensible(client: AsyncWebClient, people: People) -> None:
    with pytest.raises(ValueError, match="max_tokens"):
        await fetch_transcript(client, people, MessageRef(CHANNEL, "1.000000", None), max_tokens=5)


# ------------------------------------------------------------------ errors


async def cannot_read(
    client: AsyncWebClient, people: People, ref: MessageRef
) -> CannotReadConversation:
    with pytest.raises(CannotReadConversation) as caught:
        await fetch_transcript(client, people, ref)
    error = caught.value
    assert error.channel_id == ref.channel_id
    assert error.reason not in error.user_message  # plain words, never Slack's codes
    assert str(error) == error.user_message
    return error


async def test_not_in_channel_says_how_to_invite_draftbot(
    fake_slack: FakeSlack, client: AsyncWebClient, people: People
) -> None:
    fake_slack.add_messages(CHANNEL, [{"ts": ts(NOV_24_0914), "user": "U01ALEX", "text": "hi"}])
    fake_slack.channels_without_bot.add(CHANNEL)
    error = await cannot_read(client, people, MessageRef(CHANNEL, ts(NOV_24_0914), None))
    assert error.reason == "not_in_channel"
    assert error.user_message == (
        "I can't read <#C0123ABCD> yet. Invite me with `/invite @Draftbot` in <#C0123ABCD>, "
        "then try again."
    )


async def test_channel_not_found_says_private_or_wrong_link(
    fake_slack: FakeSlack, client: AsyncWebClient, people: People
) -> None:
    fake_slack.fail("conversations.replies", error="channel_not_found")
    error = await cannot_read(client, people, MessageRef("C0PRIVATE1", ts(NOV_24_0914), None))
    assert error.reason == "channel_not_found"
    assert "private channel" in error.user_message
    assert "link is wrong" in error.user_message
    assert "`/invite @Draftbot`" in error.user_message


async def test_missing_history_scope_asks_for_a_reinstall(
    fake_slack: FakeSlack, client: AsyncWebClient, people: People
) -> None:
    fake_slack.scopes = [s for s in fake_slack.scopes if s != "groups:history"]
    fake_slack.add_messages("G0123ABCD", [{"ts": ts(NOV_24_0914), "user": "U01ALEX", "text": "x"}])
    error = await cannot_read(client, people, MessageRef("G0123ABCD", ts(NOV_24_0914), None))
    assert error.reason == "missing_scope"
    assert "admin" in error.user_message
    assert "reinstall Draftbot" in error.user_message
    assert "groups:history" in error.user_message


async def test_direct_messages_need_im_history(
    fake_slack: FakeSlack, client: AsyncWebClient, people: People
) -> None:
    fake_slack.scopes = [scope for scope in fake_slack.scopes if scope != "im:history"]
    fake_slack.add_messages("D0123ABCD", [{"ts": ts(NOV_24_0914), "user": "U01ALEX", "text": "x"}])
    error = await cannot_read(client, people, MessageRef("D0123ABCD", ts(NOV_24_0914), None))
    assert error.reason == "missing_scope"
    assert "im:history" in error.user_message


async def test_a_dm_draftbot_is_not_in_is_explained(
    fake_slack: FakeSlack, client: AsyncWebClient, people: People
) -> None:
    fake_slack.fail("conversations.replies", error="channel_not_found")
    error = await cannot_read(client, people, MessageRef("D0123ABCD", ts(NOV_24_0914), None))
    assert "direct message" in error.user_message
    assert "/draft summary" in error.user_message


async def test_deleted_or_unknown_message_is_thread_not_found(
    fake_slack: FakeSlack, client: AsyncWebClient, people: People
) -> None:
    error = await cannot_read(client, people, MessageRef(CHANNEL, ts(NOV_24_0914), None))
    assert error.reason == "thread_not_found"
    assert error.user_message.startswith("I couldn't find that message in <#C0123ABCD>.")


async def test_other_slack_errors_propagate(
    fake_slack: FakeSlack, client: AsyncWebClient, people: People
) -> None:
    fake_slack.fail("conversations.replies", error="ratelimited")
    with pytest.raises(SlackApiError) as caught:
        await fetch_transcript(client, people, MessageRef(CHANNEL, ts(NOV_24_0914), None))
    assert caught.value.response["error"] == "ratelimited"
