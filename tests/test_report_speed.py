"""What keeps `draftbot report` quick: the modules it loads, and exact percentiles computed
without sorting (bench/cli_speed.py measures the time itself; no test here times anything).

Each command runs in a fresh interpreter, as an admin runs it, and reports which of the
slow-to-import packages ended up in `sys.modules`.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.reports import _percentiles, percentile
from bot.storage import Store
from tests.test_reports import usage

# Never needed to print a report from SQLite without Slack.
SLACK_AND_MODEL = (
    "anthropic", "slack_bolt", "slack_sdk", "aiohttp", "asyncio", "handlers", "matplotlib",
    "psycopg", "sqlite_utils", "frontmatter",
)  # fmt: skip
# Needed to compute and print a report, not to show the help.
FIGURES = ("numpy", "tabulate", "concurrent")

PROBE = """
import json, sys
out, args = sys.argv[1], json.loads(sys.argv[2])
sys.argv = ["draftbot", *args]
from bot.cli import main
try:
    main()
except SystemExit as done:
    code = done.code
names = {name.split(".")[0] for name in sys.modules}
with open(out, "w") as file:
    json.dump({"exit": code, "modules": sorted(names)}, file)
"""


def loaded_by(args: list[str], tmp_path: Path, database: Path) -> tuple[int, set[str], str]:
    """(exit status, top-level packages loaded, standard output) of `draftbot ARGS`."""
    out = tmp_path / "modules.json"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{database}",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), json.dumps(args)],
        env=env,
        cwd=tmp_path,  # no .env file here
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    probe = json.loads(out.read_text())
    return probe["exit"], set(probe["modules"]), result.stdout


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "draftbot.db"
    store = Store(path)
    for record in [
        usage("U0ALEX", "email", "2026-11-03", latency_ms=900, ttft_ms=250),
        usage("U0ALEX", "code", "2026-11-04", latency_ms=2100, ttft_ms=400),
        usage("U0SAM", "email", "2026-11-05", latency_ms=1500, ttft_ms=300),
    ]:
        store.record_usage(record)
    store.save_person("U0SAM", "Sam Okafor", "")
    store.close()
    return path


def test_help_loads_none_of_the_slow_packages(tmp_path: Path, database: Path) -> None:
    code, modules, output = loaded_by(["--help"], tmp_path, database)
    assert code == 0 and "report" in output
    assert sorted(modules.intersection(SLACK_AND_MODEL + FIGURES)) == []


@pytest.mark.parametrize("output_format", ["table", "csv", "json"])
def test_report_without_slack_loads_neither_slack_nor_the_model(
    output_format: str, tmp_path: Path, database: Path
) -> None:
    args = ["report", "--since", "2026-11-01", "--until", "2026-11-30", "--format", output_format]
    code, modules, output = loaded_by(args, tmp_path, database)
    assert code == 0
    assert "Sam Okafor" in output  # the name cached in the database, without Slack
    assert sorted(modules.intersection(SLACK_AND_MODEL)) == []
    if output_format == "json":
        document = json.loads(output)
        assert document["total"]["requests"] == 3
        assert document["total"]["latency_p50_ms"] == 1500


def test_percentiles_without_sorting_equal_nearest_rank_over_sorted_values() -> None:
    rng = random.Random(7)
    for _ in range(300):
        arrays = [
            np.array([rng.randint(0, 50) for _ in range(rng.randint(0, 40))], dtype=np.int64)
            for _ in range(rng.randint(0, 4))
        ]
        ordered = sorted(int(value) for array in arrays for value in array)
        pcts = (50, 95, 1, 100, 99.9)
        assert _percentiles(arrays, pcts) == [percentile(ordered, pct) for pct in pcts]
