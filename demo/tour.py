"""The tour: each thing to try, run for real against the demo's servers, with its output."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from demo.seed import PEOPLE
from demo.servers import ROOT, SIGNING_SECRET, Servers
from tests.fakes.signing import signed_slash_command
from tests.fakes.slack_standalone import message_text

DRAFT_KIND, DRAFT_TEXT = "email", "to Sam asking to move Friday's design review to Monday"
SLASH_TEXT = "email to the team: the office is closed on Friday for the move, work from home"
SLASH_USER = PEOPLE[3]  # Jordan Lee
DRAFTBOT = Path(sys.executable).parent / "draftbot"


def heading(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m" if sys.stdout.isatty() else f"\n== {text}", flush=True)


def run_draftbot(servers: Servers, *args: str, show: str | None = None) -> str:
    """Run `draftbot ARGS` in the demo folder as an admin would; print and return its output."""
    print(f"$ draftbot {show or ' '.join(args)}", flush=True)
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=servers.folder,
        env=servers.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    print(textwrap.indent(output.rstrip("\n"), "  ") if output.strip() else "  (no output)")
    if done.returncode != 0:
        print(f"  (exit status {done.returncode})")
    return output


def send_slash(servers: Servers, text: str, user_id: str, user_name: str) -> list[dict[str, Any]]:
    """Send `/draft TEXT` as Slack does (form-encoded, signed with the signing secret), print
    the ack, then wait for what the fake Slack shows the person through the response_url."""
    response_url = servers.new_response_url()
    body, headers = signed_slash_command(
        SIGNING_SECRET,
        text,
        response_url=response_url,
        user_id=user_id,
        user_name=user_name,
        channel_id="C0DEMOGENERAL",
        channel_name="general",
    )
    request = urllib.request.Request(
        f"{servers.bot_url}/slack/events", data=body, headers=headers, method="POST"
    )
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=10) as answer:
        ack = answer.read().decode()
    print(f"  Draftbot answered {answer.status} in {time.monotonic() - started:.2f} s: {ack}")
    posts: list[dict[str, Any]] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        posts = servers.responses(response_url)
        if any(_has_buttons(post) for post in posts):
            break
        time.sleep(0.1)
    for post in posts:
        print("  The fake Slack shows (a post to the response_url):")
        print(textwrap.indent(message_text(post), "  | ", lambda _: True))
    if not posts:
        print("  Nothing reached the response_url within 60 s: see draftbot-serve.log.")
    return posts


def _has_buttons(post: dict[str, Any]) -> bool:
    return any(block.get("type") == "actions" for block in post.get("blocks") or [])


def tour(servers: Servers) -> None:
    since = (datetime.now(UTC) - timedelta(days=29)).date().isoformat()
    chart = servers.folder / "usage.png"

    heading("1. A draft from the terminal, with the same prompts, model and usage log as Slack")
    user = PEOPLE[0].user_id
    show = f'draft {DRAFT_KIND} "{DRAFT_TEXT}" --user {user}'
    run_draftbot(servers, "draft", DRAFT_KIND, DRAFT_TEXT, "--user", user, show=show)

    heading(f"2. /draft in Slack, as {SLASH_USER.name} (a signed request the demo sends itself)")
    print(f"$ /draft {SLASH_TEXT}")
    send_slash(servers, SLASH_TEXT, SLASH_USER.user_id, SLASH_USER.name.split()[0].lower())

    heading("3. The usage chart, as /draft report posts it")
    run_draftbot(servers, "report", "--since", since, "--format", "png", "--output", str(chart))

    heading("4. Budgets")
    run_draftbot(servers, "budget", "list")


def final_report(servers: Servers) -> str:
    since = (datetime.now(UTC) - timedelta(days=29)).date().isoformat()
    heading("5. The usage report: the last 30 days (seeded), with the two drafts just made")
    return run_draftbot(servers, "report", "--since", since)


def what_to_try(servers: Servers, keep_running: bool) -> None:
    folder = servers.folder
    heading("Try it yourself")
    print(f"The demo's database, chart and logs are in {folder}/")
    print(f"  {folder / 'usage.png'}   the chart (open it in an image viewer)")
    print(f"  {folder / 'fake-slack.log'}   every Slack call and message the bot sent")
    print(f"  {folder / 'draftbot-serve.log'}   Draftbot's own log")
    print(f"Commands, run in that folder (its .env points them at the demo):\n  cd {folder}")
    tries = [
        "report --period last-month --by kind",
        "report --wide",
        "report --format png --output usage.png",
        "budget list",
        "kinds",
    ]
    if keep_running:
        tries.insert(0, 'draft email "to Alex: thanks for the review"')
        tries.append("doctor")
    for line in tries:
        print(f"  {DRAFTBOT} {line}")
    print(f"  {DRAFTBOT} datasette --open   # needs: pip install 'draftbot[datasette]'")
    if keep_running:
        print("A /draft as Slack sends it (signed), and what Slack shows:")
        print(f'  cd {ROOT} && {sys.executable} -m demo slash "message to the team: lunch at 1"')
        print(
            f"Servers: Draftbot {servers.bot_url} · fake Slack {servers.slack_url} · "
            f"fake Anthropic {servers.anthropic_url}"
        )
        print("Ctrl-C stops them.")
    else:
        print("For drafts and /draft by hand, keep the servers running: make demo-serve")
