"""What Slack's ids, mentions and message links look like, and Slack's size limits: one home.

Pure data and parsing, no Slack client, so settings validation in `bot.config` can use the
same patterns as the handlers. Limits are from https://docs.slack.dev/reference/block-kit
and the method pages; where a limit binds is noted beside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

# ------------------------------------------------------------------ limits

MARKDOWN_LIMIT = 12_000  # a `markdown` block's text, cumulative per message
SECTION_LIMIT = 3_000  # a section's mrkdwn text
PLAIN_INPUT_LIMIT = 3_000  # a plain_text_input's value (the Edit form)
PRIVATE_METADATA_LIMIT = 3_000  # a modal's private_metadata (Slack refuses the view past it)
BLOCKS_PER_MESSAGE = 50
BLOCKS_PER_MODAL = 100
MODAL_TITLE_LIMIT = 24  # a modal's title
RESPONSE_URL_POSTS = 5  # a response_url takes 5 posts within 30 minutes
OPTION_LABEL_LIMIT = 75  # a select option's text, and its description
CONFIRM_TITLE_LIMIT = 100  # a confirmation dialog's title (plain_text)
CONFIRM_TEXT_LIMIT = 300  # a confirmation dialog's text
CONFIRM_BUTTON_LIMIT = 30  # its confirm and deny buttons' text
SIGNATURE_MAX_AGE_SECONDS = 300  # a signed request's timestamp: at most 5 minutes off

# auth.test errors that mean Slack refuses the bot token itself (uninstalled, revoked, wrong
# token): trying again does not help. Any other failure (5xx, ratelimited, internal_error, a
# dropped connection) is Slack having a bad moment.
TOKEN_REFUSED_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "app_uninstalled",
        "not_allowed_token_type",
    }
)

# ------------------------------------------------------------------ ids and mentions

USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,}")
USER_GROUP_ID = re.compile(r"S[A-Z0-9]{2,}")  # user groups (usergroups.users.list)
USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
CHANNEL_MENTION = re.compile(r"<#([CGD][A-Z0-9]+)(?:\|([^>]*))?>")
# `<@U123>` or a bare `U123`, as typed after `/draft budget`.
USER_ARGUMENT = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^([UW][A-Z0-9]{2,})$")
BROADCAST_TOKEN = re.compile(r"<!(channel|here|everyone)(?:\|[^>]*)?>", re.IGNORECASE)
SUBTEAM_TOKEN = re.compile(r"<!subteam\^[A-Z0-9]+(?:\|@?([^>]*))?>", re.IGNORECASE)
BROADCAST_WORD = re.compile(r"(?<![\w@])@(channel|here|everyone)\b", re.IGNORECASE)
# Any `<…>` token of Slack markup.
ANGLE_TOKEN = re.compile(r"<([^<>]*)>")
# A link's scheme, "https:" in `<https://…|label>` (also "javascript:", "mailto:", …).
URL_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:")


def user_argument(text: str) -> str | None:
    """The user id in `<@U123|name>` or `U123`, or None."""
    match = USER_ARGUMENT.match(text)
    return (match.group(1) or match.group(2)) if match else None


def channel_argument(text: str) -> tuple[str, str | None] | None:
    """(channel id, name or None) from `<#C123|support>` (how Slack escapes a channel named
    in a slash command) or a plain `C123`; None when it is neither."""
    text = text.strip()
    if match := CHANNEL_MENTION.fullmatch(text):
        return match.group(1), match.group(2) or None
    return (text, None) if CHANNEL_ID.fullmatch(text) and not is_direct_message(text) else None


def is_user_id(value: str) -> bool:
    return USER_ID.fullmatch(value) is not None


def is_dm_channel(channel_id: str | None) -> bool:
    return bool(channel_id) and str(channel_id).startswith("D")


def is_direct_message(channel_id: str | None) -> bool:
    """D… ids are direct messages; no id (the Messages tab's drafts) counts as one too."""
    return not channel_id or is_dm_channel(channel_id)


# ------------------------------------------------------------------ message links


@dataclass(frozen=True)
class MessageRef:
    channel_id: str
    ts: str  # "1700000000.123456"
    thread_ts: str | None  # parent ts when the link points into a thread

    def as_text(self) -> str:
        """ "C0123 1700000000.000100 1700000000.000001", as kept with a draft."""
        return " ".join([self.channel_id, self.ts, *([self.thread_ts] if self.thread_ts else [])])

    @classmethod
    def from_text(cls, text: str) -> MessageRef | None:
        parts = text.split()
        if len(parts) not in (2, 3) or not CHANNEL_ID.fullmatch(parts[0]):
            return None
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)


