"""Files people share in Slack, downloaded with the bot token and read for Claude.

A file object from an event (or `files.info`, when the event carries only a stub) is checked
before any byte is fetched: external files (Google Drive and the like) are never fetched, a
file Slack says is too large is refused, and the token goes only to Slack's own file host
(`files.slack.com`, or the host of SLACK_API_URL when that is overridden). The download is
capped while it streams. Nothing is logged of a file but its id and what went wrong.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import wording
from bot.files import (
    FileRefused,
    FilesRead,
    SharedFile,
    display_name,
    file_format,
    limits,
    read_files,
    too_large,
)

log = logging.getLogger(__name__)

SLACK_FILE_HOSTS = frozenset({"files.slack.com"})
DOWNLOAD_TIMEOUT_SECONDS = 60.0
_CHUNK = 64 * 1024


class _Refused(Exception):
    def __init__(self, refusal: FileRefused) -> None:
        self.refusal = refusal


async def fetch_files(client: AsyncWebClient, files: Sequence[dict[str, Any]]) -> FilesRead:
    """Download and read each shared file: those that work, and why the others didn't."""
    shared: list[SharedFile] = []
    refused: list[FileRefused] = []
    timeout = aiohttp.ClientTimeout(total=DOWNLOAD_TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for file in files[: limits.MAX_FILES + 1]:
            try:
                shared.append(await _download(client, session, file))
            except _Refused as refused_file:
                refused.append(refused_file.refusal)
    return await asyncio.to_thread(read_files, shared, refused)


def _refuse(sentence: str, name: str) -> _Refused:
    return _Refused(FileRefused(sentence.format(name=name), name=name))


async def _download(
    client: AsyncWebClient, session: aiohttp.ClientSession, file: dict[str, Any]
) -> SharedFile:
    name = display_name(str(file.get("name") or file.get("title") or "the file"))
    if file.get("file_access") == "check_file_info" or not file.get("url_private_download"):
        file = await _file_info(client, str(file.get("id") or ""), name)
        name = display_name(str(file.get("name") or name))
    if file.get("is_external"):
        raise _refuse(wording.FILE_EXTERNAL, name)
    shared = SharedFile(
        name=str(file.get("name") or name),
        data=b"",
        mimetype=file.get("mimetype"),
        filetype=file.get("filetype"),
        file_id=file.get("id"),
    )
    kind = file_format(shared)
    cap = limits.MAX_IMAGE_BYTES * 3 // 4 if kind == "image" else limits.MAX_FILE_BYTES
    size = file.get("size")
    if isinstance(size, int) and size > cap:
        raise _Refused(too_large(name, size, kind))
    url = str(file.get("url_private_download") or file.get("url_private") or "")
    if not is_slack_file_host(url, client.base_url):
        log.warning("file %s not downloaded: its URL is not on Slack's file host", shared.file_id)
        raise _refuse(wording.FILE_NOT_VISIBLE, name)
    data = await _get(session, url, client.token or "", name, cap, kind)
    return SharedFile(
        name=shared.name,
        data=data,
        mimetype=shared.mimetype,
        filetype=shared.filetype,
        file_id=shared.file_id,
    )


async def _file_info(client: AsyncWebClient, file_id: str, name: str) -> dict[str, Any]:
    try:
        response = await client.files_info(file=file_id)
    except SlackApiError as error:
        code = error.response.get("error") if error.response is not None else None
        log.warning("files.info failed for %s: %s", file_id, code)
        if code == "missing_scope":
            raise _refuse(wording.FILE_NEEDS_SCOPE, name) from None
        raise _refuse(wording.FILE_NOT_VISIBLE, name) from None
    found = response.get("file")
    if not isinstance(found, dict):
        raise _refuse(wording.FILE_NOT_VISIBLE, name)
    return found


def is_slack_file_host(url: str, api_url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return False
    api = urlsplit(api_url)
    if api.hostname not in (None, "slack.com") and parts.hostname == api.hostname:
        return parts.port == api.port  # SLACK_API_URL overridden: a proxy, or the tests
    return parts.scheme == "https" and parts.hostname in SLACK_FILE_HOSTS


async def _get(
    session: aiohttp.ClientSession, url: str, token: str, name: str, cap: int, kind: str | None
) -> bytes:
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with session.get(url, headers=headers, allow_redirects=False) as response:
            if response.status != 200:
                log.warning("file download answered HTTP %s", response.status)
                raise _refuse(wording.FILE_NOT_VISIBLE, name)
            # A token Slack won't take gets its sign-in page, with a 200.
            if response.content_type == "text/html" and kind != "html":
                log.warning("file download answered with a sign-in page: check files:read")
                raise _refuse(wording.FILE_NEEDS_SCOPE, name)
            received = bytearray()
            async for chunk in response.content.iter_chunked(_CHUNK):
                received += chunk
                if len(received) > cap:  # stop reading: the rest is never fetched
                    raise _Refused(too_large(name, response.content_length or len(received), kind))
            return bytes(received)
    except (aiohttp.ClientError, TimeoutError) as error:
        log.warning("file download failed (%s)", type(error).__name__)
        raise _refuse(wording.FILE_DOWNLOAD_FAILED, name) from None
