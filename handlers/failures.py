"""Exceptions turned into words for a person: a draft that failed, Slack or the database
not answering, a post Slack refused. Never a traceback or a raw API error in Slack; every
unexpected error is logged once, in full, for the admin."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from slack_sdk.errors import SlackApiError

from bot import wording
from bot.errors import UserFacingError
from bot.slack_ids import is_direct_message
from bot.storage.offloop import is_database_error
from handlers.blocks import previews
from handlers.blocks.message import Outgoing

log = logging.getLogger(__name__)


def failure_words(error: BaseException, doing: str) -> Outgoing:
    """What to tell the person when `doing` (for the log: "refining draft …") failed."""
    if isinstance(error, UserFacingError):
        log.info("could not finish %s: %s", doing, type(error).__name__)
        return previews.failure(error.user_message, error.reference)
    if is_database_error(error):
        log.warning("database failed while %s: %s", doing, type(error).__name__)
        return previews.failure(wording.DATABASE_BUSY)
    if isinstance(error, aiohttp.ClientError | asyncio.TimeoutError):  # Slack unreachable
        log.warning("could not reach Slack while %s: %s", doing, type(error).__name__)
        return previews.failure(wording.SLACK_UNREACHABLE)
    if isinstance(error, SlackApiError) and error.response.get("error") == "ratelimited":
        log.warning("Slack rate-limited Draftbot while %s", doing)
        return previews.failure(wording.SLACK_BUSY)
    log.error("unexpected error while %s", doing, exc_info=error)
    return previews.failure(wording.UNEXPECTED)


def cannot_post_reason(channel: str, error: str) -> str:
    if error == "ratelimited":
        return wording.SLACK_BUSY
    if error in ("not_in_channel", "channel_not_found") and is_direct_message(channel):
        return wording.CANNOT_POST_DM
    if error in ("not_in_channel", "channel_not_found"):
        return wording.CANNOT_POST_NOT_IN_CHANNEL.format(channel=channel)
    return wording.CANNOT_POST.format(channel=channel, reason=error.replace("_", " "))
