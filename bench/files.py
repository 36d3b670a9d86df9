"""How soon the first words appear when a 20-page PDF is shared in the Messages tab.

Runs the real app over loopback HTTP against the fake Slack (which serves the file to the
bot token) and the fake Anthropic (time to first token fixed at `--ttft` seconds), shares a
PDF of `--pages` pages in a DM `--messages` times, and prints when Slack first received draft
text, measured from the event, and that minus the model's time to first token: Draftbot's
own cost of downloading and reading the file, on top of its usual overhead. Usage:

    .venv/bin/python bench/files.py --messages 10 --pages 20 --ttft 0.8
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import serving
from bench.streaming import TEXT, first_words_after
from tests import sample_files
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.slack import FakeSlack

PAGE = "Quarterly report. Revenue grew in every region; costs held flat. " * 30


async def main(messages: int, pages: int, ttft: float) -> None:
    with (
        FakeAnthropic(api_key="sk-ant-bench") as fake_anthropic,
        FakeSlack(bot_token="xoxb-bench", app_token="xapp-bench") as fake_slack,
        tempfile.TemporaryDirectory() as folder,
    ):
        # A full member of the workspace, as users.info says (guests would be refused).
        fake_slack.add_user("U0BENCH", "bench", display_name="Bench")
        fake_anthropic.default = Reply(text=TEXT, delay=ttft, chunk_size=6, chunk_delay=0.02)
        pdf = sample_files.pdf([f"Page {i + 1}. {PAGE}" for i in range(pages)])
        overheads, totals = [], []
        async with (
            serving(fake_slack, fake_anthropic.base_url, folder) as (_, url),
            aiohttp.ClientSession() as session,
        ):
            for i in range(messages):
                ts = f"1700000000.{i:06d}"
                shared = fake_slack.add_file(f"report-{i}.pdf", pdf, mimetype="application/pdf")
                event = {
                    "type": "message",
                    "subtype": "file_share",
                    "channel": "D0BENCH",
                    "channel_type": "im",
                    "user": "U0BENCH",
                    "text": "summarize this",
                    "files": [shared],
                    "ts": ts,
                    "team": "T0001",
                }
                seconds = await first_words_after(session, url, fake_slack, event)
                overheads.append((seconds - ttft) * 1000)
                totals.append(seconds * 1000)
        print(
            f"PDF: {pages} pages, {len(pdf) / 1024:.0f} KB; messages: {messages}; "
            f"model time to first token: {ttft * 1000:.0f} ms"
        )
        print(
            f"first visible words after the file was shared: p50 {statistics.median(totals):.0f}"
            f" ms, max {max(totals):.0f} ms"
        )
        print(
            f"Draftbot's overhead beyond the model's first token (download, read, send): p50 "
            f"{statistics.median(overheads):.0f} ms, max {max(overheads):.0f} ms"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--ttft", type=float, default=0.8)
    args = parser.parse_args()
    asyncio.run(main(args.messages, args.pages, args.ttft))
