"""A local fake of Slack: Web API, ``response_url`` webhooks and Socket Mode.

The fake is a real aiohttp server on ``127.0.0.1`` (random port) running in a
background daemon thread with its own event loop, so the unmodified slack_sdk
clients talk to it over HTTP / WebSocket:

* ``AsyncWebClient(token=..., base_url=fake.api_url)`` for the Web API,
* Bolt's ``respond()`` / ``AsyncWebhookClient`` for URLs from ``fake.new_response_url()``,
* ``slack_sdk.socket_mode.aiohttp.SocketModeClient`` (and Bolt's ``AsyncSocketModeHandler``)
  via ``apps.connections.open``.

Every Web API call is recorded as a :class:`SlackCall`. State is guarded by a lock,
so tests may read it from any thread.

Beyond recording, the fake behaves like Slack where tests are likely to notice:
unknown/missing tokens (``invalid_auth``, ``not_authed``, ``not_allowed_token_type``),
``missing_scope`` against ``fake.scopes`` (``fake.enforce_scopes = False`` to switch off),
``not_in_channel`` for ``fake.channels_without_bot``, Block Kit limits (``invalid_blocks``;
``fake.validate_blocks = False`` to switch off), ``message_not_found`` for chat.update /
chat.delete of unknown messages, at most 5 posts per response_url, and generated ``block_id``
/ ``action_id`` values in stored views for blocks and elements that have none. Posted and
streamed messages are stored, so conversations.history / replies see them alongside seeded
ones. ``fake.fail(...)`` scripts Slack API errors; ``fake.drop_connection(...)`` a network
error (the connection closed without a response). People and channels come as the real
API describes them: guests (``add_user(guest="multi"|"single")``: ``is_restricted``,
``is_ultra_restricted``), members of other organisations (``team_id=``, ``stranger=``), and
Slack Connect channels (``add_channel(shared_with=[team ids])``: ``is_shared``,
``is_ext_shared``, ``shared_team_ids``), and user groups (``add_usergroup``; a plan without
them: ``usergroups_need_plan_upgrade``).
Canvases: tests/fakes/slack_canvases.py (stored Markdown, access, ``fake.canvas_plan``).
Methods it does not implement answer ``unknown_method``; serve them with
``fake.set_method_handler(method, handler)``.

Run it by hand (``make demo`` does): ``python -m tests.fakes.slack --port 8002``; see
tests/fakes/slack_standalone.py for its options and the control API it adds.

The ``wait_for*`` helpers block the calling thread. Inside an ``async def`` test the
code under test usually runs on the test's own event loop, which a blocking wait
would freeze, so there they raise ``RuntimeError``: use the ``*_async`` variants.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import WSMsgType, web

from tests.fakes.slack_canvases import CanvasesMixin

__all__ = ["FakeSlack", "SlackCall"]

# The bot token has exactly the scopes manifest.json asks for, as after a real install.
MANIFEST = Path(__file__).resolve().parents[2] / "manifest.json"
DEFAULT_SCOPES = tuple(json.loads(MANIFEST.read_text())["oauth_config"]["scopes"]["bot"])

# Arguments that slack_sdk sends as JSON strings inside form / query fields.
JSON_STRING_FIELDS = frozenset(
    {
        "blocks",
        "attachments",
        "view",
        "files",
        "metadata",
        "chunks",
        "user_auth_blocks",
        "outputs",
        "unfurls",
        "document_content",
    }
)

APP_TOKEN_METHODS = frozenset({"apps.connections.open"})
NO_AUTH_METHODS = frozenset({"api.test"})
MAX_RESPONSE_URL_POSTS = 5
MAX_MESSAGE_TEXT = 40_000

MethodHandler = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class SlackCall:
    """One Web API request received by the fake."""

    method: str  # e.g. "chat.postMessage"
    args: dict[str, Any]  # query + form/JSON body merged; JSON-string fields decoded
    headers: dict[str, str]  # lower-case names
    received_at: float  # time.monotonic()
    status: int = 0  # HTTP status the fake answered with
    response: dict[str, Any] = field(default_factory=dict)  # JSON body the fake answered with


@dataclass
class _Failure:
    error: str
    remaining: int
    status: int
    headers: dict[str, str]
    extra: dict[str, Any]
    match: dict[str, str] = field(default_factory=dict)


@dataclass
class _Drop:
    remaining: int
    match: dict[str, str]


@dataclass
class _ResponseUrlFailure:
    status: int
    body: str
    remaining: int
    headers: dict[str, str] = field(default_factory=dict)


class FakeSlack(CanvasesMixin):
    """Fake Slack server. See the module docstring."""

    def __init__(
        self,
        bot_token: str = "xoxb-test-token",
        app_token: str = "xapp-test-token",
        *,
        team_id: str = "T0001",
        team_name: str = "Draftbot Test Workspace",
        team_domain: str = "draftbot-test",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0001",
        bot_name: str = "draftbot",
        app_id: str = "A0001",
        port: int = 0,
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.team_id = team_id
        self.team_name = team_name
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.app_id = app_id

        # Public, mutable configuration (mutate in place; reset() clears these sets).
        self.channels_without_bot: set[str] = set()
        # conversations.members: channel id -> member user ids (unlisted channels: U0001 only)
        self.channel_members: dict[str, set[str]] = {}
        self.private_channels: set[str] = set()
        self.enforce_scopes: bool = True
        self.validate_blocks: bool = True
        # Block types this workspace's Slack refuses as unknown (invalid_blocks), e.g.
        # {"context_actions"} for one without the feedback buttons.
        self.unsupported_blocks: set[str] = set()

        self._lock = threading.RLock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._listen_port = port  # 0: any free port
        self._port: int | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self._init_state()

    # ------------------------------------------------------------------ state

    def _init_state(self) -> None:
        with self._lock:
            self._scopes: list[str] = list(DEFAULT_SCOPES)
            self._calls: list[SlackCall] = []
            self._failures: dict[str, list[_Failure]] = {}
            self._drops: dict[str, list[_Drop]] = {}
            self._latency: dict[str, float] = {}
            self._method_handlers: dict[str, MethodHandler] = {}
            self._response_urls: dict[str, list[dict[str, Any]]] = {}
            self._response_log: list[tuple[str, dict[str, Any]]] = []
            self._response_attempts: list[tuple[str, int, str]] = []
            self._response_failures: dict[str | None, list[_ResponseUrlFailure]] = {}
            self._users: dict[str, dict[str, Any]] = {}
            self._usergroups: dict[str, list[str]] = {}
            self._usergroup_handles: dict[str, str] = {}
            self.usergroups_need_plan_upgrade = False
            self._channels: dict[str, dict[str, Any]] = {}
            self._messages: dict[str, list[dict[str, Any]]] = {}
            self._files: dict[str, dict[str, Any]] = {}
            self._shared: dict[str, tuple[dict[str, Any], bytes]] = {}  # people's files
            self._downloads: list[tuple[str, bool]] = []  # (file id, served the bytes)
            self._views: dict[str, dict[str, Any]] = {}
            self._home_views: dict[str, str] = {}
            self._streams: dict[str, dict[str, Any]] = {}
            self._socket_acks: dict[str, dict[str, Any]] = {}
            self._socket_messages: list[dict[str, Any]] = []
            self._socket_sent: list[dict[str, Any]] = []
            self._socket_connection_count = 0
            self._ts_counter = itertools.count()
            self._id_counter = itertools.count(1)
            self.channels_without_bot.clear()
            self.channel_members.clear()
            self.private_channels.clear()
            self.enforce_scopes = True
            self.validate_blocks = True
            self.unsupported_blocks.clear()
            self._init_canvases()
        self.add_user(
            self.bot_user_id, self.bot_name, display_name=self.bot_name, real_name="Draftbot"
        )
        with self._lock:
            self._users[self.bot_user_id]["is_bot"] = True

    def reset(self) -> None:
        """Forget all recorded calls and seeded/scripted state (open sockets stay open)."""
        self._init_state()

    # ------------------------------------------------------------- lifecycle

    def start(self) -> FakeSlack:
        if self._thread is not None:
            return self
        ready = threading.Event()
        errors: list[BaseException] = []
        loop = asyncio.new_event_loop()
        self._loop = loop

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._startup())
            except BaseException as exc:  # surfaced to start()'s caller
                errors.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="FakeSlack", daemon=True)
        self._thread.start()
        ready.wait(10)
        if errors or self._port is None:
            self._thread = None
            loop.close()
            raise RuntimeError(f"FakeSlack failed to start: {errors!r}")
        return self

    def stop(self) -> None:
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(10)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
            loop.close()
            self._thread = None
            self._loop = None
            self._port = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _startup(self) -> None:
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{rid}", self._handle_response_url)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        app.router.add_get("/socket", self._handle_socket)
        app.router.add_get("/files-pri/{key}/download/{name}", self._handle_file_download)
        self._add_routes(app)
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self._listen_port)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    def _add_routes(self, app: web.Application) -> None:
        """More routes: the standalone server (tests/fakes/slack_standalone.py) adds its own."""

    async def _shutdown(self) -> None:
        for ws in list(self._sockets):
            await ws.close(code=1001, message=b"server shutting down")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------ URLs

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeSlack is not started; call start() first")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}api/"

    # ---------------------------------------------------------- scopes / users

    @property
    def scopes(self) -> list[str]:
        with self._lock:
            return list(self._scopes)

    @scopes.setter
    def scopes(self, value: str | Iterable[str]) -> None:
        items = value.split(",") if isinstance(value, str) else list(value)
        with self._lock:
            self._scopes = [s.strip() for s in items if s.strip()]

    def add_user(
        self,
        user_id: str,
        name: str,
        display_name: str = "",
        real_name: str = "",
        is_admin: bool = False,
        is_owner: bool = False,
        tz: str = "Europe/London",
        *,
        is_bot: bool = False,
        email: str | None = None,
        deleted: bool = False,
        locale: str = "en-GB",
        guest: str | None = None,
        team_id: str | None = None,
        stranger: bool = False,
    ) -> dict[str, Any]:
        """Register a user for users.info; returns the stored user object.

        ``guest="multi"`` is a multi-channel guest (``is_restricted``), ``guest="single"`` a
        single-channel guest (``is_restricted`` and ``is_ultra_restricted``, as Slack sets
        both). ``team_id`` other than the fake's own is a Slack Connect member of another
        organisation; ``stranger=True`` adds ``is_stranger`` as Slack does for people of a
        foreign workspace the app shares no visible channel with.
        """
        if guest not in (None, "multi", "single"):
            raise ValueError(f"guest must be None, 'multi' or 'single', not {guest!r}")
        home_team = team_id or self.team_id
        tz_label, tz_offset = _tz_info(tz)
        real = real_name or name
        profile: dict[str, Any] = {
            "real_name": real,
            "real_name_normalized": real,
            "display_name": display_name,
            "display_name_normalized": display_name,
            "first_name": real.split(" ")[0],
            "last_name": " ".join(real.split(" ")[1:]),
            "title": "",
            "status_text": "",
            "status_emoji": "",
            "team": home_team,
            "image_48": f"https://avatars.example/{user_id}_48.png",
            "image_72": f"https://avatars.example/{user_id}_72.png",
        }
        if email is not None:
            profile["email"] = email
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": home_team,
            "name": name,
            "deleted": deleted,
            "color": "9f69e7",
            "real_name": real,
            "tz": tz,
            "tz_label": tz_label,
            "tz_offset": tz_offset,
            "profile": profile,
            "is_admin": is_admin,
            "is_owner": is_owner,
            "is_primary_owner": is_owner,
            "is_restricted": guest is not None,
            "is_ultra_restricted": guest == "single",
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": 1700000000,
            "_locale": locale,
        }
        if stranger:
            user["is_stranger"] = True
        with self._lock:
            self._users[user_id] = user
        return _public_user(user, include_locale=False)

    def add_usergroup(
        self, group_id: str, members: Iterable[str], handle: str | None = None
    ) -> None:
        """A user group (S…) for usergroups.users.list and usergroups.list (scope
        usergroups:read; `handle`: its @handle, default the id in lower case). Set
        ``usergroups_need_plan_upgrade = True`` for a plan without user groups: every call
        then answers ``plan_upgrade_required``, as Slack does below the Standard plan."""
        with self._lock:
            self._usergroups[group_id] = list(members)
            self._usergroup_handles[group_id] = handle or group_id.lower()

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        is_private: bool = False,
        is_member: bool = True,
        topic: str = "",
        purpose: str = "",
        shared_with: Iterable[str] = (),
        pending_shared_with: Iterable[str] = (),
        org_shared: bool = False,
    ) -> None:
        """Describe a channel for conversations.info (unknown channels are synthesised).

        ``shared_with``: team ids of other organisations in this Slack Connect channel
        (``is_shared`` and ``is_ext_shared``, ``shared_team_ids``); ``pending_shared_with``:
        invitations not yet accepted (``is_pending_ext_shared``, ``pending_shared``);
        ``org_shared``: shared between workspaces of one Enterprise Grid organisation
        (``is_shared`` and ``is_org_shared``).
        """
        with self._lock:
            self._channels[channel_id] = {
                "name": name,
                "topic": topic,
                "purpose": purpose,
                "shared_with": list(shared_with),
                "pending_shared_with": list(pending_shared_with),
                "org_shared": org_shared,
            }
            if is_private:
                self.private_channels.add(channel_id)
            if is_member:
                self.channels_without_bot.discard(channel_id)
            else:
                self.channels_without_bot.add(channel_id)

    # -------------------------------------------------------------- messages

    def add_messages(
        self,
        channel: str,
        messages: Iterable[Mapping[str, Any]],
        thread_ts: str | None = None,
    ) -> list[dict[str, Any]]:
        """Seed messages for conversations.history / conversations.replies.

        Messages without a ``ts`` get the next fake ts. With ``thread_ts`` every
        message gets that ``thread_ts`` (the parent is the one whose ts equals it).
        Returns the stored copies.
        """
        stored: list[dict[str, Any]] = []
        with self._lock:
            for m in messages:
                msg: dict[str, Any] = {"type": "message", **dict(m)}
                if not msg.get("ts"):
                    msg["ts"] = self._next_ts()
                if thread_ts is not None:
                    msg["thread_ts"] = thread_ts
                self._store_message(channel, msg)
                stored.append(dict(msg))
        return stored

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """All stored messages of a channel (seeded, posted, streamed), oldest first."""
        with self._lock:
            return [dict(m) for m in self._messages.get(channel, [])]

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._find_message(channel, ts)
            return dict(found) if found is not None else None

    # ------------------------------------------------------------ recordings

    @property
    def calls(self) -> list[SlackCall]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[SlackCall]:
        with self._lock:
            return [c for c in self._calls if c.method == method]

    def add_file(
        self,
        name: str,
        content: bytes,
        *,
        mimetype: str = "application/octet-stream",
        filetype: str | None = None,
        user: str = "U0001",
        is_external: bool = False,
        external_url: str = "https://drive.example.com/file/123",
        size: int | None = None,
    ) -> dict[str, Any]:
        """A file someone shared: the object Slack puts in a message's ``files`` (and
        answers for ``files.info``). ``url_private_download`` serves ``content`` to the bot
        token with ``files:read``; anything else gets Slack's HTML login page with a 200.
        ``size`` overrides the size Slack reports (to test checks made before downloading)."""
        with self._lock:
            file_id = self._next_id("F")
            if is_external:
                url = external_url
            else:
                url = f"{self.base_url}files-pri/T0001-{file_id}/download/{name}"
            obj = {
                "id": file_id,
                "created": int(time.time()),
                "name": name,
                "title": name,
                "mimetype": mimetype,
                "filetype": filetype or name.rsplit(".", 1)[-1].lower(),
                "user": user,
                "size": len(content) if size is None else size,
                "is_external": is_external,
                "external_type": "gdrive" if is_external else "",
                "url_private": url,
                "url_private_download": url,
            }
            self._shared[file_id] = (obj, content)
            return dict(obj)

    @property
    def file_downloads(self) -> list[tuple[str, bool]]:
        """GETs of shared files' URLs: (file id, whether the bytes were served)."""
        with self._lock:
            return list(self._downloads)

    @property
    def uploads(self) -> list[dict[str, Any]]:
        """Files announced via files.getUploadURLExternal, in order.

        Keys: file_id, filename, title, content (bytes, b"" until uploaded), length,
        uploaded, completed, channel_id, channels, initial_comment, thread_ts.
        """
        with self._lock:
            return [dict(f) for f in self._files.values()]

    @property
    def views(self) -> dict[str, dict[str, Any]]:
        """Views opened/pushed/updated/published, by view id (latest version)."""
        with self._lock:
            return {k: dict(v) for k, v in self._views.items()}

    @property
    def streams(self) -> list[dict[str, Any]]:
        """Chat streams: channel, ts, thread_ts, recipient_*, chunks, text, state, blocks."""
        with self._lock:
            return [_copy_stream(s) for s in self._streams.values()]

    def stream_text(self, ts: str) -> str:
        with self._lock:
            return str(self._streams[ts]["text"])

    def set_method_handler(self, method: str, handler: MethodHandler | None) -> None:
        """Serve ``method`` with ``handler(args) -> response body`` ("ok": True is added
        unless present). Auth, scripted failures and recording still apply. None removes."""
        with self._lock:
            if handler is None:
                self._method_handlers.pop(method, None)
            else:
                self._method_handlers[method] = handler

    # ---------------------------------------------------------------- failures

    def fail(
        self,
        method: str,
        error: str = "not_in_channel",
        times: int = 1,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        *,
        extra: Mapping[str, Any] | None = None,
        match: Mapping[str, str] | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` answer ``{"ok": false, "error": error}``.

        ``error="ratelimited"`` defaults to HTTP 429 with ``Retry-After: 1``.
        ``extra`` adds fields to the body (e.g. ``{"needed": "chat:write"}``). With ``match``,
        only calls whose arguments include all of those values (e.g. ``{"channel": "U0001"}``)
        count, so concurrent requests can each be given their own failures.
        """
        hdrs = dict(headers or {})
        if error == "ratelimited":
            if status == 200:
                status = 429
            if not any(k.lower() == "retry-after" for k in hdrs):
                hdrs["Retry-After"] = "1"
        with self._lock:
            self._failures.setdefault(method, []).append(
                _Failure(error, times, status, hdrs, dict(extra or {}), dict(match or {}))
            )

    def drop_connection(
        self, method: str, times: int = 1, *, match: Mapping[str, str] | None = None
    ) -> None:
        """Make the next ``times`` calls of ``method`` end in a network error: the server
        closes the connection without any HTTP response (the call is still recorded, with
        ``status`` 0). With ``match``, only calls whose arguments include all of those
        values (e.g. ``{"channel": "C0ALERTS"}``) count. slack_sdk's default retry handlers
        retry a dropped connection once, so a lasting outage needs ``times`` of 2 or more.
        """
        with self._lock:
            self._drops.setdefault(method, []).append(_Drop(times, dict(match or {})))

    def set_latency(self, method: str, seconds: float) -> None:
        """Answer ``method`` after ``seconds``, as real Slack takes a while (auth.test: about
        0.1-0.3 s); other requests are served meanwhile. ``reset()`` clears it."""
        with self._lock:
            self._latency[method] = seconds

    def _take_drop(self, method: str, args: Mapping[str, Any]) -> bool:
        for drop in self._drops.get(method, []):
            if all(str(args.get(k)) == v for k, v in drop.match.items()):
                drop.remaining -= 1
                if drop.remaining <= 0:
                    self._drops[method].remove(drop)
                return True
        return False

    def fail_response_url(
        self,
        url: str | None,
        status: int = 404,
        body: str = "expired_url",
        times: int = 1,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Make the next ``times`` posts to ``url`` (or to any response_url if None) fail,
        with ``headers`` on the answer (e.g. ``{"Retry-After": "1"}`` on a 429)."""
        with self._lock:
            self._response_failures.setdefault(url, []).append(
                _ResponseUrlFailure(status, body, times, dict(headers or {}))
            )

    # ---------------------------------------------------------- response_url

    def new_response_url(self) -> str:
        url = f"{self.base_url}response/{uuid.uuid4().hex}"
        with self._lock:
            self._response_urls[url] = []
        return url

    def responses(self, url: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._response_urls.get(url, []))

    def all_responses(self) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            return list(self._response_log)

    @property
    def response_attempts(self) -> list[tuple[str, int, str]]:
        """Every POST to /response/*, including refused ones: (url, status, body)."""
        with self._lock:
            return list(self._response_attempts)

    # ------------------------------------------------------------------ waits

    def wait_for(self, predicate: Callable[[FakeSlack], bool], timeout: float = 5.0) -> bool:
        _refuse_blocking_in_loop("wait_for", "wait_for_async")
        deadline = time.monotonic() + timeout
        while True:
            if predicate(self):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    async def wait_for_async(
        self,
        predicate: Callable[[FakeSlack], bool],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            if predicate(self):
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.01)

    def wait_for_responses(
        self, url: str, n: int = 1, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        _refuse_blocking_in_loop("wait_for_responses", "wait_for_responses_async")
        if not self.wait_for(lambda f: len(f.responses(url)) >= n, timeout):
            raise AssertionError(self._responses_timeout_message(url, n, timeout))
        return self.responses(url)

    async def wait_for_responses_async(
        self,
        url: str,
        n: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[dict[str, Any]]:
        if not await self.wait_for_async(lambda f: len(f.responses(url)) >= n, timeout):
            raise AssertionError(self._responses_timeout_message(url, n, timeout))
        return self.responses(url)

    def _responses_timeout_message(self, url: str, n: int, timeout: float) -> str:
        got = self.responses(url)
        attempts = [a for a in self.response_attempts if a[0] == url]
        calls = [(c.method, c.response.get("error")) for c in self.calls[-10:]]
        return (
            f"expected {n} post(s) to response_url {url} within {timeout}s, got {len(got)}: "
            f"{[_shorten(g) for g in got]}\nrefused posts to it (url, status, body): "
            f"{[a for a in attempts if a[1] != 200]!r}\n"
            f"posts to other response_urls: {len(self.all_responses()) - len(got)}\n"
            f"last Web API calls (method, error): {calls!r}"
        )

    # ----------------------------------------------------------- socket mode

    @property
    def socket_acks(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return dict(self._socket_acks)

    @property
    def socket_messages(self) -> list[dict[str, Any]]:
        """Every JSON message received from Socket Mode clients (acks included)."""
        with self._lock:
            return list(self._socket_messages)

    @property
    def socket_connected(self) -> bool:
        return any(not ws.closed for ws in list(self._sockets))

    @property
    def socket_connection_count(self) -> int:
        """How many WebSocket connections were ever accepted (reconnects count)."""
        with self._lock:
            return self._socket_connection_count

    def wait_for_socket_connection(self, timeout: float = 5.0) -> bool:
        _refuse_blocking_in_loop("wait_for_socket_connection", "wait_for_socket_connection_async")
        if not self.wait_for(lambda f: f.socket_connected, timeout):
            raise AssertionError(f"no Socket Mode connection within {timeout}s")
        return True

    async def wait_for_socket_connection_async(self, timeout: float = 5.0) -> bool:  # noqa: ASYNC109
        if not await self.wait_for_async(lambda f: f.socket_connected, timeout):
            raise AssertionError(f"no Socket Mode connection within {timeout}s")
        return True

    def wait_for_socket_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        _refuse_blocking_in_loop("wait_for_socket_ack", "wait_for_socket_ack_async")
        if not self.wait_for(lambda f: envelope_id in f.socket_acks, timeout):
            raise AssertionError(self._ack_timeout_message(envelope_id, timeout))
        return self.socket_acks[envelope_id]

    async def wait_for_socket_ack_async(
        self,
        envelope_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        if not await self.wait_for_async(lambda f: envelope_id in f.socket_acks, timeout):
            raise AssertionError(self._ack_timeout_message(envelope_id, timeout))
        return self.socket_acks[envelope_id]

    def _ack_timeout_message(self, envelope_id: str, timeout: float) -> str:
        return (
            f"no ack for envelope {envelope_id} within {timeout}s; "
            f"acks received: {list(self.socket_acks)}; connected: {self.socket_connected}"
        )

    def build_socket_envelope(
        self,
        payload_type: str,
        payload: Mapping[str, Any],
        *,
        accepts_response_payload: bool | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> dict[str, Any]:
        if accepts_response_payload is None:
            accepts_response_payload = payload_type != "events_api"
        envelope: dict[str, Any] = {
            "envelope_id": str(uuid.uuid4()),
            "payload": dict(payload),
            "type": payload_type,
            "accepts_response_payload": accepts_response_payload,
        }
        if payload_type == "events_api":
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason
        return envelope

    def send_socket_event(
        self,
        payload_type: str,
        payload: Mapping[str, Any],
        *,
        accepts_response_payload: bool | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout: float = 5.0,
    ) -> str:
        """Send an envelope (``slash_commands``, ``interactive``, ``events_api``) to the
        most recent open Socket Mode connection; returns its envelope_id.

        Waits up to ``timeout`` for a connection. This blocks the calling thread: if the
        client still has to connect on your own event loop, use send_socket_event_async.
        """
        envelope = self.build_socket_envelope(
            payload_type,
            payload,
            accepts_response_payload=accepts_response_payload,
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
        )
        self._run_on_server(self._send_to_socket(envelope, timeout), timeout + 5)
        return str(envelope["envelope_id"])

    async def send_socket_event_async(
        self,
        payload_type: str,
        payload: Mapping[str, Any],
        *,
        accepts_response_payload: bool | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> str:
        envelope = self.build_socket_envelope(
            payload_type,
            payload,
            accepts_response_payload=accepts_response_payload,
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
        )
        await self._run_on_server_async(self._send_to_socket(envelope, timeout))
        return str(envelope["envelope_id"])

    def send_socket_disconnect(self, reason: str = "refresh_requested") -> None:
        """Send Slack's ``disconnect`` message; the SDK client then reconnects."""
        message = {
            "type": "disconnect",
            "reason": reason,
            "debug_info": {"host": "applink-fake-1"},
        }
        self._run_on_server(self._send_to_socket(message, 5.0), 10)

    def _run_on_server(self, coro: Any, timeout: float) -> Any:
        if self._loop is None:
            coro.close()
            raise RuntimeError("FakeSlack is not started")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _run_on_server_async(self, coro: Any) -> Any:
        if self._loop is None:
            coro.close()
            raise RuntimeError("FakeSlack is not started")
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop))

    async def _send_to_socket(self, message: dict[str, Any], wait_seconds: float) -> None:
        deadline = time.monotonic() + wait_seconds
        while True:
            open_sockets = [ws for ws in self._sockets if not ws.closed]
            if open_sockets:
                break
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"no Socket Mode connection to send {message.get('type')!r} to "
                    f"within {wait_seconds}s (if the client connects on your test's event loop, "
                    "use send_socket_event_async or await wait_for_socket_connection_async)"
                )
            await asyncio.sleep(0.01)
        await open_sockets[-1].send_str(json.dumps(message))
        with self._lock:
            self._socket_sent.append(message)

    # ========================================================== HTTP handlers

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        with self._lock:
            self._socket_connection_count += 1
        hello = {
            "type": "hello",
            "num_connections": len([s for s in self._sockets if not s.closed]),
            "debug_info": {
                "host": "applink-fake-1",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }
        await ws.send_str(json.dumps(hello))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    continue
                if not isinstance(data, dict):
                    continue
                with self._lock:
                    self._socket_messages.append(data)
                    if "envelope_id" in data:
                        self._socket_acks[str(data["envelope_id"])] = data
        finally:
            if ws in self._sockets:
                self._sockets.remove(ws)
        return ws

    async def _handle_file_download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["key"].rsplit("-", 1)[-1]
        token = _bearer(request.headers.get("authorization"))
        with self._lock:
            shared = self._shared.get(file_id)
            allowed = token == self.bot_token and (
                "files:read" in self._scopes or not self.enforce_scopes
            )
            self._downloads.append((file_id, bool(shared and allowed)))
        if shared is None:
            return web.Response(status=404, text="Not Found", content_type="text/plain")
        if not allowed:  # as Slack: a 200 with the sign-in page, not a 401
            page = "<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in</body>"
            return web.Response(text=page, content_type="text/html")
        obj, content = shared
        return web.Response(
            body=content,
            content_type=obj["mimetype"],
            headers={"Content-Disposition": f'attachment; filename="{obj["name"]}"'},
        )

    async def _handle_upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            content = b""
            for value in form.values():
                if hasattr(value, "file"):
                    content = value.file.read()
                    break
        else:
            content = await request.read()
        with self._lock:
            entry = self._files.get(file_id)
            if entry is None:
                return web.Response(status=404, text="file_not_found", content_type="text/plain")
            entry["content"] = content
            entry["uploaded"] = True
        return web.Response(text=f"OK - {len(content)}", content_type="text/plain")

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        url = f"{self.base_url}response/{request.match_info['rid']}"
        raw = await request.read()
        status, text, headers = self._response_url_post(url, raw)
        with self._lock:
            self._response_attempts.append((url, status, text))
        return web.Response(status=status, text=text, content_type="text/html", headers=headers)

    def _response_url_post(self, url: str, raw: bytes) -> tuple[int, str, dict[str, str]]:
        with self._lock:
            for key in (url, None):
                failures = self._response_failures.get(key)
                if failures:
                    failure = failures[0]
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        failures.pop(0)
                    return failure.status, failure.body, failure.headers
            posts = self._response_urls.get(url)
            if posts is None:
                return 404, "no_service", {}
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                return 400, "invalid_payload", {}
            if not isinstance(body, dict):
                return 400, "invalid_payload", {}
            if len(posts) >= MAX_RESPONSE_URL_POSTS:
                return 404, "used_url", {}
            has_content = any(body.get(k) for k in ("text", "blocks", "attachments"))
            if not has_content and not body.get("delete_original"):
                return 400, "no_text", {}
            if self.validate_blocks and "blocks" in body and self._errors_in(body["blocks"]):
                return 400, "invalid_blocks", {}
            posts.append(body)
            self._response_log.append((url, body))
            return 200, "ok", {}

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        headers = {k.lower(): v for k, v in request.headers.items()}
        args: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                raw = await request.read()
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    body = None
                if not isinstance(body, dict):
                    return self._json({"ok": False, "error": "invalid_json"}, 200, {})
                args.update(body)
            elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key, value in form.items():
                    args[key] = value.file.read() if hasattr(value, "file") else value
            else:
                await request.read()
        for key in JSON_STRING_FIELDS & args.keys():
            value = args[key]
            if isinstance(value, str) and value[:1] in ("[", "{"):
                with contextlib.suppress(ValueError):
                    args[key] = json.loads(value)
        call = SlackCall(method=method, args=args, headers=headers, received_at=time.monotonic())
        with self._lock:
            self._calls.append(call)
            latency = self._latency.get(method, 0.0)
        if latency:
            await asyncio.sleep(latency)
        with self._lock:
            dropped = self._take_drop(method, args)
            if not dropped:
                status, body, extra_headers = self._dispatch(method, args, headers)
                call.status = status
                call.response = body
        if dropped:
            transport = request.transport
            if transport is not None:
                transport.close()
            return web.Response(status=200)  # never reaches the client
        return self._json(body, status, extra_headers)

    @staticmethod
    def _json(body: dict[str, Any], status: int, headers: Mapping[str, str]) -> web.Response:
        return web.json_response(body, status=status, headers=dict(headers))

    # ============================================================ Web API core

    def _dispatch(
        self, method: str, args: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        resp_headers: dict[str, str] = {"x-slack-req-id": uuid.uuid4().hex}
        handler = self._method_handlers.get(method)
        builtin = getattr(self, "_api_" + method.replace(".", "_"), None)
        if handler is None and builtin is None:
            return (
                200,
                {
                    "ok": False,
                    "error": "unknown_method",
                    "req_method": method,
                    "fake_note": "FakeSlack does not implement this method; "
                    "use fake.set_method_handler()",
                },
                resp_headers,
            )

        if method not in NO_AUTH_METHODS:
            token = _bearer(headers.get("authorization")) or args.get("token")
            if not token:
                return 200, {"ok": False, "error": "not_authed"}, resp_headers
            wanted = self.app_token if method in APP_TOKEN_METHODS else self.bot_token
            if token != wanted:
                if token in (self.app_token, self.bot_token):
                    return 200, {"ok": False, "error": "not_allowed_token_type"}, resp_headers
                return 200, {"ok": False, "error": "invalid_auth"}, resp_headers
            if token == self.bot_token:
                resp_headers["x-oauth-scopes"] = ",".join(self._scopes)

        failures = self._failures.get(method, [])
        failure = next(
            (f for f in failures if all(str(args.get(k)) == v for k, v in f.match.items())),
            None,
        )
        if failure is not None:
            failure.remaining -= 1
            if failure.remaining <= 0:
                failures.remove(failure)
            body = {"ok": False, "error": failure.error, **failure.extra}
            return failure.status, body, {**resp_headers, **failure.headers}

        if self.enforce_scopes and method not in APP_TOKEN_METHODS:
            needed = self._needed_scopes(method, args)
            if needed and not set(needed) & set(self._scopes):
                resp_headers["x-accepted-oauth-scopes"] = ",".join(needed)
                body = {
                    "ok": False,
                    "error": "missing_scope",
                    "needed": needed[0],
                    "provided": ",".join(self._scopes),
                }
                return 200, body, resp_headers

        if handler is not None:
            result = dict(handler(dict(args)))
            result.setdefault("ok", True)
            return 200, result, resp_headers
        assert builtin is not None
        return 200, builtin(args), resp_headers

    def _channel_kind(self, channel: str) -> str:
        if channel.startswith("D"):
            return "im"
        if channel in self.private_channels or channel.startswith("G"):
            return "groups"
        return "channels"

    def _needed_scopes(self, method: str, args: Mapping[str, Any]) -> list[str]:
        channel = str(args.get("channel") or "")
        if method.startswith("chat.") and method != "chat.getPermalink":
            return ["chat:write"]
        if method in ("users.info", "users.list"):
            return ["users:read"]
        if method.startswith("usergroups."):
            return ["usergroups:read"]
        if method == "users.lookupByEmail":
            return ["users:read.email"]
        if method == "files.info":
            return ["files:read"]
        if method.startswith("files."):
            return ["files:write"]
        if method.startswith("canvases.") or method == "conversations.canvases.create":
            return ["canvases:write"]
        if method == "conversations.open":
            return ["im:write", "mpim:write", "channels:manage", "groups:write"]
        if method in ("conversations.history", "conversations.replies"):
            return [f"{self._channel_kind(channel)}:history"]
        if method in ("conversations.info", "conversations.members"):
            return [f"{self._channel_kind(channel)}:read"]
        return []

    # --------------------------------------------------------------- helpers

    def _next_ts(self) -> str:
        n = 1_700_000_000_000_100 + 100 * next(self._ts_counter)
        return f"{n // 1_000_000}.{n % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._id_counter):010d}"

    def _store_message(self, channel: str, msg: dict[str, Any]) -> None:
        msgs = self._messages.setdefault(channel, [])
        msgs.append(msg)
        msgs.sort(key=lambda m: _ts_key(str(m["ts"])))
        thread_ts = msg.get("thread_ts")
        if thread_ts and thread_ts != msg["ts"]:
            parent = self._find_message(channel, str(thread_ts))
            if parent is not None:
                parent["thread_ts"] = parent["ts"]
                parent["reply_count"] = int(parent.get("reply_count", 0)) + 1
                parent["latest_reply"] = msg["ts"]

    def _find_message(self, channel: str, ts: str) -> dict[str, Any] | None:
        for m in self._messages.get(channel, []):
            if m.get("ts") == ts:
                return m
        return None

    def _resolve_channel(self, channel: str) -> str:
        if channel[:1] in ("U", "W"):
            return "D" + channel
        return channel

    def _bot_message(self, args: Mapping[str, Any], ts: str) -> dict[str, Any]:
        text = str(args.get("text") or args.get("markdown_text") or "")[:MAX_MESSAGE_TEXT]
        msg: dict[str, Any] = {
            "user": self.bot_user_id,
            "type": "message",
            "ts": ts,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "text": text,
            "team": self.team_id,
            "bot_profile": {
                "id": self.bot_id,
                "app_id": self.app_id,
                "name": self.bot_name,
                "team_id": self.team_id,
                "deleted": False,
            },
        }
        for key in ("blocks", "attachments", "metadata", "thread_ts"):
            if args.get(key):
                msg[key] = args[key]
        return msg

    def _blocks_error(self, blocks: Any, limit: int = 50) -> dict[str, Any] | None:
        if not self.validate_blocks or blocks is None:
            return None
        errors = self._errors_in(blocks, limit)
        if not errors:
            return None
        return {
            "ok": False,
            "error": "invalid_blocks",
            "errors": errors,
            "response_metadata": {"messages": [f"[ERROR] {e}" for e in errors]},
        }

    def _errors_in(self, blocks: Any, limit: int = 50) -> list[str]:
        errors = _block_errors(blocks, limit)
        for i, block in enumerate(blocks if isinstance(blocks, list) else []):
            if isinstance(block, dict) and block.get("type") in self.unsupported_blocks:
                errors.append(f"unsupported type: {block['type']} [json-pointer:/blocks/{i}]")
        return errors

    def _paginate(
        self, items: list[dict[str, Any]], args: Mapping[str, Any], default_limit: int
    ) -> dict[str, Any]:
        try:
            limit = int(args.get("limit") or default_limit)
        except ValueError:
            return {"ok": False, "error": "invalid_limit"}
        limit = max(1, min(limit, 1000))
        offset = 0
        cursor = args.get("cursor")
        if cursor:
            try:
                kind, _, value = base64.b64decode(str(cursor)).decode().partition(":")
                if kind != "next_offset":
                    raise ValueError(cursor)
                offset = int(value)
            except ValueError:
                return {"ok": False, "error": "invalid_cursor"}
        page = items[offset : offset + limit]
        has_more = offset + limit < len(items)
        next_cursor = (
            base64.b64encode(f"next_offset:{offset + limit}".encode()).decode() if has_more else ""
        )
        return {
            "ok": True,
            "messages": [dict(m) for m in page],
            "has_more": has_more,
            "response_metadata": {"next_cursor": next_cursor},
        }

    # ===================================================== Web API methods

    def _api_api_test(self, args: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {"ok": True, "args": dict(args)}
        if args.get("error"):
            return {"ok": False, "error": args["error"], "args": dict(args)}
        return result

    def _api_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    # chat.* ---------------------------------------------------------------

    def _api_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if channel in self.channels_without_bot:
            return {"ok": False, "error": "not_in_channel"}
        if not any(args.get(k) for k in ("text", "blocks", "attachments", "markdown_text")):
            return {"ok": False, "error": "no_text"}
        if (err := self._blocks_error(args.get("blocks"))) is not None:
            return err
        channel_id = self._resolve_channel(channel)
        ts = self._next_ts()
        msg = self._bot_message(args, ts)
        self._store_message(channel_id, msg)
        return {"ok": True, "channel": channel_id, "ts": ts, "message": dict(msg)}

    def _api_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("user"):
            return {"ok": False, "error": "user_not_found"}
        if channel in self.channels_without_bot:
            return {"ok": False, "error": "not_in_channel"}
        if not any(args.get(k) for k in ("text", "blocks", "attachments", "markdown_text")):
            return {"ok": False, "error": "no_text"}
        if (err := self._blocks_error(args.get("blocks"))) is not None:
            return err
        return {"ok": True, "message_ts": self._next_ts()}

    def _api_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        ts = str(args.get("ts") or "")
        msg = self._find_message(channel, ts)
        if msg is None:
            return {"ok": False, "error": "message_not_found"}
        if msg.get("bot_id") != self.bot_id:
            return {"ok": False, "error": "cant_update_message"}
        if (err := self._blocks_error(args.get("blocks"))) is not None:
            return err
        for key in ("text", "markdown_text"):
            if key in args:
                msg["text"] = str(args[key] or "")[:MAX_MESSAGE_TEXT]
        for key in ("blocks", "attachments", "metadata"):
            if key in args:
                msg[key] = args[key]
        msg["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": msg.get("text", ""),
            "message": dict(msg),
        }

    def _api_chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        ts = str(args.get("ts") or "")
        msg = self._find_message(channel, ts)
        if msg is None:
            return {"ok": False, "error": "message_not_found"}
        if msg.get("bot_id") != self.bot_id:
            return {"ok": False, "error": "cant_delete_message"}
        self._messages[channel].remove(msg)
        return {"ok": True, "channel": channel, "ts": ts}

    def _api_chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        ts = str(args.get("message_ts") or "")
        if not channel or not ts:
            return {"ok": False, "error": "invalid_arguments"}
        link = f"https://{self.team_domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        msg = self._find_message(channel, ts)
        if msg is not None and msg.get("thread_ts") and msg["thread_ts"] != ts:
            link += f"?thread_ts={msg['thread_ts']}&cid={channel}"
        return {"ok": True, "channel": channel, "permalink": link}

    def _api_chat_startStream(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("thread_ts"):
            return {"ok": False, "error": "invalid_arguments"}
        if channel in self.channels_without_bot:
            return {"ok": False, "error": "not_in_channel"}
        channel_id = self._resolve_channel(channel)
        ts = self._next_ts()
        stream: dict[str, Any] = {
            "channel": channel_id,
            "ts": ts,
            "thread_ts": args.get("thread_ts"),
            "recipient_team_id": args.get("recipient_team_id"),
            "recipient_user_id": args.get("recipient_user_id"),
            "chunks": [],
            "text": "",
            "state": "in_progress",
            "blocks": None,
        }
        self._streams[ts] = stream
        self._append_to_stream(stream, args)
        msg = self._bot_message({"thread_ts": args.get("thread_ts")}, ts)
        msg["text"] = stream["text"]
        self._store_message(channel_id, msg)
        return {"ok": True, "channel": channel_id, "ts": ts}

    def _api_chat_appendStream(self, args: dict[str, Any]) -> dict[str, Any]:
        stream, err = self._stream_for(args)
        if stream is None:
            return err
        self._append_to_stream(stream, args)
        return {"ok": True, "channel": stream["channel"], "ts": stream["ts"]}

    def _api_chat_stopStream(self, args: dict[str, Any]) -> dict[str, Any]:
        stream, err = self._stream_for(args)
        if stream is None:
            return err
        if (block_err := self._blocks_error(args.get("blocks"))) is not None:
            return block_err
        self._append_to_stream(stream, args)
        stream["state"] = "completed"
        stream["blocks"] = args.get("blocks")
        msg = self._find_message(stream["channel"], stream["ts"])
        if msg is not None and args.get("blocks"):
            msg["blocks"] = args["blocks"]
        return {
            "ok": True,
            "channel": stream["channel"],
            "ts": stream["ts"],
            "message": dict(msg) if msg is not None else {},
        }

    def _stream_for(self, args: Mapping[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        stream = self._streams.get(str(args.get("ts") or ""))
        if stream is None or stream["channel"] != self._resolve_channel(
            str(args.get("channel") or "")
        ):
            return None, {"ok": False, "error": "message_not_found"}
        if stream["state"] != "in_progress":
            return None, {"ok": False, "error": "message_not_in_streaming_state"}
        return stream, {}

    def _append_to_stream(self, stream: dict[str, Any], args: Mapping[str, Any]) -> None:
        added = ""
        if args.get("markdown_text"):
            added += str(args["markdown_text"])
            stream["chunks"].append({"type": "markdown_text", "text": str(args["markdown_text"])})
        for chunk in args.get("chunks") or []:
            stream["chunks"].append(chunk)
            if isinstance(chunk, dict) and chunk.get("type") == "markdown_text":
                added += str(chunk.get("text", ""))
        stream["text"] += added
        msg = self._find_message(stream["channel"], stream["ts"])
        if msg is not None:
            msg["text"] = stream["text"]

    # users / conversations ------------------------------------------------

    def _api_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self._users.get(str(args.get("user") or ""))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        include_locale = str(args.get("include_locale", "")).lower() in ("1", "true")
        return {"ok": True, "user": _public_user(user, include_locale=include_locale)}

    def _api_usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        if self.usergroups_need_plan_upgrade:
            return {"ok": False, "error": "plan_upgrade_required"}
        members = self._usergroups.get(str(args.get("usergroup") or ""))
        if members is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(members)}

    def _api_usergroups_list(self, args: dict[str, Any]) -> dict[str, Any]:
        """The workspace's user groups: id, handle, name (members only with include_users)."""
        if self.usergroups_need_plan_upgrade:
            return {"ok": False, "error": "plan_upgrade_required"}
        with_users = str(args.get("include_users", "")).lower() in ("1", "true")
        groups = []
        for group_id, members in self._usergroups.items():
            handle = self._usergroup_handles.get(group_id, group_id.lower())
            group: dict[str, Any] = {"id": group_id, "handle": handle, "name": handle.title()}
            if with_users:
                group["users"] = list(members)
            groups.append(group)
        return {"ok": True, "usergroups": groups}

    def _api_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        """Every member, a page at a time (`limit`, `cursor`); e-mail addresses only with
        users:read.email, as Slack does."""
        limit = max(1, min(int(args.get("limit") or 100), 1000))
        start = int(args.get("cursor") or 0)
        users = list(self._users.values())
        page = [_public_user(user, include_locale=False) for user in users[start : start + limit]]
        if "users:read.email" not in self.scopes:
            for user in page:
                user["profile"].pop("email", None)
        after = start + limit
        cursor = str(after) if after < len(users) else ""
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": cursor}}

    def _api_users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        wanted = str(args.get("email") or "").lower()
        for user in self._users.values():
            if str(user["profile"].get("email") or "").lower() == wanted and wanted:
                return {"ok": True, "user": _public_user(user, include_locale=False)}
        return {"ok": False, "error": "users_not_found"}

    def _api_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("channel"):
            channel: dict[str, Any] = {"id": str(args["channel"])}
        else:
            users = [u for u in str(args.get("users") or "").split(",") if u]
            if not users:
                return {"ok": False, "error": "users_list_not_supplied"}
            if len(users) == 1:
                channel = {"id": "D" + users[0]}
            else:
                channel = {"id": "G" + "".join(sorted(users))[:10]}
        if str(args.get("return_im", "")).lower() in ("1", "true"):
            channel.update(self._channel_info(channel["id"]))
        return {"ok": True, "no_op": True, "already_open": True, "channel": channel}

    def _channel_info(self, channel_id: str) -> dict[str, Any]:
        known = self._channels.get(channel_id, {})
        is_im = channel_id.startswith("D")
        is_private = self._channel_kind(channel_id) == "groups"
        info: dict[str, Any] = {
            "id": channel_id,
            "created": 1700000000,
            "is_archived": False,
            "is_im": is_im,
            "is_org_shared": False,
            "context_team_id": self.team_id,
            "updated": 1700000000000,
        }
        if is_im:
            info.update(
                {"user": channel_id[1:], "is_user_deleted": False, "priority": 0, "is_open": True}
            )
            return info
        name = known.get("name") or channel_id.lower()
        shared_with = list(known.get("shared_with") or [])
        pending = list(known.get("pending_shared_with") or [])
        org_shared = bool(known.get("org_shared"))
        info.update(
            {
                "name": name,
                "name_normalized": name,
                "is_channel": True,
                "is_group": False,
                "is_mpim": False,
                "is_private": is_private,
                "is_general": False,
                "is_shared": bool(shared_with) or org_shared,
                "is_ext_shared": bool(shared_with),
                "is_org_shared": org_shared,
                "is_pending_ext_shared": bool(pending),
                "pending_shared": pending,
                "pending_connected_team_ids": pending,
                "shared_team_ids": [self.team_id, *shared_with],
                "is_member": channel_id not in self.channels_without_bot,
                "creator": "U0001",
                "topic": {"value": known.get("topic", ""), "creator": "", "last_set": 0},
                "purpose": {"value": known.get("purpose", ""), "creator": "", "last_set": 0},
            }
        )
        if shared_with:
            info["conversation_host_id"] = self.team_id
            info["connected_team_ids"] = [self.team_id, *shared_with]
        return info

    def _hidden_from_bot(self, channel: str) -> bool:
        """A private channel the bot is not in: Slack answers as if it did not exist."""
        return channel in self.channels_without_bot and self._channel_kind(channel) == "groups"

    def _api_conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        if not channel or self._hidden_from_bot(channel):
            return {"ok": False, "error": "channel_not_found"}
        members = sorted(self.channel_members.get(channel, {"U0001"}))
        start = int(str(args.get("cursor") or "0") or 0)
        limit = int(str(args.get("limit") or 100))
        page = members[start : start + limit]
        more = start + limit < len(members)
        return {
            "ok": True,
            "members": page,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _api_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        if not channel or self._hidden_from_bot(channel):
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": self._channel_info(channel)}

    def _history_window(
        self, msgs: list[dict[str, Any]], args: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        inclusive = str(args.get("inclusive", "")).lower() in ("1", "true")
        oldest = args.get("oldest")
        latest = args.get("latest")
        out = []
        for m in msgs:
            key = _ts_key(str(m["ts"]))
            if oldest and (
                key < _ts_key(str(oldest)) or (key == _ts_key(str(oldest)) and not inclusive)
            ):
                continue
            if latest and (
                key > _ts_key(str(latest)) or (key == _ts_key(str(latest)) and not inclusive)
            ):
                continue
            out.append(m)
        return out

    def _api_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if channel in self.channels_without_bot:
            return {"ok": False, "error": "not_in_channel"}
        top_level = [
            m
            for m in self._messages.get(channel, [])
            if m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast"
        ]
        window = list(reversed(self._history_window(top_level, args)))
        result = self._paginate(window, args, default_limit=100)
        if result["ok"]:
            result["pin_count"] = 0
        return result

    def _api_conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        ts = str(args.get("ts") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if channel in self.channels_without_bot:
            return {"ok": False, "error": "not_in_channel"}
        thread = [
            m for m in self._messages.get(channel, []) if m["ts"] == ts or m.get("thread_ts") == ts
        ]
        if not thread:
            return {"ok": False, "error": "thread_not_found"}
        return self._paginate(self._history_window(thread, args), args, default_limit=1000)

    # files ---------------------------------------------------------------

    def _api_files_info(self, args: dict[str, Any]) -> dict[str, Any]:
        shared = self._shared.get(str(args.get("file") or ""))
        if shared is None:
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "file": dict(shared[0]), "comments": [], "response_metadata": {}}

    def _api_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        filename = args.get("filename")
        try:
            length = int(args.get("length") or 0)
        except ValueError:
            length = 0
        if not filename or length <= 0:
            return {"ok": False, "error": "invalid_arguments"}
        file_id = self._next_id("F")
        self._files[file_id] = {
            "file_id": file_id,
            "filename": str(filename),
            "title": str(filename),
            "content": b"",
            "length": length,
            "alt_txt": args.get("alt_txt"),
            "snippet_type": args.get("snippet_type"),
            "uploaded": False,
            "completed": False,
            "channel_id": None,
            "channels": None,
            "initial_comment": None,
            "thread_ts": None,
        }
        return {"ok": True, "upload_url": f"{self.base_url}upload/{file_id}", "file_id": file_id}

    def _api_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files")
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        channel_id = args.get("channel_id")
        channels = [c for c in str(args.get("channels") or "").split(",") if c]
        for target in [channel_id, *channels]:
            if target and target in self.channels_without_bot:
                return {"ok": False, "error": "not_in_channel"}
        result = []
        for f in files:
            entry = self._files.get(str(f.get("id") if isinstance(f, dict) else ""))
            if entry is None:
                return {"ok": False, "error": "file_not_found"}
            if f.get("title"):
                entry["title"] = str(f["title"])
            entry.update(
                {
                    "completed": True,
                    "channel_id": channel_id,
                    "channels": channels or None,
                    "initial_comment": args.get("initial_comment"),
                    "thread_ts": args.get("thread_ts"),
                }
            )
            result.append({"id": entry["file_id"], "title": entry["title"]})
        return {"ok": True, "files": result}

    # views ---------------------------------------------------------------

    def _view_error(self, view: Any, max_blocks: int = 100) -> dict[str, Any] | None:
        if isinstance(view, dict) and not self.validate_blocks:
            return None
        errors = _view_errors(view, max_blocks)
        if not errors:
            return None
        return {
            "ok": False,
            "error": "invalid_arguments",
            "response_metadata": {"messages": [f"[ERROR] {e}" for e in errors]},
        }

    def _store_view(
        self,
        view: dict[str, Any],
        *,
        view_id: str | None = None,
        root: str | None = None,
        previous: str | None = None,
    ) -> dict[str, Any]:
        vid = view_id or self._next_id("V")
        stored: dict[str, Any] = {
            "id": vid,
            "team_id": self.team_id,
            "type": view.get("type"),
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
            "title": None,
            "clear_on_close": False,
            "notify_on_close": False,
            "close": None,
            "submit": None,
            "previous_view_id": previous,
            "root_view_id": root or vid,
            "app_id": self.app_id,
            "external_id": "",
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
            **view,
        }
        stored["id"] = vid
        stored["blocks"] = _with_generated_ids(stored.get("blocks"))
        self._views[vid] = stored
        return stored

    def _api_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("trigger_id") and not args.get("interactivity_pointer"):
            return {"ok": False, "error": "invalid_arguments"}
        view = args.get("view")
        if (err := self._view_error(view)) is not None:
            return err
        return {"ok": True, "view": dict(self._store_view(view))}

    def _api_views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("trigger_id") and not args.get("interactivity_pointer"):
            return {"ok": False, "error": "invalid_arguments"}
        view = args.get("view")
        if (err := self._view_error(view)) is not None:
            return err
        return {"ok": True, "view": dict(self._store_view(view))}

    def _api_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args.get("view")
        if (err := self._view_error(view)) is not None:
            return err
        existing: dict[str, Any] | None = None
        if args.get("view_id"):
            existing = self._views.get(str(args["view_id"]))
        elif args.get("external_id"):
            existing = next(
                (v for v in self._views.values() if v.get("external_id") == args["external_id"]),
                None,
            )
        else:
            return {"ok": False, "error": "invalid_arguments"}
        if existing is None:
            return {"ok": False, "error": "not_found"}
        if args.get("hash") and args["hash"] != existing["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        stored = self._store_view(
            view,
            view_id=existing["id"],
            root=existing.get("root_view_id"),
            previous=existing.get("previous_view_id"),
        )
        return {"ok": True, "view": dict(stored)}

    def _api_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = str(args.get("user_id") or "")
        if not user_id:
            return {"ok": False, "error": "invalid_arguments"}
        view = args.get("view")
        if (err := self._view_error(view)) is not None:
            return err
        existing_id = self._home_views.get(user_id)
        if args.get("hash") and existing_id and args["hash"] != self._views[existing_id]["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        stored = self._store_view(view, view_id=existing_id)
        self._home_views[user_id] = stored["id"]
        return {"ok": True, "view": dict(stored)}

    # socket mode -----------------------------------------------------------

    def _api_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        ticket = uuid.uuid4()
        return {
            "ok": True,
            "url": f"ws://127.0.0.1:{self.port}/socket?ticket={ticket}&app_id={self.app_id}",
        }


# ============================================================== module helpers


# Composition objects and non-interactive elements, which never get an action_id.
_NOT_INTERACTIVE = frozenset({"plain_text", "mrkdwn", "image", "rich_text_section"})


def _generated_id() -> str:
    return uuid.uuid4().hex[:5]


def _with_generated_ids(blocks: Any) -> Any:
    """Like Slack, give every block without a ``block_id`` and every interactive element
    without an ``action_id`` a random one, as stored views (and view_submission state)
    show them."""
    if not isinstance(blocks, list):
        return blocks
    out: list[Any] = []
    for block in blocks:
        if not isinstance(block, dict):
            out.append(block)
            continue
        block = dict(block)
        block.setdefault("block_id", _generated_id())
        for key in ("element", "accessory"):
            if isinstance(block.get(key), dict):
                block[key] = _with_action_id(block[key])
        if isinstance(block.get("elements"), list) and block.get("type") == "actions":
            block["elements"] = [_with_action_id(e) for e in block["elements"]]
        out.append(block)
    return out


def _with_action_id(element: Any) -> Any:
    if not isinstance(element, dict) or element.get("type") in _NOT_INTERACTIVE:
        return element
    return {**element, "action_id": element.get("action_id") or _generated_id()}


def _refuse_blocking_in_loop(name: str, async_name: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(
        f"FakeSlack.{name}() blocks the thread and would freeze the running event loop "
        f"(and with it the code under test); use `await fake.{async_name}(...)` instead"
    )


def _shorten(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} chars)"


def _bearer(value: str | None) -> str | None:
    if value and value.lower().startswith("bearer "):
        return value[7:].strip()
    return None


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, micro = ts.partition(".")
    try:
        return int(seconds), int((micro + "000000")[:6])
    except ValueError:
        return 0, 0


def _tz_info(tz: str) -> tuple[str, int]:
    try:
        now = datetime.now(ZoneInfo(tz))
    except (ZoneInfoNotFoundError, ValueError):
        return tz, 0
    offset = now.utcoffset()
    return now.tzname() or tz, int(offset.total_seconds()) if offset is not None else 0


def _public_user(user: Mapping[str, Any], *, include_locale: bool) -> dict[str, Any]:
    out = {k: v for k, v in user.items() if not k.startswith("_")}
    out["profile"] = dict(user["profile"])
    if include_locale:
        out["locale"] = user["_locale"]
    return out


def _copy_stream(stream: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(stream)
    out["chunks"] = list(stream["chunks"])
    return out


def _text_len(obj: Any) -> int:
    if isinstance(obj, dict):
        return len(str(obj.get("text", "")))
    return 0


def _block_errors(blocks: Any, max_blocks: int, pointer: str = "/blocks") -> list[str]:
    """A subset of Slack's Block Kit limits, with Slack-like error strings."""
    if not isinstance(blocks, list):
        return [f"must be an array [json-pointer:{pointer}]"]
    errors: list[str] = []
    if len(blocks) > max_blocks:
        errors.append(f"must be less than {max_blocks + 1} items [json-pointer:{pointer}]")
    markdown_total = 0
    for i, block in enumerate(blocks):
        p = f"{pointer}/{i}"
        if not isinstance(block, dict) or not block.get("type"):
            errors.append(f"missing required field: type [json-pointer:{p}]")
            continue
        kind = block["type"]
        if len(str(block.get("block_id", ""))) > 255:
            errors.append(f"must be less than 256 characters [json-pointer:{p}/block_id]")
        if kind == "section":
            text, fields = block.get("text"), block.get("fields")
            if not text and not fields:
                errors.append(f"must provide either text or fields [json-pointer:{p}]")
            if _text_len(text) > 3000:
                errors.append(f"must be less than 3001 characters [json-pointer:{p}/text/text]")
            if isinstance(fields, list):
                if len(fields) > 10:
                    errors.append(f"must be less than 11 items [json-pointer:{p}/fields]")
                for j, f in enumerate(fields):
                    if _text_len(f) > 2000:
                        errors.append(
                            f"must be less than 2001 characters [json-pointer:{p}/fields/{j}/text]"
                        )
        elif kind == "header":
            if _text_len(block.get("text")) > 150:
                errors.append(f"must be less than 151 characters [json-pointer:{p}/text/text]")
        elif kind == "markdown":
            markdown_total += len(str(block.get("text", "")))
        elif kind == "context":
            if len(block.get("elements") or []) > 10:
                errors.append(f"must be less than 11 items [json-pointer:{p}/elements]")
        elif kind == "context_actions":
            errors.extend(_context_actions_errors(block, p))
        elif kind == "actions":
            elements = block.get("elements") or []
            if len(elements) > 25:
                errors.append(f"must be less than 26 items [json-pointer:{p}/elements]")
            for j, el in enumerate(elements):
                if not isinstance(el, dict):
                    continue
                ep = f"{p}/elements/{j}"
                if len(str(el.get("value", ""))) > 2000:
                    errors.append(f"must be less than 2001 characters [json-pointer:{ep}/value]")
                if len(str(el.get("action_id", ""))) > 255:
                    errors.append(f"must be less than 256 characters [json-pointer:{ep}/action_id]")
                if el.get("type") == "button" and _text_len(el.get("text")) > 75:
                    errors.append(f"must be less than 76 characters [json-pointer:{ep}/text/text]")
                if el.get("type") in CONTEXT_ACTIONS_ONLY:  # valid only in context_actions
                    errors.append(f"unsupported type: {el['type']} [json-pointer:{ep}]")
                if "confirm" in el:
                    errors.extend(_confirm_errors(el["confirm"], f"{ep}/confirm"))
        for key in ("element", "accessory"):
            element = block.get(key)
            if isinstance(element, dict):
                errors.extend(_option_errors(element, f"{p}/{key}"))
    if markdown_total > 12000:
        errors.append(
            "markdown blocks must be less than 12001 characters in total "
            f"(got {markdown_total}) [json-pointer:{pointer}]"
        )
    return errors


CONTEXT_ACTIONS_ONLY = frozenset({"feedback_buttons", "icon_button"})


def _context_actions_errors(block: dict[str, Any], pointer: str) -> list[str]:
    """A context_actions block: 1 to 5 feedback_buttons or icon_button elements; feedback
    buttons need both buttons, each with text (at most 75 characters) and a value."""
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return [f"must provide at least one element [json-pointer:{pointer}/elements]"]
    errors = []
    if len(elements) > 5:
        errors.append(f"must be less than 6 items [json-pointer:{pointer}/elements]")
    for j, el in enumerate(elements):
        ep = f"{pointer}/elements/{j}"
        if not isinstance(el, dict) or el.get("type") not in CONTEXT_ACTIONS_ONLY:
            errors.append(f"unsupported type [json-pointer:{ep}]")
            continue
        if el["type"] != "feedback_buttons":
            continue
        for side in ("positive_button", "negative_button"):
            button = el.get(side)
            if not isinstance(button, dict) or not button.get("value"):
                errors.append(f"missing required field: {side} [json-pointer:{ep}/{side}]")
            elif not 0 < _text_len(button.get("text")) <= 75:
                errors.append(f"must be 1 to 75 characters [json-pointer:{ep}/{side}/text/text]")
    return errors


# A confirmation dialog: every part required and plain text, at most these many characters.
_CONFIRM_LIMITS = {"title": 100, "text": 300, "confirm": 30, "deny": 30}


def _confirm_errors(confirm: Any, pointer: str) -> list[str]:
    """A button's `confirm` object, as Slack checks it."""
    if not isinstance(confirm, dict):
        return [f"must be an object [json-pointer:{pointer}]"]
    errors = []
    for part, limit in _CONFIRM_LIMITS.items():
        text = confirm.get(part)
        if not isinstance(text, dict) or not text.get("text"):
            errors.append(f"missing required field: {part} [json-pointer:{pointer}]")
        elif part != "text" and text.get("type") != "plain_text":
            errors.append(f"must be plain_text [json-pointer:{pointer}/{part}/type]")
        elif _text_len(text) > limit:
            errors.append(
                f"must be less than {limit + 1} characters [json-pointer:{pointer}/{part}/text]"
            )
    return errors


def _option_errors(element: dict[str, Any], pointer: str) -> list[str]:
    """A select's options: text and description each at most 75 characters, as Slack checks."""
    errors = []
    for i, option in enumerate(element.get("options") or []):
        for part in ("text", "description"):
            if isinstance(option, dict) and _text_len(option.get(part)) > 75:
                where = f"{pointer}/options/{i}/{part}/text"
                errors.append(f"must be less than 76 characters [json-pointer:{where}]")
    initial, options = element.get("initial_option"), element.get("options")
    if isinstance(initial, dict) and isinstance(options, list) and initial not in options:
        # Slack: the initial option must be one of the options, text and value alike.
        errors.append(
            f"must match one of the provided options [json-pointer:{pointer}/initial_option]"
        )
    initial_value = element.get("initial_value")
    limit = element.get("max_length")
    if isinstance(initial_value, str) and isinstance(limit, int) and len(initial_value) > limit:
        errors.append(
            f"must be less than {limit + 1} characters [json-pointer:{pointer}/initial_value]"
        )
    return errors


def _view_errors(view: Any, max_blocks: int) -> list[str]:
    if not isinstance(view, dict):
        return ["must be an object [json-pointer:/view]"]
    errors: list[str] = []
    kind = view.get("type")
    if kind not in ("modal", "home"):
        errors.append("must be one of modal, home [json-pointer:/view/type]")
    if kind == "modal":
        if not view.get("title"):
            errors.append("missing required field: title [json-pointer:/view]")
        for key in ("title", "submit", "close"):
            if _text_len(view.get(key)) > 24:
                errors.append(f"must be less than 25 characters [json-pointer:/view/{key}/text]")
    if len(str(view.get("private_metadata", ""))) > 3000:
        errors.append("must be less than 3001 characters [json-pointer:/view/private_metadata]")
    for key in ("callback_id", "external_id"):
        if len(str(view.get(key, ""))) > 255:
            errors.append(f"must be less than 256 characters [json-pointer:/view/{key}]")
    errors.extend(_block_errors(view.get("blocks", []), max_blocks, "/view/blocks"))
    return errors


if __name__ == "__main__":  # python -m tests.fakes.slack --port 8002: see slack_standalone.py
    from tests.fakes.slack_standalone import main

    main()
