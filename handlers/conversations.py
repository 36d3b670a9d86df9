"""Read a Slack conversation (a thread, or one message) as a transcript for summaries.

Used by the "Summarize thread" message shortcut and by `/draft summary <message link>`:

- `fetch_transcript` fetches the whole thread with `conversations.replies` (every page),
  names people by their display names, makes Slack's markup readable, and trims the
  oldest messages to fit a token budget;
- `CannotReadConversation` says, in plain words, what to do when Draftbot cannot read the
  conversation (not invited, private channel or wrong link, missing scopes, deleted message).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import wording
from bot.errors import UserFacingError
from bot.slack_ids import ANGLE_TOKEN, TS, USER_MENTION, MessageRef, is_direct_message
from handlers.people import People

REPLIES_PAGE_SIZE = 200
# Slack's own error codes that mean "the bot cannot read this conversation".
UNREADABLE_ERRORS = frozenset(
    {"not_in_channel", "channel_not_found", "missing_scope", "thread_not_found"}
)
HISTORY_SCOPES = "channels:history, groups:history, im:history and mpim:history"
# Message subtypes that carry nothing worth summarising.
SKIPPED_SUBTYPES = frozenset(
    {"channel_join", "channel_leave", "group_join", "group_leave", "tombstone"}
)
MIN_BUDGET_TOKENS = 100

# ------------------------------------------------------------------ errors


class CannotReadConversation(UserFacingError):
    """Draftbot cannot read the conversation; `user_message` says what to do about it."""

    def __init__(self, channel_id: str, reason: str, user_message: str) -> None:
        super().__init__(user_message)
        self.channel_id = channel_id
        self.reason = reason  # Slack's error code, e.g. "not_in_channel"

    @classmethod
    def from_slack_error(cls, channel_id: str, reason: str) -> CannotReadConversation:
        return cls(channel_id, reason, _user_message(channel_id, reason))


def _user_message(channel_id: str, reason: str) -> str:
    channel = f"<#{channel_id}>"
    if reason == "missing_scope":
        return wording.CANNOT_READ_MISSING_SCOPE.format(scopes=HISTORY_SCOPES)
    if is_direct_message(channel_id) and reason in ("not_in_channel", "channel_not_found"):
        return wording.CANNOT_READ_DM
    if reason == "not_in_channel":
        return wording.CANNOT_READ_NOT_INVITED.format(channel=channel)
    if reason == "channel_not_found":
        return wording.CANNOT_READ_NOT_FOUND
    return wording.CANNOT_READ_NO_MESSAGE.format(channel=channel)


# ------------------------------------------------------------------ transcripts


@dataclass(frozen=True)
class Transcript:
    text: str  # "Alex Chen (09:14): message text" lines, oldest first, times in UTC
    message_count: int  # messages included
    trimmed_count: int  # oldest messages left out to fit the budget (0 if none)
    channel_id: str
    files: tuple[dict[str, Any], ...] = ()  # the files shared in it, as Slack describes them

    @property
    def total_count(self) -> int:
        return self.message_count + self.trimmed_count


def conversation_material(transcript: Transcript) -> str:
    """The conversation as the model reads it after the request: data, between tags.

    `&`, `<` and `>` in the transcript are written `&amp;`, `&lt;`, `&gt;` (the house style
    says so), so no message, name or file name can close the `<conversation>` tag, open
    another, or carry a live Slack token such as `<@U…>`.
    """
    quoted = html.escape(transcript.text, quote=False)
    return (
        f"\n\nThe Slack conversation ({transcript.message_count} messages, "
        f"times in UTC):\n<conversation>\n{quoted}\n</conversation>"
    )


async def fetch_transcript(
    client: AsyncWebClient, people: People, ref: MessageRef, *, max_tokens: int = 30_000
) -> Transcript:
    """The thread `ref` is in (or the message alone) as a readable transcript.

    One entry per message, oldest first: `Alex Chen (09:14): text`, times in UTC, with the
    date (`Nov 24 09:14`) when the conversation spans more than one UTC day. Lines after a
    message's first are indented by two spaces, so a message cannot pass itself off as
    another person's. Joins, leaves, deleted-parent placeholders and empty messages are
    left out; shared files appear as `[file: report.pdf]`.

    Budget: each entry costs ceil(len(entry) / 4) tokens. When the whole transcript costs
    more than `max_tokens`, the thread's first message (its topic) is kept, then as many of
    the most recent messages as fit; the ones in between (the oldest replies) are left out,
    counted in `trimmed_count`, and announced by a note on the first line plus a marker
    where they were. The newest message is always kept. A single message too long for half
    the budget is itself shortened.

    Raises CannotReadConversation for not_in_channel, channel_not_found, missing_scope and
    thread_not_found; other Slack errors (e.g. ratelimited) propagate as SlackApiError.
    """
    if max_tokens < MIN_BUDGET_TOKENS:
        raise ValueError(f"max_tokens must be at least {MIN_BUDGET_TOKENS}, got {max_tokens}")
    messages = await _fetch_thread(client, ref)
    messages = [m for m in messages if _is_content(m)]
    if not messages:  # nothing left but joins and deleted-message placeholders
        raise CannotReadConversation.from_slack_error(ref.channel_id, "thread_not_found")

    user_ids = _user_ids(messages)
    names = await people.names(user_ids) if user_ids else {}
    for message in messages:  # Slack's own copy of a profile, when users.info knows nothing
        profile = message.get("user_profile")
        user = message.get("user")
        if isinstance(profile, dict) and isinstance(user, str) and names.get(user, user) == user:
            name = profile.get("display_name") or profile.get("real_name")
            if name:
                names[user] = str(name)

    stamps = [_timestamp(m) for m in messages]
    spans_days = len({s.date() for s in stamps}) > 1
    spans_years = len({s.year for s in stamps}) > 1
    entries = [
        _entry(m, names, _time_label(stamp, spans_days, spans_years))
        for m, stamp in zip(messages, stamps, strict=True)
    ]
    files = tuple(f for m in messages for f in m.get("files") or [] if isinstance(f, dict))
    return replace(_fit(entries, max_tokens, ref.channel_id), files=files)


async def _fetch_thread(client: AsyncWebClient, ref: MessageRef) -> list[dict[str, Any]]:
    messages = await _replies(client, ref.channel_id, ref.thread_ts or ref.ts)
    if ref.thread_ts is None and len(messages) == 1:
        # A link to a reply without ?thread_ts=: Slack answers with the reply alone, which
        # names its parent. Fetch the whole thread instead.
        parent = messages[0].get("thread_ts")
        if isinstance(parent, str) and parent != messages[0].get("ts") and TS.fullmatch(parent):
            messages = await _replies(client, ref.channel_id, parent)
    if not any(message["ts"] == ref.ts for message in messages):
        # The thread exists but the linked reply does not (deleted, or a mistyped link).
        raise CannotReadConversation.from_slack_error(ref.channel_id, "thread_not_found")
    return messages


async def _replies(client: AsyncWebClient, channel_id: str, ts: str) -> list[dict[str, Any]]:
    """Every message of the thread at `ts`, oldest first, following cursors to the end.

    Pages are copied as they arrive, and messages are de-duplicated by ts (Slack repeats
    the parent message at the top of every page).
    """
    by_ts: dict[str, dict[str, Any]] = {}
    seen_cursors: set[str] = set()
    try:
        first = await client.conversations_replies(
            channel=channel_id, ts=ts, limit=REPLIES_PAGE_SIZE
        )
        async for page in first:  # slack-sdk follows response_metadata.next_cursor
            for message in page.get("messages") or []:
                if isinstance(message, dict) and isinstance(message.get("ts"), str):
                    by_ts.setdefault(message["ts"], dict(message))
            cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "")
            if cursor in seen_cursors:  # a server repeating a page must not loop forever
                break
            seen_cursors.add(cursor)
    except SlackApiError as error:
        reason = str(error.response.get("error") or "")
        if reason in UNREADABLE_ERRORS:
            raise CannotReadConversation.from_slack_error(channel_id, reason) from error
        raise
    return sorted(by_ts.values(), key=lambda m: _ts_key(m["ts"]))


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, micro = ts.partition(".")
    try:
        return int(seconds), int((micro + "000000")[:6])
    except ValueError:
        return 0, 0


def _timestamp(message: Mapping[str, Any]) -> datetime:
    seconds, micro = _ts_key(str(message.get("ts", "")))
    return datetime.fromtimestamp(seconds + micro / 1_000_000, UTC)


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _time_label(stamp: datetime, with_date: bool, with_year: bool) -> str:
    clock = f"{stamp:%H:%M}"
    if not with_date:
        return clock
    day = f"{_MONTHS[stamp.month - 1]} {stamp.day}"
    return f"{day} {stamp.year} {clock}" if with_year else f"{day} {clock}"


def _is_content(message: Mapping[str, Any]) -> bool:
    if message.get("subtype") in SKIPPED_SUBTYPES:
        return False
    return bool(_raw_text(message).strip() or _file_names(message))


def _raw_text(message: Mapping[str, Any]) -> str:
    text = message.get("text")
    if isinstance(text, str) and text.strip():
        return text
    # Bots often post only attachments; their fallback text is what Slack shows in
    # notifications.
    for attachment in message.get("attachments") or []:
        if isinstance(attachment, dict):
            for key in ("text", "fallback", "pretext", "title"):
                value = attachment.get(key)
                if isinstance(value, str) and value.strip():
                    return value
    return ""


def _file_names(message: Mapping[str, Any]) -> list[str]:
    names = []
    for file in message.get("files") or []:
        if isinstance(file, dict):
            name = file.get("name") or file.get("title") or "file"
            names.append(str(name))
    return names


def _user_ids(messages: Iterable[Mapping[str, Any]]) -> list[str]:
    ids: dict[str, None] = {}
    for message in messages:
        user = message.get("user")
        if isinstance(user, str) and not _bot_name(message):
            ids[user] = None
        for mention in USER_MENTION.finditer(_raw_text(message)):
            ids[mention.group(1)] = None
    return list(ids)


def _bot_name(message: Mapping[str, Any]) -> str:
    profile = message.get("bot_profile")
    if isinstance(profile, dict) and profile.get("name"):
        return str(profile["name"])
    if message.get("bot_id") or message.get("subtype") == "bot_message":
        return str(message.get("username") or "a bot")
    if message.get("username") and not message.get("user"):
        return str(message["username"])
    return ""


def _author(message: Mapping[str, Any], names: Mapping[str, str]) -> str:
    if bot := _bot_name(message):
        return bot
    user = message.get("user")
    if isinstance(user, str):
        return names.get(user, user)
    return "Someone"


def readable_text(text: str, names: Mapping[str, str]) -> str:
    """Slack's markup in plain words: "@Alex Chen", "#general", "label (https://…)", "@here"."""

    def token(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            user_id = target[1:]
            name = names.get(user_id, user_id)
            if name == user_id and label:
                name = label.lstrip("@")
            return f"@{name}"
        if target.startswith("#"):
            return f"#{label or target[1:]}"
        if target.startswith("!"):
            command = target[1:]
            if command in ("here", "channel", "everyone"):
                return f"@{command}"
            if command.startswith("subteam^"):
                return f"@{label.lstrip('@')}" if label else "@group"
            return label or f"@{command.split('^', 1)[0]}"  # dates, other specials
        if not label or label == target or target.endswith(f":{label}"):
            # "<https://x>", "<mailto:a@b.com|a@b.com>"
            return label or target
        if target.removeprefix("https://").removeprefix("http://").rstrip("/") == label:
            return target
        return f"{label} ({target})"

    text = ANGLE_TOKEN.sub(token, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _entry(message: Mapping[str, Any], names: Mapping[str, str], when: str) -> str:
    body = readable_text(_raw_text(message).strip(), names)
    files = " ".join(f"[file: {name}]" for name in _file_names(message))
    body = f"{body} {files}".strip() if body else files
    body = "\n  ".join(body.splitlines())
    return f"{_author(message, names)} ({when}): {body}"


def _tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def _shorten(entry: str, max_tokens: int) -> str:
    if _tokens(entry) <= max_tokens:
        return entry
    marker = " … [message shortened]"
    return entry[: max(0, max_tokens * 4 - len(marker))].rstrip() + marker


def _note(left_out: int, kept_recent: int) -> str:
    left = (
        "1 earlier message was left out"
        if left_out == 1
        else f"The {left_out:,} oldest replies were left out"
    )
    recent = "most recent message" if kept_recent == 1 else f"most recent {kept_recent:,}"
    return f"[{left} to fit; the summary covers the first message and the {recent}.]"


def _gap(left_out: int) -> str:
    return f"[… {left_out:,} message{'s' if left_out != 1 else ''} left out here …]"


def _fit(entries: list[str], max_tokens: int, channel_id: str) -> Transcript:
    if sum(_tokens(e) for e in entries) <= max_tokens:
        return Transcript("\n".join(entries), len(entries), 0, channel_id)
    # Room for the note and gap marker at their longest, then half the rest at most per
    # message, so the first message and the newest always fit together.
    overhead = _tokens(_note(10**9, 10**9)) + _tokens(_gap(10**9))
    per_message = (max_tokens - overhead) // 2
    entries = [_shorten(e, per_message) for e in entries]
    if sum(_tokens(e) for e in entries) <= max_tokens:
        return Transcript("\n".join(entries), len(entries), 0, channel_id)

    first, rest = entries[0], entries[1:]
    room = max_tokens - overhead - _tokens(first)
    recent: list[str] = []
    for entry in reversed(rest):
        cost = _tokens(entry)
        if cost > room:
            break
        recent.append(entry)
        room -= cost
    recent.reverse()
    left_out = len(rest) - len(recent)
    lines = [_note(left_out, len(recent)), first, _gap(left_out), *recent]
    return Transcript("\n".join(lines), 1 + len(recent), left_out, channel_id)
