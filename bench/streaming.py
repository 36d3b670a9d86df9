"""How soon the first words of a Messages-tab draft become visible.

Runs the real app over loopback HTTP against the fake Slack and fake Anthropic (time to
first token fixed at `--ttft` seconds, then text arriving in small pieces), sends DM
events, and prints when Slack first received draft text (the chat stream call carrying
it) measured from the event, minus the model's time to first token: Draftbot's own
overhead before people see words. Usage:

    .venv/bin/python bench/streaming.py --messages 20 --ttft 0.8
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import SECRET, serving
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.signing import sign_request
from tests.fakes.slack import FakeSlack

TEXT = "Hi Alex, could we meet on Tuesday to go through the Q2 budget? " * 6


def first_words_in(args: dict[str, object]) -> bool:
    """Does this stream call carry the start of the draft ("Hi…")?"""
    return '"text": "Hi' in json.dumps(args) or '"markdown_text": "Hi' in json.dumps(args)


async def finished_stream(fake_slack: FakeSlack, thread_ts: str) -> dict[str, object]:
    """The completed stream answering the message at `thread_ts` (polling the fake)."""
    for _ in range(2000):
        for stream in fake_slack.streams:
            if stream["thread_ts"] == thread_ts and stream["state"] == "completed":
                return stream
        await asyncio.sleep(0.005)
    raise TimeoutError(f"no finished stream for {thread_ts}")


async def first_words_after(
    session: aiohttp.ClientSession, url: str, fake_slack: FakeSlack, event: dict[str, object]
) -> float:
    """Send a Messages-tab `event` to Draftbot, signed as Slack does; the seconds until its
    draft's first words reached Slack (in chat.startStream or chat.appendStream)."""
    ts = str(event["ts"])
    body = json.dumps({"type": "event_callback", "team_id": "T0001", "event": event}).encode()
    headers = {**sign_request(body, SECRET), "Content-Type": "application/json"}
    sent = time.monotonic()
    async with session.post(url, data=body, headers=headers) as response:
        await response.read()
    stream = await finished_stream(fake_slack, ts)
    first = min(
        c.received_at
        for c in fake_slack.calls
        if (c.method == "chat.startStream" and c.args.get("thread_ts") == ts)
        or (c.method == "chat.appendStream" and c.args.get("ts") == stream["ts"])
        if first_words_in(c.args)
    )
    return first - sent


async def main(messages: int, ttft: float) -> None:
    with (
        FakeAnthropic(api_key="sk-ant-bench") as fake_anthropic,
        FakeSlack(bot_token="xoxb-bench", app_token="xapp-bench") as fake_slack,
        tempfile.TemporaryDirectory() as folder,
    ):
        # A full member of the workspace, as users.info says (guests would be refused).
        fake_slack.add_user("U0BENCH", "bench", display_name="Bench")
        fake_anthropic.default = Reply(text=TEXT, delay=ttft, chunk_size=6, chunk_delay=0.02)
        overheads, totals = [], []
        async with (
            serving(fake_slack, fake_anthropic.base_url, folder) as (_, url),
            aiohttp.ClientSession() as session,
        ):
            for i in range(messages):
                ts = f"1700000000.{i:06d}"
                event = {
                    "type": "message",
                    "channel": "D0BENCH",
                    "channel_type": "im",
                    "user": "U0BENCH",
                    "text": f"draft an email to Alex number {i}",
                    "ts": ts,
                    "team": "T0001",
                }
                seconds = await first_words_after(session, url, fake_slack, event)
                overheads.append((seconds - ttft) * 1000)
                totals.append(seconds * 1000)
        print(f"messages: {messages}, model time to first token: {ttft * 1000:.0f} ms")
        print(
            f"first visible words after the message: p50 {statistics.median(totals):.0f} ms, "
            f"max {max(totals):.0f} ms"
        )
        print(
            f"Draftbot's overhead beyond the model's first token: p50 "
            f"{statistics.median(overheads):.0f} ms, max {max(overheads):.0f} ms"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--ttft", type=float, default=0.8)
    args = parser.parse_args()
    asyncio.run(main(args.messages, args.ttft))
