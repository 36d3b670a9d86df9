"""How long the whole `draftbot` process takes, start to exit, as an admin runs it.

Times `draftbot report --period last-month` (table and JSON) on the large usage log that
bench/reports.py builds (reused between runs), and `draftbot --help`. Each command runs
`--runs` times after one warm-up, in turn with the others so that noise from other work on
the machine is spread evenly; the figures are wall-clock time of the process (what the
admin waits for) and its CPU time (user + system, less sensitive to other load). The
environment holds only DATABASE_URL, PATH and HOME (no Slack token: names come from the
database's cache), plus PYTHONDONTWRITEBYTECODE and PYTHONPATH when they are set, and the
current folder has no .env file. To time another version of the code, extract it and put
it first on PYTHONPATH:

    .venv/bin/python bench/cli_speed.py --runs 10
    mkdir /tmp/old && git archive <commit> | tar -x -C /tmp/old
    PYTHONPATH=/tmp/old .venv/bin/python bench/cli_speed.py --runs 10
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reports import add_database_arguments, open_database

COMMANDS = (
    ("report", "--period", "last-month"),
    ("report", "--period", "last-month", "--format", "json"),
    ("--help",),
)
# Settings of this machine's environment that change how fast Python starts, or which code runs.
PASSED_THROUGH = ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")


def run_once(command: list[str], env: dict[str, str], cwd: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of the whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_database_arguments(parser)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    open_database(args.db, args.rows, args.users, datetime.now(UTC)).close()
    draftbot = str(Path(sys.executable).parent / "draftbot")  # the console script
    passed = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    with tempfile.TemporaryDirectory() as folder:
        env = {"PATH": os.environ["PATH"], "HOME": folder, "DATABASE_URL": f"sqlite:///{args.db}"}
        env.update(passed)
        walls: dict[tuple[str, ...], list[float]] = {command: [] for command in COMMANDS}
        cpus: dict[tuple[str, ...], list[float]] = {command: [] for command in COMMANDS}
        for run in range(args.runs + 1):
            for command in COMMANDS:
                wall, cpu = run_once([draftbot, *command], env, folder)
                if run:  # the first round warms the disk cache and the database's WAL
                    walls[command].append(wall)
                    cpus[command].append(cpu)
    settings = ", ".join(f"{k}={v}" for k, v in passed.items()) or "none"
    print(f"{args.runs} runs each, {os.cpu_count()} cores, environment passed through: {settings}")
    for command in COMMANDS:
        wall, cpu = walls[command], cpus[command]
        print(
            f"draftbot {' '.join(command)}: median {statistics.median(wall) * 1000:.0f} ms, "
            f"max {max(wall) * 1000:.0f} ms (CPU median {statistics.median(cpu) * 1000:.0f} ms)"
        )


if __name__ == "__main__":
    main()
