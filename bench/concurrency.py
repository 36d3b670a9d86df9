"""How Draftbot behaves under a burst of `/draft` commands.

Runs the real app over loopback HTTP against the local fake Slack (in a thread) and fake
Anthropic (in its own process, so its CPU does not compete with the app's; the model takes
`--model-seconds` per draft), sends `--requests` signed slash commands at once, and prints
ack latency and end-to-end times (command sent → draft posted to the response_url).
With `--hold-lock SECONDS`, another process holds the SQLite write lock for that long from
just before the burst (as an admin's write or a backup would), and the script also prints
how fast `/healthz` answered meanwhile and how long the usage rows took to be written.

    .venv/bin/python bench/concurrency.py --requests 100 --model-seconds 2
    .venv/bin/python bench/concurrency.py --requests 100 --model-seconds 2 --hold-lock 8
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import load_settings
from bot.services import build_services
from handlers.app import build_slack_app, build_web_app, replay_journal_forever
from tests.fakes.signing import sign_request, slash_command_body
from tests.fakes.slack import FakeSlack

SECRET = "bench-signing-secret"
HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main(requests: int, model_seconds: float, hold_lock: float) -> None:
    port = free_port()
    fake_anthropic = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.anthropic",
            "--port",
            str(port),
            "--api-key",
            "sk-ant-bench",
            "--delay",
            str(model_seconds),
        ],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert fake_anthropic.stdout is not None
    fake_anthropic.stdout.readline()  # "Fake Anthropic API on …": it is listening
    try:
        asyncio.run(burst(requests, model_seconds, f"http://127.0.0.1:{port}", hold_lock))
    finally:
        fake_anthropic.terminate()
        fake_anthropic.wait()


async def burst(requests: int, model_seconds: float, anthropic_url: str, hold_lock: float) -> None:
    with (
        FakeSlack(bot_token="xoxb-bench", app_token="xapp-bench") as fake_slack,
        tempfile.TemporaryDirectory() as folder,
    ):
        # A full member of the workspace, as users.info says (guests would be refused).
        fake_slack.add_user("U0001", "bench", display_name="Bench")
        settings = load_settings(
            {
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": fake_slack.api_url,
                "ANTHROPIC_API_KEY": "sk-ant-bench",
                "ANTHROPIC_BASE_URL": anthropic_url,
                "DATABASE_URL": f"sqlite:///{folder}/bench.db",
                "DRAFTBOT_JOURNAL_PATH": f"{folder}/journal.jsonl",
            }
        )
        services = build_services(settings)
        replaying = asyncio.create_task(replay_journal_forever(services, every=0.5))
        runner = web.AppRunner(build_web_app(build_slack_app(services), services))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"

        async with aiohttp.ClientSession() as session:

            async def one(i: int) -> tuple[str, float, float]:
                response_url = fake_slack.new_response_url()
                body = slash_command_body(f"email number {i} to Alex", response_url=response_url)
                started = time.monotonic()
                async with session.post(url, data=body, headers=sign_request(body, SECRET)) as r:
                    await r.read()
                    assert r.status == 200, r.status
                return response_url, started, time.monotonic() - started

            # One request first, so the burst measures a warm app (auth.test result cached).
            _, _, single_ack = await one(-1)
            holder = None
            if hold_lock:
                holder = await asyncio.create_subprocess_exec(
                    sys.executable, "-c", HOLD_LOCK, f"{folder}/bench.db", str(hold_lock),
                    stdout=asyncio.subprocess.PIPE,
                )  # fmt: skip
                assert holder.stdout is not None
                assert (await holder.stdout.readline()).strip() == b"locked"
            burst_started = time.monotonic()
            sent = await asyncio.gather(*(one(i) for i in range(requests)))
            health_ms: list[float] = []
            most_waiting = 0

            async def watch_health() -> None:
                nonlocal most_waiting
                for _ in range(int(hold_lock * 4)):
                    started = time.monotonic()
                    async with session.get(url.replace("/slack/events", "/healthz")) as r:
                        body = await r.json()
                    health_ms.append((time.monotonic() - started) * 1000)
                    most_waiting = max(most_waiting, body["usage_rows_waiting"])
                    await asyncio.sleep(0.25)

            watching = asyncio.create_task(watch_health())
            done: dict[str, float] = {}
            while len(done) < requests and time.monotonic() - burst_started < 120:
                for response_url, _, _ in sent:
                    if response_url not in done and _is_draft(fake_slack.responses(response_url)):
                        done[response_url] = time.monotonic()
                await asyncio.sleep(0.01)
            burst_seconds = time.monotonic() - burst_started
            await watching
            if holder is not None:
                await holder.wait()
            for _ in range(3600):
                if not services.journal.pending:
                    break
                await asyncio.sleep(0.05)
            rows_seconds = time.monotonic() - burst_started

        acks = [ack * 1000 for _, _, ack in sent]
        ends = [done[u] - started for u, started, _ in sent if u in done]
        rows = services.store.usage_rows(status="ok")
        print(f"requests: {requests}, fake model time: {model_seconds:.1f} s each")
        print(f"single warm request ack: {single_ack * 1000:.0f} ms")
        print(
            f"ack latency ms: p50 {percentile(acks, 0.5):.0f}, p99 {percentile(acks, 0.99):.0f},"
            f" max {max(acks):.0f}"
        )
        print(
            f"end-to-end s: p50 {percentile(ends, 0.5):.2f}, p99 {percentile(ends, 0.99):.2f},"
            f" max {max(ends):.2f}, mean {statistics.mean(ends):.2f}"
        )
        print(
            f"whole burst: {burst_seconds:.2f} s; drafts delivered: {len(done)}/{requests};"
            f" usage rows ok: {len(rows)}"
        )
        if hold_lock:
            print(
                f"write lock held {hold_lock:.0f} s by another process: /healthz answered "
                f"{len(health_ms)} times, max {max(health_ms):.0f} ms, at most {most_waiting} "
                f"usage rows waiting; all written {rows_seconds:.1f} s after the burst began"
            )
        replaying.cancel()
        await runner.cleanup()
        await services.aclose()


def _is_draft(responses: list[dict[str, object]]) -> bool:
    """A preview with its buttons arrived (a refusal or an error message is not a draft)."""
    return any(
        isinstance(blocks := message.get("blocks"), list)
        and any(isinstance(b, dict) and b.get("type") == "actions" for b in blocks)
        for message in responses
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--model-seconds", type=float, default=2.0)
    parser.add_argument("--hold-lock", type=float, default=0.0, metavar="SECONDS")
    args = parser.parse_args()
    main(args.requests, args.model_seconds, args.hold_lock)
