"""`python -m demo` (`make demo`): try Draftbot with no Slack workspace and no Anthropic account.

    python -m demo [--dir demo/data] [--keep-running]
    python -m demo slash [--dir demo/data] [--user U0DEMOJORDAN] TEXT

The first starts the fake Anthropic API, the fake Slack and `draftbot serve` on 127.0.0.1,
seeds 60 days of made-up usage into DIR/draftbot.db (a fresh one each time), runs each thing
to try with its output (a draft from the terminal, a signed /draft and what Slack shows,
the chart, budgets, the report), and stops the servers; with --keep-running they stay up
until Ctrl-C. The second sends one /draft to a demo kept running and prints what Slack shows.
Everything stays in DIR (git ignores demo/data/); the admin's own settings and database are
never read.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

from demo.seed import DAYS, PEOPLE, seed
from demo.servers import ROOT, DemoError, Servers
from demo.tour import SLASH_USER, final_report, heading, send_slash, tour, what_to_try

DEFAULT_FOLDER = ROOT / "demo" / "data"
# Files a run leaves; the next run removes them (and nothing else in the folder).
LEFT_BEHIND = (
    "draftbot.db", "draftbot.db-wal", "draftbot.db-shm", "usage-journal.jsonl", "usage.png",
    "fake-anthropic.log", "fake-slack.log", "draftbot-serve.log", ".env", "servers.json",
)  # fmt: skip


def run(folder: Path, keep_running: bool) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    for name in LEFT_BEHIND:
        (folder / name).unlink(missing_ok=True)
    heading("Draftbot demo: no Slack workspace, no Anthropic account, everything on 127.0.0.1")
    rows = seed(folder / "draftbot.db")
    print(f"Seeded {rows} model requests by {len(PEOPLE)} people over {DAYS} days into")
    print(f"  {folder / 'draftbot.db'}")
    servers = Servers(folder)
    try:
        servers.start()
        print(f"Fake Anthropic API  {servers.anthropic_url}")
        print(f"Fake Slack          {servers.slack_url}  (log: {folder / 'fake-slack.log'})")
        print(f"Draftbot            {servers.bot_url}/slack/events  (HTTP mode)")
        tour(servers)
        what_to_try(servers, keep_running)
        final_report(servers)
        if keep_running:
            servers.save_state()
            print("\nThe servers keep running: Ctrl-C stops them.", flush=True)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        print("\nStopping…")
    except DemoError as error:
        print(f"\nThe demo stopped: {error}", file=sys.stderr)
        return 1
    finally:
        servers.stop()
        print("Servers stopped.")
    return 0


def slash(folder: Path, text: str, user_id: str) -> int:
    state_file = folder / "servers.json"
    if not state_file.is_file():
        print("No demo is running: start one with `make demo-serve`.", file=sys.stderr)
        return 1
    state = json.loads(state_file.read_text())
    servers = Servers(folder, slack_url=state["slack_url"], bot_url=state["bot_url"])
    name = next((p.name for p in PEOPLE if p.user_id == user_id), user_id)
    print(f"$ /draft {text}   (as {name})")
    posts = send_slash(servers, text, user_id, name.split()[0].lower())
    return 0 if posts else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_FOLDER, help="the demo's folder")
    commands = parser.add_subparsers(dest="command")
    parser.add_argument("--keep-running", action="store_true", help="keep the servers up")
    one = commands.add_parser("slash", help="send a /draft to a demo kept running")
    one.add_argument("text", nargs="+")
    one.add_argument("--user", default=SLASH_USER.user_id)
    args = parser.parse_args(argv)
    folder = args.dir.resolve()
    if args.command == "slash":
        return slash(folder, " ".join(args.text), args.user)
    # Ctrl-C and SIGTERM stop the servers, even when started in the background (where
    # SIGINT is ignored unless a handler is set).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    return run(folder, args.keep_running)


if __name__ == "__main__":
    sys.exit(main())