TS = re.compile(r"\d{10}\.\d{6}")
# workspace.slack.com, org.enterprise.slack.com, app.slack.com (and GovSlack's slack-gov.com)
_SLACK_HOST = re.compile(r"(?:[a-z0-9-]+\.)+slack(?:-gov)?\.com")
_ARCHIVES_PATH = re.compile(r"/archives/([^/]+)/p(\d{16})/?")
_CLIENT_THREAD_PATH = re.compile(r"/client/[TE][A-Z0-9]+/([^/]+)/thread/([^/-]+)-(\d{10}\.\d{6})/?")
# Paths that name a conversation's messages: a link there is meant as a message link.
_MESSAGE_LIKE_PATH = re.compile(r"/(archives|client)/")
# A URL anywhere in text: Slack's escaped form "<url|label>" stops at "|" or ">".
_URL_IN_TEXT = re.compile(r"https?://[^\s<>|]+", re.IGNORECASE)
_TRAILING_PUNCTUATION = ".,;:!?)]}'\""


def parse_permalink(url: str) -> MessageRef | None:
    """The message a Slack link points at, or None if `url` is not a Slack message link.

    Accepts `https://<workspace>.slack.com/archives/<C|G|D id>/p<16 digits>`, optionally with
    `?thread_ts=<parent ts>&cid=<channel>` (a reply), on workspace, enterprise
    (`*.enterprise.slack.com`) and `app.slack.com` hosts; Slack's escaped form from slash
    command text (`<url>`, `<url|label>`, `&amp;` for `&`); and the web client's thread view
    `https://app.slack.com/client/T…/C…/thread/C…-1700000000.123456` (the thread's parent).
    """
    parts = _slack_url(url)
    if parts is None:
        return None
    path, query = parts
    if archives := _ARCHIVES_PATH.fullmatch(path):
        channel_id, digits = archives.groups()
        if not CHANNEL_ID.fullmatch(channel_id):
            return None
        params = parse_qs(query)
        thread_ts: str | None = params["thread_ts"][0] if "thread_ts" in params else None
        if thread_ts is not None and not TS.fullmatch(thread_ts):
            return None
        return MessageRef(channel_id, f"{digits[:10]}.{digits[10:]}", thread_ts)
    if client := _CLIENT_THREAD_PATH.fullmatch(path):
        channel_id, thread_channel, ts = client.groups()
        if thread_channel != channel_id or not CHANNEL_ID.fullmatch(channel_id):
            return None
        return MessageRef(channel_id, ts, ts)
    return None


@dataclass(frozen=True)
class SlackLink:
    """A link in a person's text that points into a Slack conversation."""

    url: str
    ref: MessageRef | None  # None: it looks like a message link but does not parse as one


def find_slack_link(text: str) -> SlackLink | None:
    """The first link into a Slack conversation in `text` (plain or `<url|label>`), or None.

    Valid message permalinks win; failing one, a link to a workspace's `/archives/…` or
    `/client/…` pages that is not a valid permalink comes back with `ref=None`, so the
    person can be told, rather than the link being drafted from as if it were ordinary text.
    """
    broken: SlackLink | None = None
    for match in _URL_IN_TEXT.finditer(text):
        url = match.group(0).rstrip(_TRAILING_PUNCTUATION)
        ref = parse_permalink(url)
        if ref is not None:
            return SlackLink(url, ref)
        parts = _slack_url(url)
        if broken is None and parts is not None and _MESSAGE_LIKE_PATH.match(parts[0]):
            broken = SlackLink(url, None)
    return broken


def find_permalink(text: str) -> MessageRef | None:
    """The first valid Slack message link anywhere in `text`, or None."""
    link = find_slack_link(text)
    return link.ref if link else None


def _slack_url(url: str) -> tuple[str, str] | None:
    """(path, query) of a URL on a Slack host, or None."""
    text = url.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].split("|", 1)[0]
    text = text.replace("&amp;", "&")
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() not in ("http", "https") or not _SLACK_HOST.fullmatch(host):
        return None
    return parts.path, parts.query
