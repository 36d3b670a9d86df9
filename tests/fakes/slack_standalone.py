"""The fake Slack as a process of its own, for trying Draftbot by hand (``make demo``).

    python -m tests.fakes.slack --port 8002 --user U0ALEX="Alex Kim" --user U0SAM="Sam Okafor"

It is the same :class:`~tests.fakes.slack.FakeSlack` the tests use (the same Web API,
response_urls, Socket Mode, the scopes manifest.json asks for), on ``127.0.0.1``. As a
separate process cannot be asked in Python what it received, it prints one line for each
Web API call and each post to a response_url, and answers a small control API beside
Slack's, for scripts such as ``demo/``:

* ``POST /_fake/response_urls`` → ``{"url": …}``: a new response_url for a slash command,
  as Slack puts in each one (posts to unknown response_urls fail, as in Slack);
* ``GET /_fake/responses`` → ``[{"url": …, "body": …}, …]``: every accepted post to a
  response_url, oldest first (what the person saw);
* ``GET /_fake/calls`` → ``[{"method": …, "status": …, "ok": …, "error": …, "args": …}, …]``:
  every Web API call, oldest first.

The first line it prints names its address (``--port 0`` picks a free port). SIGINT or
SIGTERM stop it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import time
from typing import Any

from aiohttp import web

from tests.fakes.slack import FakeSlack

__all__ = ["StandaloneSlack", "main"]

CONTROL = "/_fake"


class StandaloneSlack(FakeSlack):
    """FakeSlack plus a control API and a log line for each request."""

    def __init__(self, *args: Any, quiet: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.quiet = quiet

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_post(f"{CONTROL}/response_urls", self._control_new_response_url)
        app.router.add_get(f"{CONTROL}/responses", self._control_responses)
        app.router.add_get(f"{CONTROL}/calls", self._control_calls)

    async def _control_new_response_url(self, _: web.Request) -> web.Response:
        return web.json_response({"url": self.new_response_url()})

    async def _control_responses(self, _: web.Request) -> web.Response:
        posts = [{"url": url, "body": body} for url, body in self.all_responses()]
        return _json(posts)

    async def _control_calls(self, _: web.Request) -> web.Response:
        calls = [
            {
                "method": call.method,
                "status": call.status,
                "ok": call.response.get("ok"),
                "error": call.response.get("error"),
                "args": call.args,
            }
            for call in self.calls
        ]
        return _json(calls)

    async def _handle_api(self, request: web.Request) -> web.Response:
        response = await super()._handle_api(request)
        call = self.calls[-1] if self.calls else None
        if call is not None and call.method == request.match_info["method"]:
            outcome = "ok" if call.response.get("ok") else call.response.get("error", "error")
            where = call.args.get("channel") or call.args.get("user") or ""
            self._say(f"{call.method} → {outcome}" + (f" ({where})" if where else ""))
        return response

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        response = await super()._handle_response_url(request)
        url, status, text = self.response_attempts[-1]
        if status == 200:
            body = self.responses(url)[-1]
            self._say(f"response_url post → shown to the person:\n{message_text(body)}")
        else:
            self._say(f"response_url post refused: {status} {text}")
        return response

    def _say(self, line: str) -> None:
        if not self.quiet:
            print(f"[fake slack {time.strftime('%H:%M:%S')}] {line}", flush=True)


def message_text(body: dict[str, Any]) -> str:
    """A Slack message as plain text, roughly as Slack shows it: the text of its blocks
    (Markdown and sections), then its buttons' labels; ``text`` when it has no blocks."""
    lines: list[str] = []
    buttons: list[str] = []
    for block in body.get("blocks") or []:
        kind = block.get("type")
        if kind == "markdown":
            lines.append(str(block.get("text", "")))
        elif kind in ("section", "header"):
            text = block.get("text") or {}
            lines.append(str(text.get("text", "")))
            lines.extend(str(f.get("text", "")) for f in block.get("fields") or [])
        elif kind == "context":
            lines.extend(str(e.get("text", "")) for e in block.get("elements") or [])
        elif kind == "actions":
            for element in block.get("elements") or []:
                label = (element.get("text") or {}).get("text")
                if label:
                    buttons.append(f"[{label}]")
    if not lines:
        lines.append(str(body.get("text", "")))
    if buttons:
        lines.append(" ".join(buttons))
    return "\n".join(line for line in lines if line)


def _json(value: Any) -> web.Response:
    # Uploaded file contents arrive as bytes: shown by their length.
    text = json.dumps(
        value, default=lambda v: f"<{len(v)} bytes>" if isinstance(v, bytes) else str(v)
    )
    return web.Response(text=text, content_type="application/json")


def _person(text: str) -> tuple[str, str]:
    user_id, sep, name = text.partition("=")
    if not sep or not user_id or not name:
        raise argparse.ArgumentTypeError(f"expected ID=NAME, like U0ALEX='Alex Kim', not {text!r}")
    return user_id.strip(), name.strip()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.slack",
        description="Run the fake Slack (Web API, response_urls, Socket Mode) in the foreground.",
    )
    parser.add_argument("--port", type=int, default=8002, help="0 picks a free port")
    parser.add_argument("--bot-token", default="xoxb-test-token")
    parser.add_argument("--app-token", default="xapp-test-token")
    parser.add_argument(
        "--user",
        dest="users",
        action="append",
        type=_person,
        default=[],
        metavar="ID=NAME",
        help="a person users.info knows (repeat for more)",
    )
    parser.add_argument("--quiet", action="store_true", help="no line per request")
    args = parser.parse_args(argv)
    fake = StandaloneSlack(
        bot_token=args.bot_token, app_token=args.app_token, port=args.port, quiet=args.quiet
    )
    for user_id, name in args.users:
        handle = name.split()[0].lower() if name.split() else user_id.lower()
        fake.add_user(user_id, handle, display_name=name, real_name=name)
    # SIGTERM stops it as Ctrl-C does: the server closes its sockets and exits 0.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with fake, contextlib.suppress(KeyboardInterrupt):
        print(
            f"Fake Slack on {fake.base_url} (Web API {fake.api_url}, bot token "
            f"{fake.bot_token!r}, control API {fake.base_url}_fake/); Ctrl-C stops it.",
            flush=True,
        )
        while True:
            time.sleep(3600)
