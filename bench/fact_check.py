"""How long "check before you post" takes, and how well it does on the test corpus.

Times `check_draft` on drafts of 200, 2,000 and 20,000 words (business prose with names,
figures, dates, links and a code block, against a request that shares some of them), then
prints precision and recall over tests/fact_check_cases.py. Usage:

    .venv/bin/python bench/fact_check.py [--runs 50]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.fact_check import check_draft, known_facts
from tests.fact_check_cases import CASES, TODAY

REQUEST = (
    "email to alex and the sales team about the Q3 launch on 14 March: the budget is "
    "$1,200, sign-ups grew 5%, questions to sales@example.com or https://example.com/launch"
)
SENTENCES = (
    "Hi Alex, thanks for pulling the launch plan together so quickly.",
    "The Q3 launch is still on for March 14th, and the budget stays at 1200 dollars.",
    "Sign-ups grew 5 percent last month, which is better than we expected.",
    "Dana Whitfield from Globex asked whether we could share the deck by Thursday.",
    "We agreed to review the numbers again at 3:30pm with the whole team.",
    "If anything changes, write to sales@example.com or see https://example.com/launch.",
    "The vendor quoted $4,800 for 25 extra seats, which we have not approved yet.",
    "Please keep the onboarding guide short and link the recording from last week.",
    "Our support line, 020 7946 0958, will stay open until 6pm during the launch.",
    "I will send a summary after the call on 2 April, with the decisions and the owners.",
)
CODE = "\n\n```\ncurl -s https://api.example.com/v2/launch?id=4411 | jq .status\n```\n\n"


def draft_of(words: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    parts: list[str] = []
    count = 0
    while count < words:
        sentence = rng.choice(SENTENCES)
        parts.append(sentence)
        count += len(sentence.split())
        if rng.random() < 0.1:
            parts.append("\n\n")
    text = " ".join(parts)
    return text[: len(text) // 2] + CODE + text[len(text) // 2 :]


def time_checks(runs: int) -> None:
    facts = known_facts([REQUEST], today=TODAY)
    for words in (200, 2_000, 20_000):
        draft = draft_of(words)
        times: list[float] = []
        cpu: list[float] = []  # this thread's own time: what a loaded machine does not inflate
        for _ in range(runs if words < 20_000 else max(5, runs // 10)):
            start, start_cpu = time.perf_counter(), time.thread_time()
            checked = check_draft(draft, facts, today=TODAY)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.thread_time() - start_cpu) * 1000)
        print(
            f"{len(draft.split()):>6} words: median {statistics.median(times):.2f} ms, "
            f"max {max(times):.2f} ms; CPU median {statistics.median(cpu):.2f} ms "
            f"({len(checked.findings)} findings)"
        )
    start = time.perf_counter()
    known_facts([REQUEST * 20], today=TODAY)
    print(f"reading a 600-word request: {(time.perf_counter() - start) * 1000:.2f} ms")


def corpus_scores() -> None:
    true_pos = false_pos = false_neg = 0
    for case in CASES:
        checked = check_draft(case.draft, known_facts(case.material, today=TODAY), today=TODAY)
        found = [f.text for f in checked.findings] + list(checked.placeholders)
        wanted = list(case.expected) + list(case.placeholders)
        true_pos += sum(1 for text in found if text in wanted)
        false_pos += sum(1 for text in found if text not in wanted)
        false_neg += sum(1 for text in wanted if text not in found)
    negatives = [case for case in CASES if not case.expected and not case.placeholders]
    quiet = sum(
        1
        for case in negatives
        if not check_draft(
            case.draft, known_facts(case.material, today=TODAY), today=TODAY
        ).findings
    )
    precision = true_pos / ((true_pos + false_pos) or 1)
    recall = true_pos / ((true_pos + false_neg) or 1)
    print(
        f"corpus: {len(CASES)} drafts, {true_pos + false_neg} things to flag; "
        f"precision {precision:.2f}, recall {recall:.2f}; "
        f"drafts that only repeat their material with no warning: {quiet}/{len(negatives)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    time_checks(args.runs)
    corpus_scores()


if __name__ == "__main__":
    main()
